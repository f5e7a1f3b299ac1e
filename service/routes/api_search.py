"""JSON API: GET /api/v1/search, with the same filters and access rules as the search page."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request

from service import search
from service.routes.deps import ApiUser, DbDep, TaxonomyDep

router = APIRouter(prefix="/search", tags=["search"])


@router.get("")
def search_entries(
    request: Request, db: DbDep, user: ApiUser, taxonomy: TaxonomyDep,
    q: str = Query("", description='Words, "exact phrases", prefix*, OR, -exclusions'),
    case: int | None = Query(None, description="Only this case"),
    person: int | None = Query(None, description="Entries confirmed to mention this person"),
    seen: Literal["seen", "alone"] | None = Query(None, description="A child confirmed seen "
                                                  "(or seen alone); with `person`, that child"),
    tag: str | None = Query(None, description="A confirmed theme (taxonomy id)"),
    risk: str | None = Query(None, description="A confirmed risk indicator (taxonomy id)"),
    assertion: str | None = Query(None, description="present, negated, possible, "
                                                    "hypothetical, historical or reported"),
    from_: str | None = Query(None, alias="from", description="Happened on or after (date)"),
    to: str | None = Query(None, description="Happened on or before (date)"),
    recorded_from: str | None = Query(None, description="Recorded on or after (date)"),
    recorded_to: str | None = Query(None, description="Recorded on or before (date)"),
    author: int | None = Query(None, description="Written by this user id"),
    kind: str | None = Query(None, description="Entry kind, e.g. home_visit"),
    order: Literal["relevance", "newest", "oldest"] = "relevance",
    revisions: Literal["latest", "all"] = Query("latest", description="all: earlier versions "
                                                "of amended entries too"),
    page: int = Query(1, ge=1, le=search.MAX_PAGE),
    facets: bool = Query(True, description="false: skip the facet counts (faster)"),
) -> dict[str, Any]:
    """Search the narrative of the cases you may see; 20 results a page, with facet counts
    from confirmed facts. Words the engine cannot use come back as `hints`, never as errors."""
    wanted, hints = search.request_from(request.query_params)
    results = search.search(db, user, wanted, hints, taxonomy=taxonomy, facets=facets)
    return {
        "q": wanted.q, "searched": results.searched, "hints": results.hints,
        "filters": {k: str(v) for k, v in wanted.filters().items()},
        "total": results.total, "entries": results.entries_total, "page": wanted.page,
        "pages": results.pages,
        "results": [dict(hit, snippet_text="".join(p["text"] for p in hit["snippet"]))
                    for hit in results.hits],
        # null: every result was ranked and counted; else how many (the newest) were: the
        # facet counts cover them, and relevance picks the best of them.
        "considered": results.considered,
        "facets_counted": results.considered,  # the same figure, under its first name
        "facets": {name: [{k: v for k, v in value.items() if k != "params"} for value in values]
                   for name, values in results.facets.items()},
    }
