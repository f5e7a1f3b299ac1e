"""The manager view: what workers have confirmed across a team's caseload.

Only confirmed facts and workers' decisions feed it; machine suggestions never do. It shows
counts and dates, never targets, deadlines or red lights (the ICS lesson): every number is a
count of entries and links to the entries behind it, so a manager reads the narrative, not
a score.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database

from service import access, fact_kinds
from service.accounts import User
from service.errors import Invalid
from service.nlp.taxonomy import Taxonomy
from service.storage import dashboard as rows
from service.storage import users as user_rows
from service.storage.facts import DECISIONS

DEFAULT_MONTHS = 12
DEFAULT_DAYS = 28
MAX_MONTHS = 60
ENTRY_PAGE = 100
CASES_PAGE = 25   # each case lists its indicators and themes
CHILDREN_PAGE = 50
ALL_TIME = "1900-01-01"
_ID = re.compile(r"^[a-z][a-z0-9_]{0,80}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


# --- which team ------------------------------------------------------------------------

def _team_for(db: Database, user: User, team_id: int | None, action: str) -> dict[str, Any]:
    """A manager's own team; a manager who is also an admin may look at any team. Allowed
    looks are logged by the caller, with what it counted."""
    wanted = team_id if team_id is not None else user.team_id
    if wanted is None and user.is_admin:
        wanted = next((t["id"] for t in user_rows.list_teams(db)), None)
    return access.guard(
        db, user, action, lambda: rows.team(db, wanted) if wanted is not None else None,
        lambda team: access.Place(detail=f"team {team['id']}"),
        rule=_manages, log_allowed=False,
        missing="There is no such team." if wanted is not None else
        "You are not in a team yet. Ask an administrator to add you to one.")


def _manages(db: Database, user: User, team: dict[str, Any], place: access.Place) -> str | None:
    if "manager" not in user.roles:
        return "The manager view is for team managers."
    if team["id"] != user.team_id and not user.is_admin:
        return "You can see your own team's cases only."
    return None


def _since(months: int, today: date) -> str:
    """The first day of the month `months - 1` months before this one."""
    if not 1 <= months <= MAX_MONTHS:
        raise Invalid(f"Choose between 1 and {MAX_MONTHS} months.")
    index = today.year * 12 + today.month - 1 - (months - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}-01"


def _months(since: str, today: date) -> list[str]:
    year, month = int(since[:4]), int(since[5:7])
    found = []
    while (year, month) <= (today.year, today.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


# --- the view --------------------------------------------------------------------------

@dataclass
class LabelRow:
    kind: str
    label: str
    name: str
    by_month: dict[str, int]
    total: int


@dataclass
class GroupRow:
    """One case or one worker: entries with any risk / any theme, and per label."""
    id: int
    name: str
    risk_entries: int = 0
    tag_entries: int = 0
    labels: list[tuple[str, str, str, int]] = field(default_factory=list)  # kind, label, name, n


@dataclass
class ManagerView:
    team: dict[str, Any]
    teams: list[dict[str, Any]]
    months: int
    days: int
    since: str
    recent_since: str
    month_list: list[str]
    entries_by_month: dict[str, dict[str, int]]      # kind -> month -> entries
    labels: dict[str, list[LabelRow]]                # kind -> rows
    by_case: list[GroupRow]                          # one page, cases with any count
    cases_page: int
    cases_pages: int
    by_worker: list[GroupRow]
    recent: list[dict[str, Any]]                     # one page, latest first
    recent_page: int
    recent_pages: int
    children: list[dict[str, Any]]                   # one page
    children_page: int
    children_pages: int
    acceptance_by_kind: list[dict[str, Any]]
    acceptance_by_rule: list[dict[str, Any]]


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


def manager_view(db: Database, user: User, team_id: int | None = None, *, taxonomy: Taxonomy,
                 months: int = DEFAULT_MONTHS, days: int = DEFAULT_DAYS, cases_page: int = 1,
                 children_page: int = 1, recent_page: int = 1,
                 today: date | None = None) -> ManagerView:
    """A team's confirmed risk indicators and themes, sightings and decisions; logged."""
    today = today or date.today()
    team = _team_for(db, user, team_id, "dashboard.view")
    since = _since(months, today)
    if not 1 <= days <= 366:
        raise Invalid("Choose between 1 and 366 days.")
    recent_since = (today - timedelta(days=days)).isoformat()
    month_list = _months(since, today)
    period = (since[:7], month_list[-1])
    month_counts = rows.team_month_counts(db, team["id"], *period)
    # Cases, recent risks and children come a page at a time: a team can hold hundreds.
    cases_page, recent_page, children_page = (max(p, 1) for p in (cases_page, recent_page,
                                                                   children_page))
    case_totals, case_count = rows.case_totals(db, team["id"], *period, CASES_PAGE,
                                               (cases_page - 1) * CASES_PAGE)
    by_case = _case_rows(case_totals)
    _add_case_labels(by_case, rows.case_label_counts(db, team["id"], [g.id for g in by_case],
                                                     *period), taxonomy)
    author_counts = rows.author_counts(db, team["id"], *period)
    authors = rows.users_by_id(db, sorted({r["author_id"] for r in author_counts}))
    children, child_count = rows.team_children(db, team["id"], CHILDREN_PAGE,
                                               (children_page - 1) * CHILDREN_PAGE)
    recent_cases, recent_count = rows.recent_risk_cases(db, team["id"], recent_since, CASES_PAGE,
                                                        (recent_page - 1) * CASES_PAGE)
    recent = _recent(recent_cases, rows.recent_risks(db, team["id"], recent_since,
                                                     [c["case_id"] for c in recent_cases]),
                     taxonomy)
    view = ManagerView(
        team=team,
        teams=user_rows.list_teams(db) if user.is_admin else [team],
        months=months, days=days, since=since, recent_since=recent_since,
        month_list=month_list,
        entries_by_month=_by_month(month_counts, month_list),
        labels=_label_rows(month_counts, month_list, taxonomy),
        by_case=by_case, cases_page=cases_page, cases_pages=_pages(case_count, CASES_PAGE),
        by_worker=_worker_rows(author_counts, {i: u["display_name"] for i, u in authors.items()},
                               taxonomy),
        recent=recent, recent_page=recent_page, recent_pages=_pages(recent_count, CASES_PAGE),
        children=children, children_page=children_page,
        children_pages=_pages(child_count, CHILDREN_PAGE),
        **_acceptance(rows.decision_counts(db, team["id"], *period)),
    )
    access.record(db, user, "dashboard.view",
                  detail=f"team {team['id']}, {months} months, {days} days")
    return view


