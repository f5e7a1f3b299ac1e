"""Manager view and chronology PDF benchmarks.

The manager view for a team of 20 workers with 600 cases and 200,000 entries (with confirmed
facts and decisions on them), and a chronology PDF of 500 events: time and size.

Run: .venv/bin/python bench/bench_dashboard.py [--entries 200000] [--cases 600] [--workers 20]
     [--years 4] [--rounds 40] [--events 500] [--keep DIR]
"""

from __future__ import annotations

import argparse
import io
import random
import re
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import live_server, server_ms, summary  # noqa: E402
from service.demo import load_demo  # noqa: E402
from service.storage import open_db  # noqa: E402
from service.storage.db import transaction  # noqa: E402
from service.storage.migrations import open_migrated  # noqa: E402

WORDS_TEXT = """visited mum and the children at home the kitchen was clean jack showed me his room
amy was asleep school attendance has improved health visitor weighed the baby concerns about
arguments in the evening plan agreed with family next visit in two weeks nan helps with the
school run"""
WORDS = WORDS_TEXT.split()
RISKS = ["domestic_abuse", "neglect", "substance_misuse", "physical_injury",
         "parental_mental_health", "missing_from_home", "exploitation", "self_harm"]
TAGS = ["health", "education", "emotional_wellbeing", "family_relationships", "basic_care",
        "housing", "finances", "child_voice"]
RULES = ["phrases", "patterns", "context.negation", "kinship"]
KINDS = ["home_visit", "office_visit", "phone_call", "school_visit", "meeting"]


def build(data_dir: Path, entries: int, cases: int, workers: int, years: float,
          events: int) -> tuple[int, dict[str, int]]:
    """The demo, plus a big Riverside caseload written straight into the tables."""
    started = time.perf_counter()
    db = open_migrated(data_dir / "casenotes.db")
    load_demo(db)
    rng = random.Random(7)
    team = next(db.query("SELECT id FROM teams WHERE name = 'Riverside Family Support'"))["id"]
    stamp = datetime.now().replace(microsecond=0)
    counts = {"facts": 0, "decisions": 0}
    with transaction(db):
        worker_ids = [db.execute(
            "INSERT INTO users (username, display_name, password_hash, team_id, created_at)"
            " VALUES (?, ?, 'x', ?, ?)", [f"bench{n}", f"Bench Worker {n}", team,
                                          stamp.isoformat()]).lastrowid for n in range(workers)]
        for user_id in worker_ids:
            db.execute("INSERT INTO user_roles (user_id, role) VALUES (?, 'worker')", [user_id])
        case_rows = []
        for n in range(cases + 1):  # the last one is the chronology-PDF case
            case_id = db.execute(
                "INSERT INTO cases (reference, family_name, team_id, created_at)"
                " VALUES (?, ?, ?, ?)", [f"BEN-{n:04d}", f"Family{n:04d}", team,
                                         stamp.isoformat()]).lastrowid
            children = [db.execute(
                "INSERT INTO people (case_id, name, category, relationship, dob, is_subject,"
                " created_at, updated_at) VALUES (?, ?, 'child', 'child', '2015-01-01', 1, ?, ?)",
                [case_id, f"Child{n}-{c}", stamp.isoformat(), stamp.isoformat()]).lastrowid
                for c in range(2)]
            case_rows.append((case_id, children, worker_ids[n % workers]))
            db.execute("INSERT INTO allocations (case_id, user_id, allocated_at) VALUES (?, ?, ?)",
                       [case_id, worker_ids[n % workers], stamp.isoformat()])
        span = years * 365 * 24 * 3600
        plan = [(case_rows[rng.randrange(cases)], stamp - timedelta(seconds=rng.random() * span))
                for _ in range(entries)]
        plan += [(case_rows[-1], stamp - timedelta(days=rng.random() * 900)) for _ in range(events)]
        _insert_entries(db, plan, rng, counts, pdf_case=case_rows[-1][0])
    db.conn.execute("ANALYZE")
    db.close()
    print(f"  built {entries:,} entries on {cases} cases, {workers} workers, {counts['facts']:,} "
          f"facts, {counts['decisions']:,} decisions in {time.perf_counter() - started:.0f} s")
    return case_rows[-1][0], counts


