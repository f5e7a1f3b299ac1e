"""Search benchmark: a synthetic authority, a query set, our search against raw FTS5 SQL.

Run:  .venv/bin/python bench/bench_search.py --entries 1000000 [--runs 20] [--db PATH]

Builds (or reuses, with --db on an existing file) an authority with bench/authority.py, then
times each query of the set through service.search.search (parsing, access scoping, page,
snippets, facet counts and the access-log write), and the very same SELECT statements it
issued replayed as raw SQL on a bare sqlite3 connection (the baseline), taken in turn within
each run. Also: the bulk index build rate, the live (trigger) indexing rate, and database size
per entry. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.authority import build  # noqa: E402
from bench.common import percentile  # noqa: E402
from service import accounts, search  # noqa: E402
from service.nlp.rule_files import shared_rule_files  # noqa: E402
from service.nlp.taxonomy import Taxonomy  # noqa: E402
from service.settings import Settings  # noqa: E402
from service.storage import open_db  # noqa: E402

# (name, user, parameters). "reviewer" sees team 1 (1,000 families at full size);
# "worker" is allocated about 25 of them.
QUERIES: list[tuple[str, str, dict[str, str]]] = [
    ("word, common", "reviewer", {"q": "school"}),
    ("word, rarer", "reviewer", {"q": "trampoline"}),
    ("word forms", "reviewer", {"q": "bruising"}),
    ("phrase", "reviewer", {"q": '"seen alone"'}),
    ("prefix", "reviewer", {"q": "feed*"}),
    ("OR, -exclusion", "reviewer", {"q": "nursery OR football -attendance"}),
    ("US spelling", "reviewer", {"q": "behavior"}),
    ("by date", "reviewer", {"q": "drinking", "order": "newest"}),
    ("filter kind+date", "reviewer", {"q": "school", "kind": "home_visit", "from": "2023-01-01"}),
    ("filter theme", "reviewer", {"q": "visit", "tag": "health"}),
    ("filter risk", "reviewer", {"q": "bruise", "risk": "physical_injury",
                                 "assertion": "present"}),
    ("filters only", "reviewer", {"seen": "alone", "from": "2024-01-01", "to": "2024-03-31"}),
    ("within a case", "reviewer", {"q": "school", "case": "CASE"}),
    ("worker caseload", "worker", {"q": "school"}),
    ("worker, phrase", "worker", {"q": '"feeding plan"'}),
]


def _taxonomy() -> Taxonomy:
    """The bundled taxonomy, as the app holds it (loaded once; a stat per call after)."""
    return shared_rule_files(Settings().models_dir).taxonomy


def _users(db: Any) -> dict[str, accounts.User]:
    worker = next(db.query("SELECT username FROM users WHERE username LIKE 'worker1-%'"
                           " AND id IN (SELECT user_id FROM allocations) ORDER BY id LIMIT 1"))
    return {"reviewer": accounts.get_user_by_name(db, "reviewer1"),
            "worker": accounts.get_user_by_name(db, worker["username"])}


class Timer:
    """Wall-clock and this thread's CPU milliseconds per run. On a shared machine the CPU
    figure is the steadier one: it leaves out time spent waiting for a core."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.thread_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall.append((time.perf_counter() - self._wall) * 1000)
        self.cpu.append((time.thread_time() - self._cpu) * 1000)


def _statements(db: Any, user: accounts.User, params: dict[str, str]
                ) -> tuple[list[str], int]:
    """The SELECTs one search issues (parameters expanded), and how many results it has."""
    statements: list[str] = []
    wanted, hints = search.request_from(params)
    db.conn.set_trace_callback(statements.append)
    try:
        results = search.search(db, user, wanted, hints, taxonomy=_taxonomy())
    finally:
        db.conn.set_trace_callback(None)
    return [sql for sql in statements
            if sql.lstrip().upper().startswith(("SELECT", "WITH"))], results.total