def _by_month(month_counts: list[dict[str, Any]], month_list: list[str]
              ) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {k: dict.fromkeys(month_list, 0)
                                         for k in fact_kinds.counted_names()}
    for row in month_counts:
        if row["label"] == "" and row["month"] in found[row["kind"]]:
            found[row["kind"]][row["month"]] += row["n"]
    return found


def _label_rows(month_counts: list[dict[str, Any]], month_list: list[str], taxonomy: Taxonomy
                ) -> dict[str, list[LabelRow]]:
    table: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(month_list, 0))
    for row in month_counts:
        if row["label"] == "":
            continue
        months = table[(row["kind"], row["label"])]
        if row["month"] in months:
            months[row["month"]] += row["n"]
    found: dict[str, list[LabelRow]] = {k: [] for k in fact_kinds.counted_names()}
    for (kind, label), months in table.items():
        found[kind].append(LabelRow(kind, label, taxonomy.label(label), months, sum(months.values())))
    for kind_rows in found.values():
        kind_rows.sort(key=lambda r: (-r.total, r.name))
    return found


def _case_rows(totals: list[dict[str, Any]]) -> list[GroupRow]:
    """Cases with any confirmed risk or theme in the period, in family-name order (not ranked)."""
    return [GroupRow(row["case_id"], f"{row['family_name']} ({row['reference']})", row["risk"],
                     row["tag"]) for row in totals]


