"""Page latency while a transcription runs: 20 users browse case pages, with and without.

Run: .venv/bin/python bench/bench_dictation_load.py [--users 20] [--seconds 30] [--think 1.0]
     [--workers 1]

The server is a real `casenotes serve` (one transcription worker, the bundled tiny.en) on a
temporary copy of the demo data with extra entries per case. Each simulated user opens a case
page, waits a think time (uniform 0.5x..1.5x `--think`), and opens another. The "with" phase
keeps the workers busy for the whole phase with long dictations made of every fixture clip.
The load generator runs on the same 2 cores as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import tempfile
import time
import wave
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import live_server, percentile, server_ms, summary  # noqa: E402
from service import accounts  # noqa: E402
from service.asr.audio import probe_audio  # noqa: E402
from service.demo import load_demo  # noqa: E402
from service.storage import entries as entry_rows  # noqa: E402
from service.storage.db import transaction  # noqa: E402
from service.storage.migrations import open_migrated  # noqa: E402

AUDIO = Path(__file__).resolve().parent.parent / "fixtures" / "audio"
WORDS_TEXT = ("visited mum and the children at home the kitchen was clean jack showed me his room "
              "amy was asleep school attendance has improved health visitor weighed the baby")
WORDS = WORDS_TEXT.split(" ")


def build(data_dir: Path, entries_per_case: int) -> tuple[list[int], str]:
    db = open_migrated(data_dir / "casenotes.db")
    load_demo(db)
    author = next(db.query("SELECT id FROM users WHERE username = 'worker'"))["id"]
    case_ids = [row["id"] for row in db.query(
        "SELECT cases.id FROM cases JOIN allocations ON allocations.case_id = cases.id"
        " WHERE allocations.user_id = ? AND allocations.ended_at IS NULL", [author])]
    rng = random.Random(4)
    with transaction(db):
        for case_id in case_ids:
            for n in range(entries_per_case):
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(80, 300)))
                when = f"20{20 + n % 6}-{1 + n % 12:02d}-{1 + n % 28:02d}T10:00"
                entry_id = entry_rows.insert_entry(db, case_id, author, "home_visit", when, text,
                                                   [])
                entry_rows.insert_revision(db, entry_id, "home_visit", when, text, [], author)
    token = accounts.create_token(db, "worker")
    db.close()
    return case_ids, token


def long_dictation(path: Path) -> float:
    """Every fixture clip end to end, as one 16 kHz WAV; returns its length in seconds."""
    pieces = [probe_audio(clip).samples for clip in sorted(AUDIO.glob("clip0*"))
              if clip.suffix != ".json" and clip.suffix != ".txt"]
    samples = np.concatenate(pieces)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return samples.size / 16000


def session_cookie(base: str) -> dict[str, str]:
    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"username": "worker", "password": "worker-demo-pass",
                                    "csrf_token": csrf})
        return dict(client.cookies)


async def browse(base: str, cookies: dict[str, str], case_ids: list[int], users: int,
                 seconds: float, think: float) -> tuple[list[float], list[float], int]:
    server, wall, errors = [], [], 0
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=30, cookies=cookies,
                                 limits=httpx.Limits(max_connections=users)) as client:
        async def user(n: int) -> None:
            nonlocal errors
            rng = random.Random(n)
            await asyncio.sleep(rng.uniform(0, think))
            while time.monotonic() < deadline:
                started = time.perf_counter()
                response = await client.get(f"/cases/{rng.choice(case_ids)}")
                wall.append((time.perf_counter() - started) * 1000)
                if response.status_code == 200:
                    server.append(server_ms(response))
                else:
                    errors += 1
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

        await asyncio.gather(*(user(n) for n in range(users)))
    return server, wall, errors


def dictate(base: str, token: str, case_id: int, audio: Path) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        job = client.post("/api/v1/dictations", json={"filename": audio.name,
                                                       "case_id": case_id}).json()
        data = audio.read_bytes()
        for offset in range(0, len(data), 1024 * 1024):
            client.put(f"/api/v1/dictations/{job['id']}/audio?offset={offset}",
                       content=data[offset:offset + 1024 * 1024])
        done = client.post(f"/api/v1/dictations/{job['id']}/complete").json()
        assert done["status"] == "queued", done
        return int(job["id"])


def job_state(base: str, token: str, job_id: int) -> dict:
    return httpx.get(f"{base}/api/v1/dictations/{job_id}",
                     headers={"Authorization": f"Bearer {token}"}, timeout=30).json()


def cancel(base: str, token: str, job_ids: list[int]) -> None:
    for job_id in job_ids:
        httpx.post(f"{base}/api/v1/dictations/{job_id}/cancel",
                   headers={"Authorization": f"Bearer {token}"}, timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30, help="per phase, over all rounds")
    parser.add_argument("--rounds", type=int, default=3,
                        help="without/with phases alternate this many times (evens out drift)")
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--entries", type=int, default=200, help="extra entries per case")
    parser.add_argument("--workers", type=int, default=1, help="transcription workers")
    args = parser.parse_args()
    print("Dictation load benchmark: .venv/bin/python bench/bench_dictation_load.py "
          f"--users {args.users} --seconds {args.seconds:g} --rounds {args.rounds} "
          f"--think {args.think:g} --workers {args.workers}")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        case_ids, token = build(data_dir, args.entries)
        audio = data_dir / "long-dictation.wav"
        length = long_dictation(audio)
        env = {"CASENOTES_TRANSCRIPTION_WORKERS": str(args.workers)}
        with live_server(data_dir, env) as base:
            cookies = session_cookie(base)
            asyncio.run(browse(base, cookies, case_ids, 4, 3, args.think))  # warm up
            results: dict[str, tuple[list[float], list[float]]] = {"without": ([], []),
                                                                   "with": ([], [])}
            errors, firsts, heard = 0, [], 0.0
            seconds = args.seconds / args.rounds
            for _ in range(args.rounds):
                for phase in ("without", "with"):
                    jobs: list[int] = []
                    if phase == "with":
                        sent = time.monotonic()
                        jobs = [dictate(base, token, case_ids[0], audio)]
                        queued = time.monotonic()
                        while not job_state(base, token, jobs[0])["segment_count"]:
                            assert time.monotonic() < sent + 60, "no text after 60 s"
                            time.sleep(0.05)
                        firsts.append((queued - sent, time.monotonic() - queued))
                        # One long dictation per worker (and one waiting): busy all phase.
                        jobs += [dictate(base, token, case_ids[0], audio)
                                 for _ in range(args.workers)]
                    server, wall, failed = asyncio.run(
                        browse(base, cookies, case_ids, args.users, seconds, args.think))
                    results[phase][0].extend(server)
                    results[phase][1].extend(wall)
                    errors += failed
                    if jobs:
                        states = [job_state(base, token, job_id) for job_id in jobs]
                        assert any(s["status"] == "running" for s in states), "worker went idle"
                        heard += sum(s["progress"] * length for s in states)
                        cancel(base, token, jobs)
                        time.sleep(1)  # let the worker notice (it stops at its next segment)
            for phase in ("without", "with"):
                server, wall = results[phase]
                print(f"{phase} a transcription running: {args.users} users, {len(wall)} case "
                      f"pages in {args.seconds:g} s")
                print(f"  server time: {summary(server)}")
                print(f"  client wall: {summary(wall)}")
            print(f"errors: {errors}")
            print(f"a {length:.0f} s dictation ({audio.stat().st_size / 1e6:.1f} MB WAV): upload "
                  "and check, then first text after it was queued: "
                  + ", ".join(f"{a:.2f} s + {b:.2f} s" for a, b in firsts))
            print(f"transcribed while the users browsed: {heard:.0f} s of audio in {args.seconds:g} s"
                  f" (~{heard / args.seconds:.1f}x real time)")
            without, with_ = (percentile(results[p][1], 95) for p in ("without", "with"))
            print(f"Page p95 (client wall): {without:.1f} ms without, {with_:.1f} ms with a "
                  f"transcription running ({args.workers} worker(s) at nice 10, "
                  f"{args.rounds} alternating rounds).")


if __name__ == "__main__":
    main()
