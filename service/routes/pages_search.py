"""Pages: the search page (the header's search box and the case page's form land here)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service import search
from service.entries import KIND_LABELS
from service.routes.deps import DbDep, PageUser, TaxonomyDep, render

router = APIRouter()


@router.get("/search")
def search_page(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep) -> Response:
    wanted, hints = search.request_from(request.query_params)
    results = search.search(db, user, wanted, hints, taxonomy=taxonomy)
    return render(request, "search/index.html", {
        "view": results, "kinds": KIND_LABELS, "orders": search.ORDERS, "seen": search.SEEN,
        "page_size": search.PAGE_SIZE,
    })
