"""Dictation over /api/v1: start, send the audio in pieces, finish, follow, cancel, play back.

A script sends a whole file in three calls:
  POST /api/v1/dictations {"entry_id": 12, "filename": "visit.m4a"}   -> {"id": 7, ...}
  PUT  /api/v1/dictations/7/audio?offset=0   (the bytes; or several pieces at their offsets)
  POST /api/v1/dictations/7/complete                                 -> status queued or failed
then polls GET /api/v1/dictations/7 until the status is done, failed or cancelled.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from service import dictation
from service.routes.deps import ApiUser, DbDep, SettingsDep

router = APIRouter(prefix="/dictations", tags=["dictation"])
of_entry = APIRouter(prefix="/entries/{entry_id}/dictations", tags=["dictation"])


class DictationIn(BaseModel):
    filename: str = Field(description="The recording's file name; its extension says the format "
                                      "(wav, mp3, m4a, ogg, opus, webm, flac)")
    entry_id: int | None = Field(None, description="The draft entry to dictate into")
    case_id: int | None = Field(None, description="Or: the case to start a new draft on")
    kind: str | None = Field(None, description="New draft only: kind of entry")
    occurred_at: str | None = Field(None, description="New draft only: when it happened")
    text: str | None = Field(None, description="New draft only: text typed so far")
    children: list[int] | None = Field(None, description="New draft only: children it is about")


def _wake(request: Request) -> None:
    queue = getattr(request.app.state, "transcription_queue", None)
    if queue is not None:
        queue.wake()


@router.post("", status_code=201)
def start_dictation(db: DbDep, settings: SettingsDep, user: ApiUser, body: DictationIn
                    ) -> dict[str, Any]:
    draft = body.model_dump(include={"kind", "occurred_at", "text", "children"})
    return dictation.start(db, settings, user, body.filename, entry_id=body.entry_id,
                           case_id=body.case_id, draft=draft)


@router.put("/{job_id}/audio")
async def send_audio(request: Request, db: DbDep, settings: SettingsDep, user: ApiUser,
                     job_id: int, offset: int = Query(0, ge=0)) -> dict[str, Any]:
    try:
        received = await dictation.receive(db, settings, user, job_id, offset, request.stream())
    except ClientDisconnect:
        return {"id": job_id, "received": None}  # the client is gone; what arrived is kept
    return {"id": job_id, "received": received}


@router.post("/{job_id}/complete")
def complete_dictation(request: Request, db: DbDep, settings: SettingsDep, user: ApiUser,
                       job_id: int) -> dict[str, Any]:
    job = dictation.complete(db, settings, user, job_id)
    if job["status"] == "queued":
        _wake(request)
    return job


@router.get("/{job_id}")
def get_dictation(db: DbDep, user: ApiUser, job_id: int,
                  after: int = Query(0, ge=0, description="Segments from this number on")
                  ) -> dict[str, Any]:
    return dictation.status(db, user, job_id, after)


@of_entry.get("")
def entry_dictations(db: DbDep, user: ApiUser, entry_id: int) -> list[dict[str, Any]]:
    return dictation.of_entry(db, user, entry_id)


@router.post("/{job_id}/cancel")
def cancel_dictation(db: DbDep, settings: SettingsDep, user: ApiUser, job_id: int
                     ) -> dict[str, Any]:
    return dictation.cancel(db, settings, user, job_id)


@router.post("/{job_id}/applied")
def dictation_applied(db: DbDep, user: ApiUser, job_id: int) -> dict[str, Any]:
    return dictation.applied(db, user, job_id)


@router.get("/{job_id}/audio")
def dictation_audio(db: DbDep, user: ApiUser, job_id: int) -> Response:
    """The recording, with HTTP range support for seeking; never cached by the browser."""
    path, media_type = dictation.audio_file(db, user, job_id)
    return FileResponse(path, media_type=media_type,
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