def _sorted_labels(labels: list[tuple[str, str, str, int]]) -> list[tuple[str, str, str, int]]:
    return sorted(labels, key=lambda t: (t[0] != "risk", -t[3], t[2]))


def _add_case_labels(groups: list[GroupRow], counts: list[dict[str, Any]],
                     taxonomy: Taxonomy) -> None:
    by_id = {g.id: g for g in groups}
    for row in counts:
        by_id[row["case_id"]].labels.append((row["kind"], row["label"], taxonomy.label(row["label"]),
                                             row["n"]))
    for group in groups:
        group.labels = _sorted_labels(group.labels)


def _worker_rows(counts: list[dict[str, Any]], names: dict[int, str],
                 taxonomy: Taxonomy) -> list[GroupRow]:
    groups: dict[int, GroupRow] = {}
    for row in counts:
        group = groups.setdefault(row["author_id"], GroupRow(row["author_id"],
                                                             names.get(row["author_id"], "?")))
        if row["label"] == "":
            setattr(group, "risk_entries" if row["kind"] == "risk" else "tag_entries", row["n"])
        else:
            group.labels.append((row["kind"], row["label"], taxonomy.label(row["label"]), row["n"]))
    for group in groups.values():
        group.labels = _sorted_labels(group.labels)
    return sorted(groups.values(), key=lambda g: g.name)


def _recent(cases: list[dict[str, Any]], risks: list[dict[str, Any]],
            taxonomy: Taxonomy) -> list[dict[str, Any]]:
    by_case = {c["case_id"]: {"id": c["case_id"], "family_name": c["family_name"],
                              "reference": c["reference"], "latest": c["latest"], "labels": []}
               for c in cases}
    for row in risks:  # latest first
        by_case[row["case_id"]]["labels"].append({
            "label": row["label"], "name": taxonomy.label(row["label"]), "n": row["n"],
            "latest": row["latest"]})
    return list(by_case.values())