def _insert_entries(db, plan, rng: random.Random, counts: dict[str, int], pdf_case: int) -> None:
    """Entries with one revision each, confirmed facts on them, and the decisions behind."""
    next_entry = (db.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()[0]) + 1
    next_decision = (db.execute("SELECT coalesce(max(id), 0) FROM decisions").fetchone()[0]) + 1
    entries, revisions, facts, decisions = [], [], [], []
    for (case_id, children, author), when in plan:
        occurred = when.isoformat(timespec="minutes")
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 90)))
        kind = rng.choice(KINDS)
        entries.append((next_entry, case_id, author, kind, occurred, occurred, occurred))
        revisions.append((next_entry, kind, occurred, text, f"[{children[0]}, {children[1]}]",
                          author, occurred))
        wanted = []
        if case_id == pdf_case:  # every entry of the PDF case has a confirmed risk: an event
            wanted.append(("risk", rng.choice(RISKS), "present", None))
        else:
            for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
                wanted.append(("risk", rng.choice(RISKS), rng.choice(
                    ("present", "present", "negated", "possible")), None))
            for _ in range(rng.choice((0, 1, 1, 2))):
                wanted.append(("tag", rng.choice(TAGS), None, None))
            if rng.random() < 0.5:
                wanted.append(("child_seen", None, None, rng.choice(children)))
        for kind_, label, assertion, person in wanted:
            decision = rng.choice(("accepted", "accepted", "accepted", "edited", "added"))
            decisions.append((next_decision, next_entry, decision, kind_,
                              None if decision == "added" else rng.choice(RULES), author,
                              occurred))
            facts.append((next_entry, case_id, kind_, 0, 5, text[:5], person, label, assertion,
                          int(rng.random() < 0.4) if person else None, next_decision, author,
                          occurred))
            next_decision += 1
        if rng.random() < 0.3:
            decisions.append((next_decision, next_entry, "rejected", "risk", rng.choice(RULES),
                              author, occurred))
            next_decision += 1
        next_entry += 1
    db.conn.executemany(
        "INSERT INTO entries (id, case_id, author_id, status, kind, occurred_at, created_at,"
        " finalised_at, revision_count) VALUES (?, ?, ?, 'final', ?, ?, ?, ?, 1)", entries)
    db.conn.executemany(
        "INSERT INTO entry_revisions (entry_id, number, kind, occurred_at, text, children,"
        " author_id, created_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?)", revisions)
    db.conn.executemany(
        "INSERT INTO decisions (id, entry_id, decision, kind, fields, rule, pipeline_version,"
        " decided_by, decided_at) VALUES (?, ?, ?, ?, '{}', ?, 'bench', ?, ?)", decisions)
    db.conn.executemany(
        'INSERT INTO facts (entry_id, case_id, revision, kind, start, "end", text, person_id,'
        " label, assertion, alone, decision_id, confirmed_by, confirmed_at)"
        " VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", facts)
    counts["facts"] += len(facts)
    counts["decisions"] += len(decisions)


def _signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": "manager", "password": "manager-demo-pass",
                                "csrf_token": csrf})
    return client


def timed(client: httpx.Client, path: str, rounds: int) -> tuple[list[float], list[float],
                                                                  httpx.Response]:
    server, wall = [], []
    response = client.get(path)  # warm the connection and SQLite's page cache
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path)
        wall.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        server.append(server_ms(response))
    return server, wall, response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--years", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--keep", type=Path, help="build into (or reuse) this directory")
    args = parser.parse_args()
    print("Dashboard benchmark: .venv/bin/python bench/bench_dashboard.py "
          f"--entries {args.entries} --cases {args.cases} --workers {args.workers} "
          f"--years {args.years:g} --rounds {args.rounds} --events {args.events}")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.keep or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        if (data_dir / "casenotes.db").exists():
            pdf_case = next(open_db(data_dir / "casenotes.db").query(
                "SELECT max(id) AS id FROM cases"))["id"]
            print(f"  reusing {data_dir / 'casenotes.db'}")
        else:
            pdf_case, _ = build(data_dir, args.entries, args.cases, args.workers, args.years,
                                args.events)
        with live_server(data_dir, {"CASENOTES_LOAD_MODELS": "0"}) as base:
            client = _signed_in(base)
            print(f"Manager view, 12 months of a {args.years:g}-year caseload "
                  "(target p95 < 200 ms):")
            for label, path in (("page  /dashboard", "/dashboard"),
                                ("JSON  /api/v1/dashboard", "/api/v1/dashboard"),
                                ("page  /dashboard?months=24", "/dashboard?months=24"),
                                ("entries behind one number", "/dashboard/entries?kind=risk"
                                                              "&label=neglect")):
                server, wall, response = timed(client, path, args.rounds)
                print(f"  {label}: server {summary(server)}; wall {summary(wall)}; "
                      f"{len(response.content) / 1024:.0f} KiB")
            print(f"Chronology PDF of {args.events} events (one case):")
            server, wall, response = timed(client, f"/cases/{pdf_case}/chronology.pdf", 3)
            import pypdf

            pages = len(pypdf.PdfReader(io.BytesIO(response.content)).pages)
            print(f"  PDF: server {summary(server)}; wall {summary(wall)}; "
                  f"{len(response.content) / 1024:.0f} KiB, {pages} pages")
            server, wall, response = timed(client, f"/cases/{pdf_case}/chronology.csv", 5)
            print(f"  CSV: server {summary(server)}; {len(response.content) / 1024:.0f} KiB, "
                  f"{response.text.count(chr(10)) - 1} events")
            server, wall, response = timed(client, f"/cases/{pdf_case}/chronology", 5)
            print(f"  chronology page: server {summary(server)}")
            client.close()


if __name__ == "__main__":
    main()
