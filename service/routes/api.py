"""The JSON API: one /api/v1 router gathering the routers of each resource, each with its own
prefix (under /api/v1) and its own tag in the API docs."""

from __future__ import annotations

from fastapi import APIRouter

from service.routes import (
    api_cases,
    api_chronology,
    api_dashboard,
    api_dictation,
    api_entries,
    api_people,
    api_review,
    api_search,
)

PREFIX = "/api/v1"
# Where audio bodies arrive: BodySizeLimit gives these paths the larger upload limit.
UPLOAD_PREFIX = f"{PREFIX}{api_dictation.router.prefix}/"

router = APIRouter(prefix=PREFIX)
for part in (api_cases.router, api_entries.router, api_people.router, api_people.on_case,
             api_people.from_entry, api_review.router, api_review.stateless, api_review.kinds_router,
             api_chronology.router, api_dashboard.router, api_dictation.router,
             api_dictation.of_entry, api_search.router):
    router.include_router(part)
