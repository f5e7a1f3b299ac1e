"""Search across the narrative: words and filters in, ranked entries with snippets and facet
counts out. Only cases the user may read are ever searched or counted, and every search is
written to the access log (the query and filters, never the entry text)."""

from __future__ import annotations

import heapq
import json
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlite_utils import Database

from service import access
from service.accounts import CASE_ROLES, User
from service.cases import PAGE_SIZE as NARRATIVE_PAGE_SIZE
from service.entries import KIND_LABELS
from service.nlp.taxonomy import Taxonomy
from service.search_query import ParsedQuery, parse
from service.storage import cases as case_rows
from service.storage import search as search_rows
from service.storage import search_index

PAGE_SIZE = 20
FACET_VALUES = 30
MAX_PAGE = 200
# When more results match than this, relevance and the facets are worked out over the newest
# this many (the totals stay exact, and the page says so; by date, every result is reachable).
# A word common across a whole team matches tens of thousands of entries, and ranking and
# grouping them all was most of a search's time: at 1M entries, p95 was ~30 ms with 2,000 and
# 40-58 ms with 5,000 (bench/bench_search.py). 2,000 is months of a team's recording.
CONSIDERED = 2000
ORDERS = {"relevance": "Most relevant", "newest": "Newest first", "oldest": "Oldest first"}
ASSERTIONS = ("present", "negated", "possible", "hypothetical", "historical", "reported")
SEEN = {"seen": "Seen", "alone": "Seen alone"}
LOGGED_QUERY_CHARS = 1000
log = logging.getLogger("casenotes.search")


@dataclass(frozen=True)
class SearchRequest:
    """A search as asked for. Field names double as the URL parameters (see PARAMS)."""

    q: str = ""
    case: int | None = None
    person: int | None = None
    seen: str = ""
    tag: str = ""
    risk: str = ""
    assertion: str = ""
    occurred_from: date | None = None
    occurred_to: date | None = None
    recorded_from: date | None = None
    recorded_to: date | None = None
    author: int | None = None
    kind: str = ""
    order: str = "relevance"
    revisions: str = "latest"
    page: int = 1

    def filters(self) -> dict[str, Any]:
        """The filters that narrow the search (not the words, order or page)."""
        skip = {"q", "order", "revisions", "page"}
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in skip and getattr(self, f.name) not in (None, "")}

    @cached_property
    def _base_params(self) -> dict[str, str]:
        # Every facet value links to this search changed a little: encode the rest once.
        return self._encoded({f.name: getattr(self, f.name) for f in fields(self)}
                             | {"page": None})

    @staticmethod
    def _encoded(values: dict[str, Any]) -> dict[str, str]:
        return {PARAMS_OUT.get(k, k): str(v) for k, v in values.items()
                if v not in (None, "") and PARAM_DEFAULTS.get(k) != v}

    def params(self, **changes: Any) -> dict[str, str]:
        """URL parameters for this search with `changes` (None removes one); page resets."""
        out = dict(self._base_params)
        for name in changes:
            out.pop(PARAMS_OUT.get(name, name), None)
        return out | self._encoded(changes)


PARAM_DEFAULTS = {"order": "relevance", "revisions": "latest", "page": 1}
# URL names that differ from the field names.
PARAMS_OUT = {"occurred_from": "from", "occurred_to": "to"}
PARAMS_IN = {v: k for k, v in PARAMS_OUT.items()}


