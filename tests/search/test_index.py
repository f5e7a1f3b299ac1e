"""The index and the entries agree: after random finalises and amendments, after reindex,
and through the `casenotes reindex` and `casenotes search` commands."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlite_utils import Database

from service import entries, review, search
from service.accounts import User
from service.search_query import spellings
from service.storage import search as search_rows
from service.storage import search_index
from tests.conftest import bundled_taxonomy

ROOT = Path(__file__).resolve().parents[2]
WORDS = ["apple", "banjo", "cactus", "dingo", "ember", "falcon", "glacier", "harbour", "harbor",
         "igloo", "jasmine"]


def _found(db: Database, who: User, q: str, revisions: str = "latest") -> set[tuple[int, int]]:
    """Every (entry, revision) a search finds, over all its pages."""
    found: set[tuple[int, int]] = set()
    page = 1
    while True:
        wanted, _ = search.request_from({"q": q, "revisions": revisions, "page": str(page)})
        results = search.search(db, who, wanted, taxonomy=bundled_taxonomy())
        found |= {(h["entry_id"], h["revision"]) for h in results.hits}
        if page >= results.pages:
            assert len(found) == results.total
            return found
        page += 1


def _expected(texts: dict[int, list[str]], word: str, latest_only: bool
              ) -> set[tuple[int, int]]:
    wanted = set(spellings(word))
    found = set()
    for entry_id, revisions in texts.items():
        numbered = list(enumerate(revisions, start=1))
        for number, text in numbered[-1:] if latest_only else numbered:
            if wanted & set(text.lower().replace(".", "").split()):
                found.add((entry_id, number))
    return found


def _check(db: Database, who: User, texts: dict[int, list[str]]) -> None:
    assert search_index.index_agrees(db)
    stored = sum(len(r) for r in texts.values())
    assert search_index.indexed_count(db) == search_index.revision_count(db) >= stored
    for word in WORDS:
        assert _found(db, who, word) == _expected(texts, word, True), word
        assert _found(db, who, word, "all") == _expected(texts, word, False), word


def test_index_agrees_with_entries_after_random_changes(
        demo_db: Database, write: Callable[..., int], user: Callable[[str], User]) -> None:
    rng = random.Random(20261122)
    worker, reviewer = user("worker"), user("reviewer")
    texts: dict[int, list[str]] = {}
    # Only words from WORDS, so the model above knows exactly what each search should find.
    demo_ids = [r["id"] for r in demo_db.query("SELECT id FROM entries")]
    for entry_id in demo_ids:
        texts[entry_id] = []  # demo entries hold none of WORDS
    for step in range(120):
        action = rng.random()
        if action < 0.45 or len(texts) == len(demo_ids):
            reference = rng.choice(["RFS-1042", "RFS-1077", "RFS-1103"])
            text = " ".join(rng.choices(WORDS, k=rng.randint(1, 6))) + "."
            texts[write(reference, text, when=f"2026-0{1 + step % 9}-1{step % 10}T09:00")] = [text]
        elif action < 0.85:
            entry_id = rng.choice([e for e in texts if e not in demo_ids])
            text = " ".join(rng.choices(WORDS, k=rng.randint(1, 6))) + "."
            review.amend(demo_db, worker, entry_id, text)
            texts[entry_id].append(text)
        else:  # a draft never finalised must never be found
            entries.start_entry(demo_db, worker, 1, "other", "2026-01-01T09:00",
                                " ".join(rng.choices(WORDS, k=3)))
        if step % 40 == 39:
            _check(demo_db, reviewer, {e: t for e, t in texts.items() if t})
    indexed, stored = search.reindex(demo_db)
    assert indexed == stored
    _check(demo_db, reviewer, {e: t for e, t in texts.items() if t})


def test_index_is_rebuilt_when_it_was_wrong(demo_db: Database, write: Callable[..., int],
                                           user: Callable[[str], User]) -> None:
    entry = write("RFS-1042", "Tortoise by the pond.")
    for table in search_index.shard_tables(demo_db):
        demo_db.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
    assert not search_index.index_agrees(demo_db)
    assert _found(demo_db, user("reviewer"), "tortoise") == set()
    search.reindex(demo_db)
    assert search_index.index_agrees(demo_db)
    assert _found(demo_db, user("reviewer"), "tortoise") == {(entry, 1)}


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CASENOTES_DATA_DIR": str(data_dir), "CASENOTES_DEMO": "1"}
    return subprocess.run([sys.executable, "-m", "service.cli", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


def test_reindex_and_search_commands(tmp_path: Path, demo_template: Path) -> None:
    (tmp_path / "casenotes.db").write_bytes(demo_template.read_bytes())
    db = Database(tmp_path / "casenotes.db")
    for table in search_index.shard_tables(db):
        db.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
    db.close()
    empty = _run(tmp_path, "search", "school", "--user", "reviewer")
    assert empty.returncode == 0 and empty.stdout.startswith("0 results")
    rebuilt = _run(tmp_path, "reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.startswith("Indexed 14 of 14 entry revisions")
    found = _run(tmp_path, "search", "school", "--user", "reviewer")
    assert found.returncode == 0 and "[school]" in found.stdout.lower()
    assert not found.stdout.startswith("0 results")
    hinted = _run(tmp_path, "search", "the", "--user", "reviewer")
    assert hinted.returncode == 0 and "very common words" in hinted.stderr
    unknown = _run(tmp_path, "search", "school", "--user", "nobody")
    assert unknown.returncode == 2 and "no user called nobody" in unknown.stderr
    as_json = _run(tmp_path, "search", "school", "--user", "worker2", "--json")
    assert as_json.returncode == 0
    assert {h["case_reference"] for h in json.loads(as_json.stdout)["results"]} == {"HCT-2001"}


def test_prefix_searches_of_every_length_match_the_words(
        demo_db: Database, write: Callable[..., int], user: Callable[[str], User]) -> None:
    # Prefixes of 3 to 5 letters read the prefix indexes (m003), longer ones merge the words'
    # lists; both must find the same entries, with the matching words highlighted.
    shards = search_index.shard_tables(demo_db)
    schemas = [row["sql"] for row in demo_db.query(
        "SELECT sql FROM sqlite_master WHERE name IN (SELECT value FROM json_each(?))",
        [json.dumps(shards)])]
    assert len(schemas) == len(shards) >= 3
    assert all(f"prefix='{search_index.PREFIXES}'" in sql for sql in schemas)
    texts = {write("RFS-1042", "Harbour and glacier."): "harbour glacier",
             write("RFS-1077", "Harbor with a falcon."): "harbor falcon",
             write("RFS-1103", "Dingo by the glade."): "dingo glade"}
    for _ in range(2):
        for prefix in ("har", "harb", "harbo", "harbou", "gla", "glac", "glaci", "glacie",
                       "falco", "ding"):
            expected = {(e, 1) for e, words in texts.items()
                        if any(w.startswith(prefix) for w in words.split())}
            assert _found(demo_db, user("reviewer"), f"{prefix}*") == expected, prefix
            wanted, _ = search.request_from({"q": f"{prefix}*"})
            for hit in search.search(demo_db, user("reviewer"), wanted, taxonomy=bundled_taxonomy()).hits:
                marked = [p["text"].lower() for p in hit["snippet"] if p["match"]]
                assert marked and all(m.startswith(prefix) for m in marked), (prefix, marked)
        search.reindex(demo_db)
        assert search_index.index_agrees(demo_db)


def _every(db: Database, who: User, **params: str) -> set[int]:
    """Every entry a search finds, over all its pages."""
    found: set[int] = set()
    page = 1
    while True:
        wanted, _ = search.request_from({**params, "page": str(page)})
        results = search.search(db, who, wanted, taxonomy=bundled_taxonomy())
        found |= {h["entry_id"] for h in results.hits}
        if page >= results.pages:
            assert len(found) == results.entries_total
            return found
        page += 1


def test_fact_tokens_follow_confirmed_facts(
        demo_db: Database, write: Callable[..., int], confirm: Callable[..., int],
        user: Callable[[str], User]) -> None:
    """The index carries each revision's confirmed facts as tokens, so a search with words
    and fact filters lets FTS5 apply them: as facts are confirmed (repeats included) and
    entries amended, it must find exactly what the words and the filters (in SQL alone)
    find."""
    rng = random.Random(7)
    reviewer, worker = user("reviewer"), user("worker")
    people = [r["id"] for r in demo_db.query(
        "SELECT p.id FROM people AS p JOIN cases AS c ON c.id = p.case_id"
        " WHERE c.reference = 'RFS-1042'")]
    made = [write("RFS-1042", f"Wombat visit {n}.") for n in range(12)]
    filters = [{"tag": "health"}, {"tag": "housing"}, {"risk": "neglect"},
               {"risk": "neglect", "assertion": "present"}, {"assertion": "negated"},
               {"seen": "seen"}, {"seen": "alone"}, {"person": str(people[0])},
               {"seen": "alone", "person": str(people[1])}, {"tag": "health", "seen": "seen"}]
    for step in range(60):
        entry = rng.choice(made)
        choice = rng.random()
        if choice < 0.3:
            confirm(entry, "tag", label=rng.choice(["health", "housing"]))
        elif choice < 0.5:
            confirm(entry, "risk", label="neglect", assertion=rng.choice(["present", "negated"]))
        elif choice < 0.75:
            confirm(entry, "child_seen", person_id=rng.choice(people[:2]),
                    alone=rng.random() < 0.5)
        elif choice < 0.9:
            confirm(entry, "person", person_id=rng.choice(people))
        else:
            review.amend(demo_db, worker, entry, f"Wombat visit {step}, amended.")
        if step % 15 == 14:
            assert search_index.index_agrees(demo_db)
            # Facets from the rows' own keys agree with facets counted from the facts.
            rows = search_rows.candidates(demo_db, search_rows.Filters(
                visible_case_ids=tuple(range(1, 100))), 1000)[0]
            assert search_rows.facet_counts(demo_db, rows, False) == search_rows.facet_counts(
                demo_db, rows, True)
            for wanted in filters:
                both = _every(demo_db, reviewer, q="wombat", **wanted)
                assert both == _every(demo_db, reviewer, q="wombat") & _every(
                    demo_db, reviewer, **wanted), wanted
    assert any(_every(demo_db, reviewer, q="wombat", **wanted) for wanted in filters)


def test_a_prefix_that_runs_into_a_suffix_finds_the_word(
        demo_db: Database, write: Callable[..., int], user: Callable[[str], User]) -> None:
    # The index holds porter stems: "feeding" is "feed", so feedi* starts no indexed word.
    feeding = write("RFS-1042", "Quokka feeding plan agreed.")
    bruised = write("RFS-1077", "Quokka bruising seen on the arm.")
    fees = write("RFS-1103", "Quokka fees were paid.")
    for typed, expected in (("quokka feedi*", {feeding}), ("quokka bruisi*", {bruised}),
                            ("quokka feedin*", {feeding}), ("quokka fee*", {feeding, fees})):
        assert _found(demo_db, user("reviewer"), typed) == {(e, 1) for e in expected}, typed


def test_year_tokens_narrow_date_ranges_without_losing_entries(
        demo_db: Database, write: Callable[..., int], user: Callable[[str], User],
        monkeypatch: pytest.MonkeyPatch) -> None:
    reviewer = user("reviewer")
    # Entries happen from 1900 to tomorrow (entries.py checks); the tokens cover 1900-2100.
    for when in ("1900-03-01", "2024-12-31", "2025-01-01", "2025-06-01", "2026-01-01"):
        write("RFS-1042", f"Numbat seen {when}.", when=f"{when}T09:00")
    ranges = [{"from": "2025-01-01"}, {"to": "2024-12-31"}, {"to": "2025-01-01"},
              {"from": "2025-01-01", "to": "2025-12-31"}, {"from": "2024-12-31", "to": "2026-01-01"},
              {"from": "2026-01-01", "to": "2024-01-01"}, {"from": "1800-01-01"},
              {"to": "1900-12-31"}, {"to": "2200-01-01"}, {"from": "1800-01-01", "to": "2200-12-31"}]
    for wanted in ranges:
        both = _every(demo_db, reviewer, q="numbat", **wanted)
        assert both == _every(demo_db, reviewer, q="numbat") & _every(demo_db, reviewer, **wanted)
        assert both or wanted == {"from": "2026-01-01", "to": "2024-01-01"}, wanted
    # Past the candidates, the total is counted apart: by FTS5 alone when the range is whole
    # years its tokens decide (dates_in_scope), else with the dates in SQL.
    monkeypatch.setattr(search, "CONSIDERED", 1)
    for wanted in ranges:
        expected = _every(demo_db, reviewer, q="numbat", order="newest", **wanted)
        wanted_request, _ = search.request_from({"q": "numbat", **wanted})
        found = search.search(demo_db, reviewer, wanted_request, taxonomy=bundled_taxonomy())
        assert found.total == len(expected), wanted


def test_dates_in_scope_only_for_whole_years_the_tokens_decide() -> None:
    present = [2024, 2025, 2026]
    assert search_rows.dates_in_scope("2025-01-01", None, present)
    assert search_rows.dates_in_scope(None, "2025-01-01", present)
    assert search_rows.dates_in_scope("2024-01-01", "2027-01-01", present)  # every year
    assert not search_rows.dates_in_scope("2025-03-01", None, present)
    assert not search_rows.dates_in_scope(None, "2025-12-31", present)
    assert not search_rows.dates_in_scope(None, None, present)
    many = list(range(1990, 2027))  # too many years to name either way
    assert not search_rows.dates_in_scope("2008-01-01", None, many)


def test_a_new_team_gets_its_own_index(demo_db: Database, write: Callable[..., int],
                                       user: Callable[[str], User]) -> None:
    from service import accounts

    team = accounts.add_team(demo_db, "Northfield Family Support")
    assert search_index.shard_table(team) in search_index.shard_tables(demo_db)
    reviewer = accounts.add_user(demo_db, "northfield-rev", "a long enough password 1",
                                 ["reviewer"], team="Northfield Family Support")
    entry = write("RFS-1103", "Okapi in a case that moves to the new team.")
    with demo_db.conn:
        demo_db.execute("UPDATE cases SET team_id = ? WHERE reference = 'RFS-1103'", [team])
    assert _found(demo_db, reviewer, "okapi") == {(entry, 1)}
    assert _found(demo_db, user("reviewer"), "okapi") == set()
    later = write("RFS-1103", "Okapi again, written in the new team.")
    assert _found(demo_db, reviewer, "okapi") == {(entry, 1), (later, 1)}
    assert search_index.index_agrees(demo_db)


def test_a_revision_is_never_left_unindexed(demo_db: Database,
                                           user: Callable[[str], User]) -> None:
    # A team inserted behind the index's back has no shard: its case's entries are refused
    # rather than stored unsearchable, and a rebuild gives it one.
    demo_db.execute("INSERT INTO teams (name, created_at) VALUES ('Raw team', '2026-01-01')")
    raw = next(demo_db.query("SELECT id FROM teams WHERE name = 'Raw team'"))["id"]
    assert not search_index.index_agrees(demo_db)
    with pytest.raises(sqlite3.DatabaseError, match="no search index"), demo_db.conn:
        demo_db.execute("UPDATE cases SET team_id = ? WHERE reference = 'RFS-1103'", [raw])
    search.reindex(demo_db)
    assert search_index.shard_table(raw) in search_index.shard_tables(demo_db)
    assert search_index.index_agrees(demo_db)
