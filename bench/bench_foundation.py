"""Foundation benchmarks: the case page with 2,000 entries, and 50 concurrent API writers.

Run: .venv/bin/python bench/bench_foundation.py [--entries 2000] [--writers 50] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import live_server, server_ms, summary  # noqa: E402
from service import accounts  # noqa: E402
from service.demo import load_demo  # noqa: E402
from service.storage import entries as entry_rows  # noqa: E402
from service.storage import open_db  # noqa: E402
from service.storage.db import transaction  # noqa: E402
from service.storage.migrations import open_migrated  # noqa: E402

WORDS_TEXT = """visited mum and the children at home the kitchen was clean jack showed me his room
amy was asleep school attendance has improved health visitor weighed the baby concerns about
arguments in the evening plan agreed with family next visit in two weeks nan helps with the
school run"""


def build(data_dir: Path, entries: int) -> tuple[int, str]:
    db = open_migrated(data_dir / "casenotes.db")
    load_demo(db)
    case_id = next(db.query("SELECT id FROM cases WHERE reference = 'RFS-1042'"))["id"]
    author = next(db.query("SELECT id FROM users WHERE username = 'worker'"))["id"]
    rng = random.Random(7)
    words = WORDS_TEXT.split()
    with transaction(db):
        for n in range(entries):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(80, 400)))
            when = f"20{18 + n % 8}-{1 + n % 12:02d}-{1 + n % 28:02d}T{8 + n % 10:02d}:00"
            entry_id = entry_rows.insert_entry(db, case_id, author, "home_visit", when, text, [])
            entry_rows.insert_revision(db, entry_id, "home_visit", when, text, [], author)
    token = accounts.create_token(db, "worker")
    db.close()
    return case_id, token


def case_page(base: str, case_id: int, token: str, rounds: int) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/login")
        import re

        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"username": "worker", "password": "worker-demo-pass",
                                    "csrf_token": csrf})
        for order in ("newest", "oldest"):
            server, wall = [], []
            for _ in range(rounds):
                started = time.perf_counter()
                response = client.get(f"/cases/{case_id}?order={order}")
                wall.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
                server.append(server_ms(response))
            print(f"  case page ({order} first, 50 of {response.text.count('cn-entry__text')} "
                  f"shown): server {summary(server)}; wall {summary(wall)}")


async def writers(base: str, case_id: int, token: str, count: int, seconds: float,
                  db_path: Path, interval: float) -> None:
    """Each writer adds entries back to back (interval 0) or one every `interval` seconds."""
    before = open_db(db_path)["entries"].count
    acknowledged, failures, latencies, server = 0, 0, [], []
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=count)

    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        async def writer(n: int) -> None:
            nonlocal acknowledged, failures
            i = 0
            await asyncio.sleep(interval * n / count)  # spread paced writers over the interval
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.post(f"/api/v1/cases/{case_id}/entries", json={
                        "kind": "phone_call", "text": f"Writer {n} note {i}: rang the school."})
                except httpx.TransportError:
                    failures += 1  # not acknowledged: the writer would retry
                    i += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                server.append(server_ms(response))
                if response.status_code == 201:
                    acknowledged += 1
                else:
                    failures += 1
                i += 1
                if interval:
                    await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))

        await asyncio.gather(*(writer(n) for n in range(count)))
    stored = open_db(db_path)["entries"].count - before
    mode = f"each every {interval:g} s" if interval else "back to back"
    print(f"  {count} writers ({mode}) for {seconds:.0f} s: acknowledged {acknowledged}, stored {stored}, "
          f"errors {failures}, {acknowledged / seconds:.0f} entries/s")
    print(f"  write latency, server time: {summary(server)}")
    print(f"  write latency, client wall on loopback (client shares the 2 cores): "
          f"{summary(latencies)}")
    print(f"  acknowledged == stored: {acknowledged == stored}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    print("Foundation benchmark: .venv/bin/python bench/bench_foundation.py "
          f"--entries {args.entries} --writers {args.writers} --seconds {args.seconds:.0f}")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        case_id, token = build(data_dir, args.entries)
        with live_server(data_dir) as base:
            print(f"Case page with {args.entries} entries (target p95 < 150 ms):")
            case_page(base, case_id, token, args.rounds)
            print("Concurrent writers through the API (target p95 < 100 ms, none lost):")
            for interval in (1.0, 0.0):
                asyncio.run(writers(base, case_id, token, args.writers, args.seconds,
                                    data_dir / "casenotes.db", interval))


if __name__ == "__main__":
    main()