def _time_all(db: Any, conn: sqlite3.Connection, user: accounts.User, params: dict[str, str],
              reads: list[str], runs: int) -> tuple[Timer, Timer, Timer]:
    """Ours, the same SELECTs raw, and ours without facets, taken in turn within each run,
    so that all three meet the same machine (a shared host drifts by tens of percent)."""
    ours, raw, lean = Timer(), Timer(), Timer()
    for _ in range(runs):
        with ours:
            wanted, hints = search.request_from(params)
            search.search(db, user, wanted, hints, taxonomy=_taxonomy())
        with raw:
            for sql in reads:
                conn.execute(sql).fetchall()
        with lean:
            wanted, hints = search.request_from(params)
            search.search(db, user, wanted, hints, facets=False, taxonomy=_taxonomy())
    return ours, raw, lean


def _live_index_rate(path: Path, count: int) -> float:
    """Entries per second indexed by the trigger as final revisions are inserted."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    top = conn.execute("SELECT max(id) FROM entries").fetchone()[0]
    top_revision = conn.execute("SELECT max(id) FROM entry_revisions").fetchone()[0]
    sample = [row[0] for row in conn.execute(
        "SELECT text FROM entry_revisions ORDER BY id LIMIT ?", [count])]
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO entries (id, case_id, author_id, status, kind, occurred_at,"
                     " created_at, finalised_at, revision_count) SELECT ?, 1, author_id,"
                     " 'final', kind, occurred_at, created_at, created_at, 1 FROM"
                     " entry_revisions WHERE id = 1",
                     [(top + i + 1,) for i in range(count)])
    conn.executemany("INSERT INTO entry_revisions (id, entry_id, number, kind, occurred_at, text,"
                     " author_id, created_at) SELECT ?, ?, 1, kind, occurred_at, ?, author_id,"
                     " created_at FROM entry_revisions WHERE id = 1",
                     [(top_revision + i + 1, top + i + 1, text) for i, text in enumerate(sample)])
    conn.execute("ROLLBACK")  # measured, then left out of the database
    elapsed = time.perf_counter() - started
    conn.close()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description="Search benchmark (prints figures)")
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", type=Path, default=None,
                        help="Authority file to build, or reuse if it exists")
    parser.add_argument("--keep", action="store_true", help="Keep a temporary authority file")
    parser.add_argument("--considered", type=int, default=search.CONSIDERED,
                        help="How many of the newest matches relevance and facets consider")
    args = parser.parse_args()
    search.CONSIDERED = args.considered
    workdir = None
    if args.db is None:
        workdir = tempfile.mkdtemp(prefix="casenotes-search-bench-")
        args.db = Path(workdir) / "authority.db"
    built = None
    if not args.db.exists():
        built = build(args.db, args.entries)
    db = open_db(args.db)
    conn = sqlite3.connect(str(args.db), isolation_level=None)
    entries = next(db.query("SELECT count(*) AS n FROM entries"))["n"]
    users = _users(db)
    case = next(db.query("SELECT case_id FROM allocations WHERE user_id = ? LIMIT 1",
                         [users["worker"].id]))["case_id"]
    visible = {name: len(search._visible_cases(db, user)) for name, user in users.items()}

    print(f"\nSearch benchmark: {entries:,} entries; reviewer sees {visible['reviewer']:,} "
          f"cases, worker {visible['worker']}; {args.runs} timed runs per query, 1 CPU thread"
          f" ({os.cpu_count()} cores on this machine)\n")
    print(f"relevance and facets over the newest {search.CONSIDERED:,} matches (--considered)")
    print("milliseconds; wall = elapsed, cpu = this thread's CPU time (see Timer)")
    print(f"{'query':<18} {'hits':>6} | {'ours wall p50':>13} {'p95':>6} | {'ours cpu p50':>12}"
          f" {'p95':>6} | {'raw cpu p50':>11} {'p95':>6} | {'ours/raw':>8} |"
          f" {'no facets cpu p50':>17} {'p95':>6}")
    totals: dict[str, list[float]] = {"wall": [], "cpu": [], "raw": [], "raw_wall": [],
                                      "lean": [], "lean_wall": []}
    for name, who, params in QUERIES:
        params = {k: (str(case) if v == "CASE" else v) for k, v in params.items()}
        reads, hits = _statements(db, users[who], params)
        ours, raw, lean = _time_all(db, conn, users[who], params, reads, args.runs)
        totals["wall"] += ours.wall
        totals["cpu"] += ours.cpu
        totals["raw"] += raw.cpu
        totals["raw_wall"] += raw.wall
        totals["lean"] += lean.cpu
        totals["lean_wall"] += lean.wall
        ratio = percentile(ours.cpu, 50) / max(percentile(raw.cpu, 50), 1e-6)
        print(f"{name:<18} {hits:>6,} | {percentile(ours.wall, 50):>13.1f}"
              f" {percentile(ours.wall, 95):>6.1f} | {percentile(ours.cpu, 50):>12.1f}"
              f" {percentile(ours.cpu, 95):>6.1f} | {percentile(raw.cpu, 50):>11.1f}"
              f" {percentile(raw.cpu, 95):>6.1f} | {ratio:>8.2f} |"
              f" {percentile(lean.cpu, 50):>17.1f} {percentile(lean.cpu, 95):>6.1f}")

    def line(label: str, values: list[float]) -> str:
        return f"{label} p50 {percentile(values, 50):.1f}, p95 {percentile(values, 95):.1f}"

    print("\nall queries, ms: " + "; ".join([
        line("ours wall", totals["wall"]), line("ours cpu", totals["cpu"]),
        line("raw cpu", totals["raw"]), line("raw wall", totals["raw_wall"])]))
    print(f"ours/raw: cpu p50 {percentile(totals['cpu'], 50) / percentile(totals['raw'], 50):.2f},"
          f" cpu p95 {percentile(totals['cpu'], 95) / percentile(totals['raw'], 95):.2f}; "
          f"wall p50 {percentile(totals['wall'], 50) / percentile(totals['raw_wall'], 50):.2f}")
    print("without facets (API facets=false), ms: " + "; ".join([
        line("cpu", totals["lean"]), line("wall", totals["lean_wall"])]))
    print("(ours: parse, visible cases, page, snippets, counts and facets, labels, narrative "
          "positions, access-log write; raw: the same SELECTs on a bare connection)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    if built:
        print(f"\nbulk load {built.load_seconds:.1f} s; index build ('rebuild') "
              f"{built.revisions / built.index_seconds:,.0f} revisions/s "
              f"({built.revisions:,} in {built.index_seconds:.1f} s), then 'optimize' "
              f"{built.optimize_seconds:.1f} s")
    print(f"live indexing through the trigger: {_live_index_rate(args.db, 10_000):,.0f} "
          "entries/s (10,000 inserted in one transaction, rolled back)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = args.db.stat().st_size
    try:
        index = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'entry_search%'"
                             ).fetchone()[0]
        text = conn.execute("SELECT sum(length(text)) FROM entry_revisions").fetchone()[0]
        print(f"database {size / 1e6:,.0f} MB = {size / entries:,.0f} bytes per entry; search "
              f"index {index / 1e6:,.0f} MB = {index / entries:,.0f} bytes per entry "
              f"(entry text averages {text / entries:,.0f} characters)")
    except sqlite3.OperationalError:
        print(f"database {size / 1e6:,.0f} MB = {size / entries:,.0f} bytes per entry")
    print(f"\nreproduce: .venv/bin/python bench/bench_search.py --entries {args.entries} "
          f"--runs {args.runs} --considered {args.considered}"
          + (f" --db {args.db}" if not workdir or args.keep else ""))
    db.close()
    conn.close()
    if workdir and not args.keep:
        for leftover in Path(workdir).iterdir():
            leftover.unlink()
        os.rmdir(workdir)


if __name__ == "__main__":
    main()