def _acceptance(decision_counts: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Accepted as suggested, edited, rejected, and added by hand (what the rules missed)."""
    by_rule: dict[tuple[str, str], dict[str, Any]] = {}
    by_kind: dict[str, dict[str, Any]] = {}
    for row in decision_counts:
        for key, store, extra in (((row["kind"], row["rule"]), by_rule, {"rule": row["rule"]}),
                                  (row["kind"], by_kind, {})):
            item = store.setdefault(key, {"kind": row["kind"], "kind_name": fact_kinds.labels().get(
                row["kind"], row["kind"]), **extra, **dict.fromkeys(DECISIONS, 0)})
            item[row["decision"]] += row["n"]
    for item in [*by_rule.values(), *by_kind.values()]:
        judged = item["accepted"] + item["edited"] + item["rejected"]
        item["judged"] = judged
        item["rate"] = round(100 * (item["accepted"] + item["edited"]) / judged) if judged else None
    # Hand-added facts have no rule: they belong to the kind's row, not a rule's.
    rules = [r for r in by_rule.values() if r["rule"] or r["judged"]]
    return {"acceptance_by_kind": sorted(by_kind.values(), key=lambda r: r["kind"]),
            "acceptance_by_rule": sorted(rules, key=lambda r: (r["kind"], -r["judged"], r["rule"]))}


# --- the entries behind a number ---------------------------------------------------------

@dataclass
class EntryList:
    team: dict[str, Any]
    description: str
    filters: dict[str, Any]
    months: int
    entries: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def clean_filters(raw: dict[str, Any]) -> dict[str, Any]:
    """Check the query of an entry list; unknown keys are ignored."""
    found: dict[str, Any] = {}
    kind = raw.get("kind") or None
    if kind is not None:
        if kind not in fact_kinds.counted_names():
            raise Invalid(f"Choose {' or '.join(fact_kinds.counted_names())}.")
        found["kind"] = kind
    label = raw.get("label") or None
    if label is not None:
        if not _ID.match(label):
            raise Invalid("That is not a taxonomy id.")
        found["label"] = label
    month = raw.get("month") or None
    if month is not None:
        if not _MONTH.match(month):
            raise Invalid("A month looks like 2026-03.")
        found["month"] = month
    since = raw.get("since") or None
    if since is not None:
        try:
            found["since"] = date.fromisoformat(since).isoformat()
        except ValueError as err:
            raise Invalid("A date looks like 2026-03-14.") from err
    for key in ("case_id", "author_id", "person_id"):
        value = raw.get(key)
        if value not in (None, ""):
            try:
                found[key] = int(value)
            except (TypeError, ValueError) as err:
                raise Invalid(f"{key} must be a number.") from err
    if str(raw.get("alone") or "") in ("1", "true", "yes"):
        found["alone"] = True
    decision_kind = raw.get("decision_kind") or None
    if decision_kind is not None:
        if decision_kind not in fact_kinds.names():
            raise Invalid(f"Choose a suggestion kind: {', '.join(fact_kinds.names())}.")
        found["decision_kind"] = decision_kind
        found["rule"] = str(raw.get("rule") or "")[:200]
        decision = raw.get("decision") or None
        if decision is not None:
            if decision not in DECISIONS:
                raise Invalid(f"Choose a decision: {', '.join(DECISIONS)}.")
            found["decision"] = decision
    return found


def entries_behind(db: Database, user: User, team_id: int | None, raw_filters: dict[str, Any],
                   *, taxonomy: Taxonomy, months: int = DEFAULT_MONTHS, page: int = 1,
                   today: date | None = None) -> EntryList:
    """The final entries one number on the manager view counts."""
    today = today or date.today()
    team = _team_for(db, user, team_id, "dashboard.entries")
    filters = clean_filters(raw_filters)
    page = max(page, 1)
    entries, total = rows.entries_behind(db, team["id"], _since(months, today),
                                         today.strftime("%Y-%m"), filters, ENTRY_PAGE,
                                         (page - 1) * ENTRY_PAGE)
    access.record(db, user, "dashboard.entries",
                  detail=f"team {team['id']}, {total} entries, "
                         + ", ".join(f"{k}={v}" for k, v in sorted(filters.items()) if k != "rule"))
    return EntryList(team, _describe(db, filters, months, team["id"], taxonomy), filters, months,
                     entries, total, page, max(1, -(-total // ENTRY_PAGE)))


def _describe(db: Database, filters: dict[str, Any], months: int, team_id: int,
              taxonomy: Taxonomy) -> str:
    """'Entries with Physical injury confirmed, in 2026-03, ...' — what the list holds."""
    parts = []
    if filters.get("kind"):
        what = taxonomy.label(filters["label"]) if filters.get("label") else (
            f"any {fact_kinds.kind_of(filters['kind']).label.lower()}")
        parts.append(f"with {what} confirmed")
    if filters.get("person_id") is not None:
        child = rows.team_person(db, team_id, filters["person_id"])
        name = child["name"] if child else "this child"
        parts.append(f"where {name} was seen" + (" alone" if filters.get("alone") else ""))
    if filters.get("decision_kind"):
        decision = filters.get("decision", "any decision")
        parts.append(f"with {fact_kinds.labels()[filters['decision_kind']].lower()} suggestions "
                     f"from rule “{filters['rule'] or 'none'}” ({decision})")
    if filters.get("month"):
        parts.append(f"in {filters['month']}")
    if filters.get("case_id") is not None:
        case = rows.team_case(db, team_id, filters["case_id"])
        parts.append(f"on the {case['family_name']} case" if case else "on this case")
    if filters.get("author_id") is not None:
        author = rows.users_by_id(db, [filters["author_id"]]).get(filters["author_id"])
        parts.append(f"recorded by {author['display_name']}" if author else "by this worker")
    if filters.get("since"):
        parts.append(f"since {filters['since']}" if filters["since"] != ALL_TIME else "at any time")
    else:
        parts.append(f"in the last {months} months")
    return "Entries " + ", ".join(parts)
