"""Confirmation benchmarks: suggest-to-highlight in the browser for a 1,000-word note, and
finalising an entry with 50 confirmed facts (server time).

Run: .venv/bin/python bench/bench_review.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import live_server, server_ms, summary  # noqa: E402
from service import accounts  # noqa: E402
from service.demo import load_demo  # noqa: E402
from service.storage.migrations import open_migrated  # noqa: E402

SENTENCES = [
    "Home visit to Sarah and Jack after school.",
    "Jack was seen alone in his bedroom and showed me his drawings.",
    "He had a small bruise on his arm which he said happened at football.",
    "Sarah denies drinking but the flat smelt of alcohol.",
    "Mark was not present; Sarah said he is staying with his brother.",
    "Amy was asleep in her cot and looked clean and well cared for.",
    "Priya Shah (HV) will weigh Amy next Tuesday.",
    "Mrs Adams said Jack's attendance has improved to 94% this term.",
    "There was food in the fridge and the kitchen was clean.",
    "Nan (Pauline) helps with the school run on Mondays and Fridays.",
    "Sarah said she has been feeling low and has an appointment with her GP on Friday.",
    "We talked about the safety plan and who Jack can talk to if he is worried.",
]


def note(words: int, seed: int = 3) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    while sum(len(s.split()) for s in out) < words:
        out.append(rng.choice(SENTENCES))
    return " ".join(out)


def browser_round_trips(base: str, text: str, rounds: int) -> list[float]:
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(base + "/login")
        page.get_by_label("Username").fill("worker")
        page.get_by_label("Password").fill("worker-demo-pass")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + "/")
        page.get_by_role("link", name="Jones").click()
        page.get_by_role("button", name="Add an entry").click()
        page.get_by_label("What happened").fill(text)
        page.wait_for_function("window.casenotesDraft && window.casenotesDraft.entryId()")
        for n in range(rounds + 1):
            page.evaluate("window.casenotesReview.suggestToPaintMs = null")
            page.evaluate("window.casenotesReview.run(true)")
            page.wait_for_function("window.casenotesReview.suggestToPaintMs !== null")
            if n:  # the first round warms caches
                times.append(page.evaluate("window.casenotesReview.suggestToPaintMs"))
        marks = page.locator("#text-backdrop mark").count()
        browser.close()
    print(f"  highlighted spans on the page: {marks}")
    return times


def finalise_with_facts(base: str, token: str, case_id: int, rounds: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    text = note(400, seed=11)
    server, counts = [], []
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for _ in range(rounds):
            entry = client.post(f"/api/v1/cases/{case_id}/entries", json={
                "kind": "home_visit", "occurred_at": "2026-03-11T10:00", "text": text}).json()
            state = client.post(f"/api/v1/entries/{entry['id']}/suggestions").json()
            bulk = [s["id"] for s in state["suggestions"] if s["kind"] in ("person", "date")]
            others = [s["id"] for s in state["suggestions"] if s["kind"] not in ("person", "date")]
            client.post(f"/api/v1/entries/{entry['id']}/decisions/bulk",
                        json={"suggestion_ids": bulk[:50]})
            for sid in others[: max(0, 50 - len(bulk))]:
                client.post(f"/api/v1/entries/{entry['id']}/decisions",
                            json={"suggestion_id": sid, "decision": "accept"})
            response = client.post(f"/api/v1/entries/{entry['id']}/finalise")
            server.append(server_ms(response))
            counts.append(response.json()["facts_stored"])
    print(f"  finalise with {min(counts)}-{max(counts)} confirmed facts: server {summary(server)}"
          " (target < 100 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    print(f"Review benchmark: .venv/bin/python bench/bench_review.py --rounds {args.rounds}")
    text = note(1000)
    print(f"  note: {len(text.split())} words")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        db = open_migrated(data_dir / "casenotes.db")
        load_demo(db)
        token = accounts.create_token(db, "worker")
        case_id = next(db.query("SELECT id FROM cases WHERE reference = 'RFS-1042'"))["id"]
        db.close()
        with live_server(data_dir) as base:
            times = browser_round_trips(base, text, args.rounds)
            print(f"  'Suggest' to highlighted spans in chromium (1,000 words): {summary(times)}"
                  " (target < 300 ms)")
            finalise_with_facts(base, token, case_id, args.rounds)


if __name__ == "__main__":
    main()