@dataclass
class SearchResults:
    request: SearchRequest
    query: ParsedQuery
    searched: bool = False
    hints: list[str] = field(default_factory=list)
    total: int = 0
    entries_total: int = 0
    hits: list[dict[str, Any]] = field(default_factory=list)
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # None: every result was ranked and counted; else how many (the newest) were.
    considered: int | None = None
    case: dict[str, Any] | None = None
    applied: list[dict[str, Any]] = field(default_factory=list)
    visible_cases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        reachable = self.total
        if self.considered and self.request.order == "relevance" and self.query.expression:
            reachable = min(reachable, self.considered)  # relevance picks from these
        return min(MAX_PAGE, max(1, -(-reachable // PAGE_SIZE)))

    @property
    def other_facets(self) -> list[tuple[str, str]]:
        """Facets of kinds of fact beyond people, themes and risks: (facet, heading)."""
        return [(k.facet, k.label) for k in search_index.searched_kinds()
                if k.facet and k.facet not in _FACETS]


_FACETS = ("case", "person", "tag", "risk", "kind", "author", "year")


# --- reading the request ------------------------------------------------------------------

def request_from(params: Mapping[str, Any]) -> tuple[SearchRequest, list[str]]:
    """A SearchRequest from URL parameters (strings), with a hint for each value ignored."""
    hints: list[str] = []
    values: dict[str, Any] = {}
    names = {f.name: f for f in fields(SearchRequest)}
    for key, raw in params.items():
        name = PARAMS_IN.get(key, key)
        if name not in names or raw is None or str(raw).strip() == "":
            continue
        text = str(raw).strip()
        if name in ("case", "person", "author", "page"):
            try:
                values[name] = int(text)
            except ValueError:
                hints.append(f"The {key} filter was not a number, so it was left out.")
        elif name.endswith(("_from", "_to")):
            when = _date(text)
            if when is None:
                hints.append(f"The date \u201c{text[:20]}\u201d was not understood, so it was "
                             "left out. Write dates like 2026-03-14 or 14/03/2026.")
            else:
                values[name] = when
        else:
            values[name] = str(raw)[:20_000] if name == "q" else text[:100]
    request = SearchRequest(**values)
    if request.order not in ORDERS:
        request = replace(request, order="relevance")
    if request.revisions not in ("latest", "all"):
        request = replace(request, revisions="latest")
    if request.seen not in SEEN:
        request = replace(request, seen="")
    if request.kind and request.kind not in KIND_LABELS:
        hints.append("That kind of entry is not one we know, so it was left out.")
        request = replace(request, kind="")
    if request.assertion and request.assertion not in ASSERTIONS:
        request = replace(request, assertion="")
    if not 1 <= request.page <= MAX_PAGE:
        request = replace(request, page=min(max(request.page, 1), MAX_PAGE))
    return request, hints


def _date(text: str) -> date | None:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y-%m"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


# --- searching ----------------------------------------------------------------------------

def search(db: Database, user: User, request: SearchRequest, hints: list[str] | None = None,
           *, taxonomy: Taxonomy, via: str = "", facets: bool = True) -> SearchResults:
    """Run a search as `user`; `taxonomy` names the tag and risk facets and filters.
    Bad input becomes hints; only access problems raise.
    `via` names where a search came from when not the web (logged, e.g. "cli"); without
    `facets` only the results and their number are worked out (cheaper on big result sets)."""
    query = parse(request.q)
    results = SearchResults(request, query, hints=[*(hints or []), *query.hints])
    visible = _visible_cases(db, user)
    results.visible_cases = visible
    if request.case is not None:
        results.case = _case_in(db, user, request.case, visible)
    if not request.q.strip() and not request.filters():
        return results  # the empty form: nothing asked, nothing to log
    if not user.roles & CASE_ROLES:
        results.hints.append("Your account has no case role, so there are no case records "
                             "for you to search.")
    results.searched = True
    filters = _filters(db, request, query, user, visible)
    if filters.visible_case_ids and (query.expression or not request.q.strip()):
        try:
            _run(db, filters, request, results, facets, taxonomy)
        except sqlite3.OperationalError as err:
            if "fts5" not in str(err) and "syntax" not in str(err):
                raise
            log.warning("search could not be run: %s", type(err).__name__)
            results.hints.append("The search could not be understood. Try fewer symbols: "
                                 "words, \"exact phrases\", word*, OR and -word.")
            results.total, results.hits, results.facets = 0, [], {}
    results.applied = applied_filters(results, taxonomy)
    access.record(db, user, "search", case_id=request.case, detail=_log_detail(request, results, via))
    return results


def _visible_cases(db: Database, user: User) -> list[dict[str, Any]]:
    if not user.roles & CASE_ROLES:
        return []
    return case_rows.visible_case_keys(db, user.id, user.team_id, user.team_wide)


def _case_in(db: Database, user: User, case_id: int, visible: list[dict[str, Any]]
             ) -> dict[str, Any]:
    """Searching within one case needs the right to read it; a refusal is logged (the search
    logs itself once it has run)."""
    mine = {case["id"]: case for case in visible}
    return access.guard(
        db, user, "search", lambda: mine.get(case_id) or case_rows.case_by_id(db, case_id),
        access.Place, rule=lambda db, user, case, place: (
            None if case_id in mine else access.CASE_REFUSED),
        missing="There is no such case.", log_allowed=False)


def _filters(db: Database, request: SearchRequest, query: ParsedQuery, user: User,
             visible: list[dict[str, Any]]) -> search_rows.Filters:
    filters = search_rows.Filters(
        visible_case_ids=tuple(c["id"] for c in visible), case_id=request.case,
        person_id=request.person, seen=request.seen, tag=request.tag or None,
        risk=request.risk or None, assertion=request.assertion or None,
        occurred_from=_iso(request.occurred_from), occurred_before=_iso(request.occurred_to, 1),
        recorded_from=_iso(request.recorded_from), recorded_before=_iso(request.recorded_to, 1),
        author_id=request.author, kind=request.kind or None,
        all_revisions=request.revisions == "all")
    if not query.expression:
        return filters
    # Those who see their whole team search its shard whole; other cases (allocations
    # elsewhere, or a worker's own) are named one by one.
    whole = {user.team_id} if user.team_wide and user.team_id is not None else set()
    years = search_index.years(db) if request.occurred_from or request.occurred_to else []
    return replace(filters, shards=search_rows.shards_for(
        ((c["id"], c["team_id"]) for c in visible), whole, query.expression, filters, years),
        dates_in_scope=search_rows.dates_in_scope(filters.occurred_from,
                                                  filters.occurred_before, years))


def _iso(day: date | None, plus_days: int = 0) -> str | None:
    return (day + timedelta(days=plus_days)).isoformat() if day else None


def _run(db: Database, filters: search_rows.Filters, request: SearchRequest,
         results: SearchResults, with_facets: bool, taxonomy: Taxonomy) -> None:
    order = request.order if filters.words else (
        "newest" if request.order == "relevance" else request.order)
    found = search_rows.find(db, filters, order, PAGE_SIZE, (request.page - 1) * PAGE_SIZE,
                             CONSIDERED, facets=with_facets)
    rows = found.rows
    results.total, results.entries_total = found.total, found.entries
    results.considered = found.considered
    if filters.words:
        passages = search_rows.snippets(db, filters, rows)
    else:
        passages = search_rows.openings(db, [r["revision_id"] for r in rows])
    positions = search_rows.narrative_positions(db, [r["entry_id"] for r in rows])
    facet_rows = _top_facet_values(found.facets)
    names = search_rows.labels(
        db, [r["value"] for r in facet_rows if r["facet"] == "case"],
        [r["value"] for r in facet_rows if r["facet"] == "person"]
        + ([request.person] if request.person else []),
        [r["value"] for r in facet_rows if r["facet"] == "author"]
        + [r["author_id"] for r in rows])
    cases = {c["id"]: c for c in results.visible_cases}
    results.hits = [_hit(row, passages.get(row["revision_id"], ""), positions, names, cases)
                    for row in rows]
    results.facets = _facets(facet_rows, names, request, results.visible_cases, taxonomy)
    if not results.total and request.revisions == "latest" and filters.words:
        results.hints.append("No entries matched. Earlier versions of amended entries are not "
                             "searched unless you choose \u201cAll versions\u201d.")


def _hit(row: dict[str, Any], passage: str, positions: dict[int, int],
         names: dict[str, dict[int, dict[str, Any]]], cases: dict[int, dict[str, Any]]
         ) -> dict[str, Any]:
    case = cases.get(row["case_id"], {})
    author = names["author"].get(row["author_id"], {})
    page = positions.get(row["entry_id"], 0) // NARRATIVE_PAGE_SIZE + 1
    return {
        "entry_id": row["entry_id"], "revision": row["number"],
        "revision_count": row["revision_count"], "case_id": row["case_id"],
        "case_reference": case.get("reference", ""), "family_name": case.get("family_name", ""),
        "kind": row["kind"], "kind_label": KIND_LABELS.get(row["kind"], row["kind"]),
        "occurred_at": row["occurred_at"], "recorded_at": row["finalised_at"],
        "revised_at": row["revised_at"], "author_id": row["author_id"],
        "author_name": author.get("display_name", ""),
        "snippet": snippet_parts(passage),
        "url": f"/entries/{row['entry_id']}",
        "narrative_url": f"/cases/{row['case_id']}" + (f"?page={page}" if page > 1 else "")
                         + f"#entry-{row['entry_id']}",
    }


def snippet_parts(passage: str) -> list[dict[str, Any]]:
    """[{"text", "match"}] pieces of a snippet, so a page escapes the text and marks matches
    without ever trusting it as HTML."""
    parts: list[dict[str, Any]] = []
    for i, chunk in enumerate(passage.split(search_rows.MARK_START)):
        matched, _, rest = chunk.partition(search_rows.MARK_END) if i else ("", "", chunk)
        if matched:
            parts.append({"text": matched, "match": True})
        if rest:
            parts.append({"text": rest, "match": False})
    return parts


def _top_facet_values(counted: dict[str, dict[tuple[Any, Any], int]]
                      ) -> list[dict[str, Any]]:
    """The FACET_VALUES most frequent values of each facet (every year): a search over a
    whole team can touch a thousand cases and thousands of people; only the top is shown."""
    kept: list[dict[str, Any]] = []
    for facet, values in counted.items():
        top = values.items() if facet == "year" else heapq.nlargest(
            FACET_VALUES, values.items(), key=lambda item: item[1])
        kept += [{"facet": facet, "value": value, "detail": detail, "n": n}
                 for (value, detail), n in top]
    return kept


def _facets(rows: list[dict[str, Any]], names: dict[str, dict[int, dict[str, Any]]],
            request: SearchRequest, visible: list[dict[str, Any]], taxonomy: Taxonomy
            ) -> dict[str, list[dict]]:
    visible_ids = {c["id"] for c in visible}
    facets: dict[str, list[dict[str, Any]]] = {k: [] for k in
                                               (*_FACETS, *search_rows.facet_names())}
    for row in rows:
        facet, value, count = row["facet"], row["value"], row["n"]
        entry: dict[str, Any] = {"value": value, "count": count, "detail": row["detail"]}
        if facet == "case":
            case = names["case"].get(value, {})
            entry["label"] = f"{case.get('family_name', '')} ({case.get('reference', '')})"
            entry["params"] = request.params(case=value)
        elif facet == "person":
            person = names["person"].get(value)
            if person is None or person["case_id"] not in visible_ids:
                continue
            entry["label"] = person["name"]
            entry["params"] = request.params(person=value)
        elif facet == "tag":
            entry["label"] = taxonomy.label(value)
            entry["params"] = request.params(tag=value)
        elif facet == "risk":
            assertion = row["detail"] or "present"
            entry["label"] = f"{taxonomy.label(value)} ({assertion})"
            entry["params"] = request.params(risk=value, assertion=assertion)
        elif facet == "kind":
            entry["label"] = KIND_LABELS.get(value, value)
            entry["params"] = request.params(kind=value)
        elif facet == "author":
            entry["label"] = names["author"].get(value, {}).get("display_name", f"User {value}")
            entry["params"] = request.params(author=value)
        elif facet == "year":
            entry["label"] = str(value)
            entry["params"] = request.params(occurred_from=f"{value}-01-01",
                                             occurred_to=f"{value}-12-31")
        else:  # another kind's facet: counted, not (yet) a filter
            entry["label"] = taxonomy.label(value)
            entry["params"] = None
        current = {"case": request.case, "person": request.person, "tag": request.tag,
                   "kind": request.kind, "author": request.author}.get(facet)
        entry["selected"] = value == current or (
            facet == "risk" and value == request.risk and entry["detail"] in (
                request.assertion or None, None) and bool(request.assertion)) or (
            facet == "year" and bool(request.occurred_from)
            and str(request.occurred_from) == f"{value}-01-01")
        facets[facet].append(entry)
    for facet, entries in facets.items():
        if facet == "year":
            entries.sort(key=lambda e: str(e["value"]), reverse=True)
        else:
            entries.sort(key=lambda e: (-e["count"], e["label"]))
    return facets


def applied_filters(results: SearchResults, taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """Each filter in force, labelled, with the parameters that remove it."""
    request = results.request
    labels = {(facet, v["value"]): v["label"] for facet, values in results.facets.items()
              for v in values}
    applied = []
    for name, value in request.filters().items():
        if name == "case" and results.case:
            label = f"{results.case['family_name']} ({results.case['reference']})"
        elif name in ("person", "author"):
            label = labels.get((name, value), f"{name} {value}")
        elif name in ("tag", "risk"):
            label = taxonomy.label(value)
        elif name == "kind":
            label = KIND_LABELS.get(value, value)
        elif name == "seen":
            label = SEEN[value]
        elif name.endswith(("_from", "_to")):
            what = "Happened" if name.startswith("occurred") else "Recorded"
            label = f"{what} {'from' if name.endswith('_from') else 'to'} {value:%-d %b %Y}"
        else:
            label = f"{_pretty(name)}: {value}"
        applied.append({"name": name, "label": label, "params": request.params(**{name: None})})
    return applied


def _pretty(identifier: str) -> str:
    return str(identifier).replace("_", " ").capitalize()


def _log_detail(request: SearchRequest, results: SearchResults, via: str) -> str:
    detail: dict[str, Any] = {"q": request.q[:LOGGED_QUERY_CHARS]}
    if via:
        detail["via"] = via
    if len(request.q) > LOGGED_QUERY_CHARS:
        detail["q_chars"] = len(request.q)
    detail["filters"] = {k: str(v) for k, v in request.filters().items()}
    if request.revisions != "latest":
        detail["revisions"] = request.revisions
    detail["results"] = results.total
    return json.dumps(detail, ensure_ascii=False)


# --- the index ----------------------------------------------------------------------------

def reindex(db: Database) -> tuple[int, int]:
    """Rebuild the index from the entries; returns (revisions indexed, revisions stored)."""
    from service.storage.db import transaction

    with transaction(db):
        indexed = search_index.rebuild(db)
    return indexed, search_index.revision_count(db)
