"""Searching real SQLite through the domain: matching, filters, facets, access, the log."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlite_utils import Database

from service import review, search
from service.accounts import User
from service.errors import Forbidden, NotFound
from service.storage import access_log
from service.storage import facts as fact_rows
from service.storage.search_index import shard_table
from tests.conftest import bundled_taxonomy, case_id
from tests.search.conftest import person_id


def find(db: Database, who: User, q: str = "", **params: Any) -> search.SearchResults:
    wanted, hints = search.request_from({"q": q, **{k: str(v) for k, v in params.items()}})
    return search.search(db, who, wanted, hints, taxonomy=bundled_taxonomy())


def ids(results: search.SearchResults) -> set[int]:
    return {hit["entry_id"] for hit in results.hits}


@pytest.fixture
def reviewer(user: Callable[[str], User]) -> User:
    return user("reviewer")


def test_word_forms_match(demo_db: Database, write: Callable[..., int], reviewer: User) -> None:
    forms = [write("RFS-1042", f"Quokka noted a {w} on the arm.") for w in
             ("bruise", "bruises", "bruising", "bruised")]
    for typed in ("bruise", "bruises", "bruising", "bruis*", "BRUISED"):
        assert ids(find(demo_db, reviewer, f"quokka {typed}")) == set(forms), typed


def test_british_and_american_spellings(demo_db: Database, write: Callable[..., int],
                                        reviewer: User) -> None:
    uk = write("RFS-1042", "Wombat's behaviour at the centre was calm; the organisation helped.")
    us = write("RFS-1077", "Wombat's behavior at the center was calm; the organization helped.")
    for typed in ("wombat behaviour", "wombat behavior", "wombat behavioural*",
                  '"wombat s behavior"', "wombat centre organize"):
        assert ids(find(demo_db, reviewer, typed)) == {uk, us}, typed


def test_phrases_or_and_exclusions(demo_db: Database, write: Callable[..., int],
                                   reviewer: User) -> None:
    alone = write("RFS-1042", "Numbat was seen alone in the garden.")
    not_alone = write("RFS-1042", "Numbat was alone, not seen in the garden.")
    cot = write("RFS-1077", "Numbat's cot was clean. Seen alone too.")
    assert ids(find(demo_db, reviewer, 'numbat "seen alone"')) == {alone, cot}
    assert ids(find(demo_db, reviewer, "numbat garden OR cot")) == {alone, not_alone, cot}
    assert ids(find(demo_db, reviewer, "numbat -cot -\"not seen\"")) == {alone}


def test_ranking_relevance_and_date(demo_db: Database, write: Callable[..., int],
                                    reviewer: User) -> None:
    once = write("RFS-1042", "Axolotl mentioned once, then a long note about other things "
                 "entirely: school, tea, the park, the bus, homework.", when="2026-01-05T09:00")
    often = write("RFS-1042", "Axolotl axolotl axolotl.", when="2025-06-01T09:00")
    assert [h["entry_id"] for h in find(demo_db, reviewer, "axolotl").hits] == [often, once]
    assert [h["entry_id"] for h in find(demo_db, reviewer, "axolotl", order="newest").hits
            ] == [once, often]
    assert [h["entry_id"] for h in find(demo_db, reviewer, "axolotl", order="oldest").hits
            ] == [often, once]


def test_result_fields_and_snippet_marks(demo_db: Database, write: Callable[..., int],
                                         reviewer: User) -> None:
    entry = write("RFS-1042", "Pangolin <script>alert(1)</script> & friends.", kind="phone_call")
    hit = find(demo_db, reviewer, "pangolin").hits[0]
    assert hit["entry_id"] == entry and hit["kind_label"] == "Phone call"
    assert hit["case_reference"] == "RFS-1042" and hit["family_name"] == "Jones"
    assert hit["author_name"] == "Alex Morgan" and hit["occurred_at"] == "2026-03-14T10:30"
    assert hit["snippet"][0] == {"text": "Pangolin", "match": True}
    assert "<script>" in "".join(p["text"] for p in hit["snippet"])  # escaped by the page
    assert hit["narrative_url"].startswith(f"/cases/{case_id(demo_db, 'RFS-1042')}")
    assert hit["narrative_url"].endswith(f"#entry-{entry}")


def test_narrative_link_finds_the_right_page(demo_db: Database, write: Callable[..., int],
                                             reviewer: User) -> None:
    old = write("RFS-1077", "Tapir visit, the first of many.", when="2020-01-01T09:00")
    for day in range(1, 56):
        write("RFS-1077", f"Routine visit {day}.", when=f"2025-0{1 + day // 28}-{1 + day % 28:02d}"
              "T09:00")
    hit = find(demo_db, reviewer, "tapir").hits[0]
    assert hit["entry_id"] == old and "?page=2#entry-" in hit["narrative_url"]


def test_latest_revision_by_default_earlier_on_request(
        demo_db: Database, write: Callable[..., int], user: Callable[[str], User],
        reviewer: User) -> None:
    entry = write("RFS-1042", "Okapi said the marks came from a fall.")
    review.amend(demo_db, user("worker"), entry, "Okapi said the marks came from a trampoline.")
    assert not find(demo_db, reviewer, "okapi fall").hits
    assert ids(find(demo_db, reviewer, "okapi trampoline")) == {entry}
    earlier = find(demo_db, reviewer, "okapi fall", revisions="all").hits
    assert [(h["entry_id"], h["revision"], h["revision_count"]) for h in earlier] == [(entry, 1, 2)]
    both = find(demo_db, reviewer, "okapi", revisions="all")
    assert both.total == 2 and both.entries_total == 1


def test_filters(demo_db: Database, write: Callable[..., int], reviewer: User) -> None:
    home = write("RFS-1042", "Capybara at home.", kind="home_visit", when="2026-02-10T09:00")
    school = write("RFS-1077", "Capybara at school.", kind="school_visit", when="2026-04-10T09:00")
    jones = case_id(demo_db, "RFS-1042")
    assert ids(find(demo_db, reviewer, "capybara", kind="school_visit")) == {school}
    assert ids(find(demo_db, reviewer, "capybara", case=jones)) == {home}
    assert ids(find(demo_db, reviewer, "capybara", **{"from": "2026-03-01"})) == {school}
    assert ids(find(demo_db, reviewer, "capybara", to="10/02/2026")) == {home}
    worker_id = next(demo_db.query("SELECT id FROM users WHERE username = 'worker'"))["id"]
    assert ids(find(demo_db, reviewer, "capybara", author=worker_id)) == {home, school}
    today = find(demo_db, reviewer, "capybara", recorded_from="2000-01-01")
    assert ids(today) == {home, school}
    assert not find(demo_db, reviewer, "capybara", recorded_to="2000-01-01").hits
    bad = find(demo_db, reviewer, "capybara", **{"from": "last tuesday"})
    assert ids(bad) == {home, school} and "not understood" in " ".join(bad.hints)


def test_filters_without_words_browse_by_date(demo_db: Database, write: Callable[..., int],
                                              reviewer: User) -> None:
    first = write("RFS-1103", "Early.", kind="meeting", when="2026-01-01T09:00")
    later = write("RFS-1103", "Later.", kind="meeting", when="2026-02-01T09:00")
    found = find(demo_db, reviewer, kind="meeting", case=case_id(demo_db, "RFS-1103"))
    assert [h["entry_id"] for h in found.hits] == [later, first]
    assert found.hits[0]["snippet"] == [{"text": "Later.", "match": False}]


def test_fact_filters_and_facets(demo_db: Database, write: Callable[..., int],
                                 confirm: Callable[..., int], reviewer: User) -> None:
    jack, amy = person_id(demo_db, "Jack Jones"), person_id(demo_db, "Amy Jones")
    alone = write("RFS-1042", "Gecko visit: Jack seen alone, bruise on arm.")
    seen = write("RFS-1042", "Gecko visit: Jack and Amy seen together.")
    neither = write("RFS-1042", "Gecko phone call.", kind="phone_call")
    confirm(alone, "child_seen", person_id=jack, alone=True)
    confirm(alone, "risk", label="physical_injury", assertion="present")
    confirm(alone, "tag", label="health")
    confirm(seen, "child_seen", person_id=jack, alone=False)
    confirm(seen, "person", person_id=amy)
    confirm(seen, "risk", label="physical_injury", assertion="negated")

    assert ids(find(demo_db, reviewer, "gecko", person=jack)) == {alone, seen}
    assert ids(find(demo_db, reviewer, "gecko", person=jack, seen="alone")) == {alone}
    assert ids(find(demo_db, reviewer, "gecko", person=amy)) == {seen}
    assert ids(find(demo_db, reviewer, "gecko", tag="health")) == {alone}
    assert ids(find(demo_db, reviewer, "gecko", risk="physical_injury")) == {alone, seen}
    assert ids(find(demo_db, reviewer, "gecko", risk="physical_injury",
                    assertion="present")) == {alone}
    assert ids(find(demo_db, reviewer, "", seen="alone", person=jack)) == {alone}

    facets = find(demo_db, reviewer, "gecko").facets
    counts = {name: {(v["value"], v["detail"]): v["count"] for v in values}
              for name, values in facets.items()}
    assert counts["person"] == {(jack, None): 2, (amy, None): 1}
    assert counts["tag"] == {("health", None): 1}
    assert counts["risk"] == {("physical_injury", "present"): 1,
                              ("physical_injury", "negated"): 1}
    assert counts["kind"] == {("home_visit", None): 2, ("phone_call", None): 1}
    assert counts["case"] == {(case_id(demo_db, "RFS-1042"), None): 3}
    assert counts["year"] == {("2026", None): 3}
    labels = {v["label"] for v in facets["risk"]} | {v["label"] for v in facets["person"]}
    assert {"Physical injury (present)", "Jack Jones", "Amy Jones"} <= labels
    assert neither in ids(find(demo_db, reviewer, "gecko"))


def test_facets_over_many_results_count_the_newest_and_say_so(
        demo_db: Database, write: Callable[..., int], confirm: Callable[..., int],
        user: Callable[[str], User], reviewer: User, monkeypatch: pytest.MonkeyPatch) -> None:
    older = [write("RFS-1042", "Axolotl at home.", when="2025-01-10T10:00") for _ in range(2)]
    newer = [write("RFS-1077", "Axolotl at school.", kind="phone_call",
                   when="2026-02-10T10:00") for _ in range(3)]
    for entry in older + newer:
        confirm(entry, "tag", label="health")
    exact = find(demo_db, reviewer, "axolotl")
    assert exact.considered is None and exact.total == 5
    assert {v["value"]: v["count"] for v in exact.facets["kind"]} == {"home_visit": 2,
                                                                      "phone_call": 3}
    monkeypatch.setattr(search, "CONSIDERED", 3)
    capped = find(demo_db, reviewer, "axolotl")
    # The totals stay exact; relevance picks from, and the facets count, the 3 newest recorded.
    assert capped.considered == 3 and capped.total == 5 and capped.entries_total == 5
    assert ids(capped) == set(newer) and capped.pages == 1
    # By date, every result is reachable.
    assert ids(find(demo_db, reviewer, "axolotl", order="oldest")) == set(older + newer)
    assert {v["value"]: v["count"] for v in capped.facets["kind"]} == {"phone_call": 3}
    assert {v["value"]: v["count"] for v in capped.facets["case"]} == {
        case_id(demo_db, "RFS-1077"): 3}
    assert [(v["value"], v["count"]) for v in capped.facets["tag"]] == [("health", 3)]
    assert [(v["value"], v["count"]) for v in capped.facets["year"]] == [("2026", 3)]
    # Filters alone, and all versions, are capped the same way.
    by_filter = find(demo_db, reviewer, "", tag="health")
    assert by_filter.considered == 3 and by_filter.total == 5 and len(by_filter.hits) == 5
    monkeypatch.setattr(search, "CONSIDERED", 5)
    assert find(demo_db, reviewer, "axolotl").considered is None
    review.amend(demo_db, user("worker"), older[0], "Axolotl at home, amended.")
    every = find(demo_db, reviewer, "axolotl", revisions="all")
    assert every.considered == 5 and every.total == 6 and every.entries_total == 5


def test_facets_count_only_current_confirmed_facts(
        demo_db: Database, write: Callable[..., int], confirm: Callable[..., int],
        user: Callable[[str], User], reviewer: User) -> None:
    text = "Lemur visit, a bruise seen."
    entry = write("RFS-1042", text)
    at = text.index("a bruise")
    confirm(entry, "tag", label="health", start=at, end=at + 8, text="a bruise")
    # An unconfirmed suggestion must never count.
    fact_rows.insert_suggestion(demo_db, entry, fact_rows.next_run(demo_db, entry), {
        "kind": "tag", "start": 0, "end": 5, "text": "Lemur", "label": "housing",
        "rule": "test", "pipeline_version": "test"})
    assert [v["value"] for v in find(demo_db, reviewer, "lemur").facets["tag"]] == ["health"]
    amended = review.amend(demo_db, user("worker"), entry, "Lemur visit, no bruise after all.")
    # Its words changed: the theme comes back to re-confirm, and revision 1's no longer counts.
    assert [r["was"] for r in amended["reconfirm"]] == ["a bruise"]
    assert find(demo_db, reviewer, "lemur").facets["tag"] == []
    assert not find(demo_db, reviewer, "lemur", tag="health").hits


def test_access_only_visible_cases_searched_or_counted(
        demo_db: Database, write: Callable[..., int], user: Callable[[str], User]) -> None:
    ours = write("RFS-1042", "Meerkat in Riverside.")
    theirs = write("HCT-2001", "Meerkat in Hillcrest.")
    assert ids(find(demo_db, user("worker2"), "meerkat")) == {theirs}
    assert find(demo_db, user("worker2"), "meerkat").total == 1
    assert ids(find(demo_db, user("reviewer"), "meerkat")) == {ours}
    assert ids(find(demo_db, user("manager"), "meerkat")) == {ours}
    facets = find(demo_db, user("worker2"), "meerkat").facets
    assert [v["value"] for v in facets["case"]] == [case_id(demo_db, "HCT-2001")]
    admin = find(demo_db, user("admin"), "meerkat")
    assert admin.total == 0 and "no case role" in " ".join(admin.hints)
    with pytest.raises(Forbidden):
        find(demo_db, user("worker2"), "meerkat", case=case_id(demo_db, "RFS-1042"))
    with pytest.raises(NotFound):
        find(demo_db, user("worker2"), "meerkat", case=424242)
    denied = access_log.access_rows(demo_db, "search")[-1]
    assert denied["outcome"] == "denied" and denied["case_id"] == case_id(demo_db, "RFS-1042")


def test_a_case_moving_team_is_reindexed(demo_db: Database, write: Callable[..., int],
                                         user: Callable[[str], User]) -> None:
    entry = write("RFS-1103", "Ibex in a case that moves team.")
    hillcrest = next(demo_db.query("SELECT team_id FROM cases WHERE reference = 'HCT-2001'"))
    with demo_db.conn:
        demo_db.execute("UPDATE cases SET team_id = ? WHERE reference = 'RFS-1103'",
                        [hillcrest["team_id"]])
    assert not find(demo_db, user("reviewer"), "ibex").hits
    demo_db.execute("INSERT INTO users (username, display_name, password_hash, team_id,"
                    " created_at) VALUES ('hreviewer', 'H R', 'x', ?, '2026-01-01')",
                    [hillcrest["team_id"]])
    demo_db.execute("INSERT INTO user_roles (user_id, role) SELECT id, 'reviewer' FROM users"
                    " WHERE username = 'hreviewer'")
    assert ids(find(demo_db, user("hreviewer"), "ibex")) == {entry}
    assert search.search_index.index_agrees(demo_db)


def test_every_search_is_logged_with_query_and_filters(
        demo_db: Database, write: Callable[..., int], reviewer: User) -> None:
    write("RFS-1042", "Dugong said something private.")
    before = len(access_log.access_rows(demo_db, "search"))
    find(demo_db, reviewer, "dugong", kind="home_visit")
    find(demo_db, reviewer, "the")  # nothing searchable, but still a search asked for
    find(demo_db, reviewer, "", kind="meeting")
    rows = access_log.access_rows(demo_db, "search")[before:]
    assert len(rows) == 3
    first = json.loads(rows[0]["detail"])
    assert rows[0]["user_id"] == reviewer.id and rows[0]["outcome"] == "allowed"
    assert first == {"q": "dugong", "filters": {"kind": "home_visit"}, "results": 1}
    assert "private" not in rows[0]["detail"]
    assert json.loads(rows[1]["detail"]) == {"q": "the", "filters": {}, "results": 0}
    assert json.loads(rows[2]["detail"])["filters"] == {"kind": "meeting"}


def test_empty_form_is_not_a_search(demo_db: Database, reviewer: User) -> None:
    before = len(access_log.access_rows(demo_db, "search"))
    results = find(demo_db, reviewer, "")
    assert not results.searched and not results.hits
    assert len(access_log.access_rows(demo_db, "search")) == before


BAD_INPUT = ['"unbalanced', 'NEAR(bruise', "bruise AND", "OR", "*", "-", "(((", ")", "a:b",
             '"" "" ""', "x" * 10_000, "the and of a", "🙂 👶🏽 🏠", "ß café naïve 学校",
             "\x00\x01\x02", "'; DROP TABLE entries; --", "bruise^2 {text}: col:x",
             "NOT", "AND OR NOT", "- - -", "**bruise**", "\u202etxet"]


@pytest.mark.parametrize("typed", BAD_INPUT)
def test_bad_input_never_raises(demo_db: Database, reviewer: User, typed: str) -> None:
    results = find(demo_db, reviewer, typed)
    assert isinstance(results.total, int)
    if not results.query.expression:
        assert results.hints and not results.hits


def test_unicode_words_are_found(demo_db: Database, write: Callable[..., int],
                                 reviewer: User) -> None:
    entry = write("RFS-1042", "Zoë went to the café; 学校 visit 🙂 went well.")
    for typed in ("zoe cafe", "Zoë café", "学校", "zoë 🙂"):
        assert ids(find(demo_db, reviewer, typed)) == {entry}, typed


def test_paging(demo_db: Database, write: Callable[..., int], reviewer: User) -> None:
    made = {write("RFS-1077", f"Kiwi note number {n}.") for n in range(25)}
    first = find(demo_db, reviewer, "kiwi")
    second = find(demo_db, reviewer, "kiwi", page=2)
    assert first.total == 25 and first.pages == 2
    assert len(first.hits) == search.PAGE_SIZE and len(second.hits) == 5
    assert ids(first) | ids(second) == made


def test_a_stale_scope_token_never_leaks(demo_db: Database, write: Callable[..., int],
                                         reviewer: User) -> None:
    """The scope tokens are a pre-filter; the access rule itself is checked on every row."""
    theirs = write("HCT-2001", "Quetzal seen in Hillcrest.")
    ours = write("RFS-1042", "Quetzal seen in Riverside.")
    revision = next(demo_db.query("SELECT id FROM entry_revisions WHERE entry_id = ?",
                                  [theirs]))["id"]
    # Index Hillcrest's entry in the Riverside shard, under a Riverside case's token.
    theirs_shard = shard_table(next(demo_db.query(
        "SELECT team_id FROM cases WHERE reference = 'HCT-2001'"))["team_id"])
    ours_shard = shard_table(reviewer.team_id)
    demo_db.execute(f"INSERT INTO {theirs_shard} ({theirs_shard}, rowid, text, scope)"
                    f" SELECT 'delete', id, text, scope FROM {theirs_shard}_content WHERE id = ?",
                    [revision])
    demo_db.execute(f"INSERT INTO {ours_shard} (rowid, text, scope) SELECT id, text,"
                    f" 'c' || ? FROM {theirs_shard}_content WHERE id = ?",
                    [case_id(demo_db, "RFS-1042"), revision])
    for order in ("relevance", "newest"):
        found = find(demo_db, reviewer, "quetzal", order=order)
        assert ids(found) == {ours} and found.total == 1
        assert [v["value"] for v in found.facets["case"]] == [case_id(demo_db, "RFS-1042")]
