"""Dictation: receive a recording for a draft entry, check it, queue it, and look after the audio.

The recording arrives in pieces (so a dropped connection loses nothing that reached us), is
content-addressed under the data directory (files 0600, folders 0700), checked with
`probe_audio`, and queued for the transcription workers (service/transcription_queue.py).
Every look at or change to a dictation is access-checked like the draft it belongs to, and the
audio is deleted when the entry becomes final unless the operator keeps audio.
No transcript text or audio detail ever goes to a log.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from service import access, entries
from service.accounts import User
from service.errors import Conflict, Invalid, NotFound, TooLarge
from service.settings import Settings
from service.storage import cases as case_rows
from service.storage import entries as entry_rows
from service.storage import transcriptions as job_rows
from service.storage.db import after_commit, transaction

if TYPE_CHECKING:
    from service.asr.vocabulary import CaseVocabulary
    from service.nlp.taxonomy import RuleSet

MEDIA_TYPES = {
    "wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4", "mp4": "audio/mp4",
    "aac": "audio/aac", "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg",
    "webm": "audio/webm", "weba": "audio/webm", "flac": "audio/flac",
}
CHUNK_BYTES = 1024 * 1024
INLINE_CHECK_BYTES = 25_000_000  # about 50 min of webm/opus, 13 min of 16 kHz wav
_completing: dict[int, threading.Lock] = {}
_completing_guard = threading.Lock()


# --- files -------------------------------------------------------------------------------

def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def _max_bytes(settings: Settings) -> int:
    return settings.max_audio_mb * 1_000_000  # as probe_audio counts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _unlink(path: str | Path | None) -> None:
    if path:
        with contextlib.suppress(FileNotFoundError):
            Path(path).unlink()


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def check_filename(filename: str) -> str:
    """A plain file name with an audio extension; the content is checked later."""
    name = Path(filename.replace("\\", "/")).name.strip()[:200] or "recording.webm"
    if _extension(name) not in MEDIA_TYPES:
        raise Invalid("Choose a recording in one of these formats: wav, mp3, m4a, ogg or opus, "
                      "webm, flac.")
    return name


# --- access -------------------------------------------------------------------------------

def _job_for(db: Database, user: User, job_id: int, action: str, *, log_allowed: bool = True,
             readers: bool = False) -> dict[str, Any]:
    """The job if this user may use it. A draft's dictation is its author's alone; with
    `readers`, the kept audio of a final entry is open to those who can read the case.
    Anyone else is told there is no such dictation, as if it did not exist."""

    def place(job: dict[str, Any]) -> access.Place:
        return access.in_case(db, job["case_id"], entry_id=job["entry_id"],
                              detail=f"dictation {job_id}")

    def may_use(db: Database, user: User, job: dict[str, Any], place: access.Place
                ) -> str | None:
        entry = entry_rows.entry_by_id(db, job["entry_id"])
        assert entry is not None
        if job["user_id"] != user.id and not (readers and entry["status"] == "final"):
            return "You do not have access to this dictation."
        return access.reads_case(db, user, job, place)

    return access.guard(db, user, action, lambda: job_rows.job_by_id(db, job_id), place,
                        rule=may_use, missing="There is no such dictation.", hide=True,
                        log_allowed=log_allowed)


def _draft_for(db: Database, user: User, entry_id: int, action: str) -> dict[str, Any]:
    """The user's own draft on a case they hold, to dictate into (logged by the upload)."""

    def own_draft(db: Database, user: User, entry: dict[str, Any], place: access.Place
                  ) -> str | None:
        if entry["author_id"] != user.id:
            return "You can dictate only into your own draft on a case you hold."
        return access.reads_case(db, user, entry, place)

    entry = access.guard(
        db, user, action, lambda: entry_rows.entry_by_id(db, entry_id),
        lambda entry: access.in_case(db, entry["case_id"], entry_id=entry_id),
        rule=own_draft, missing="There is no such entry.", hide=True, log_allowed=False)
    if entry["status"] != "draft":
        raise Conflict("This entry is final: dictate into a new entry instead.")
    return entry


# --- upload -------------------------------------------------------------------------------

def start(db: Database, settings: Settings, user: User, filename: str, *,
          entry_id: int | None = None, case_id: int | None = None,
          draft: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new dictation for a draft entry, waiting for its audio. Given a case instead of an
    entry, the draft is started first (from `draft`: kind, occurred_at, text, children)."""
    name = check_filename(filename)
    if entry_id is None:
        if case_id is None:
            raise Invalid("Say which entry (or which case) the recording is for.")
        # Checked here too, so that a refusal is logged as a dictation, not as an entry.
        access.case_for(db, user, case_id, "dictation.upload")
        fields = draft or {}
        entry_id = entries.start_entry(
            db, user, case_id, fields.get("kind") or "home_visit",
            fields.get("occurred_at") or _now_local(),
            fields.get("text") or "", fields.get("children"))["id"]
    entry = _draft_for(db, user, entry_id, "dictation.upload")
    part = _private_dir(settings.data_dir / "uploads") / f"{uuid.uuid4().hex}.part"
    os.close(os.open(part, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
    with transaction(db):
        job_id = job_rows.insert_job(db, entry_id, entry["case_id"], user.id, name, str(part),
                                     settings.keep_audio)
        access.record(db, user, "dictation.upload", case_id=entry["case_id"],
                      entry_id=entry_id, detail=f"dictation {job_id}")
    return job_view(job_rows.job_by_id(db, job_id))  # type: ignore[arg-type]


def _now_local() -> str:
    from datetime import datetime

    return datetime.now().replace(microsecond=0).isoformat(timespec="minutes")


async def receive(db: Database, settings: Settings, user: User, job_id: int, offset: int,
                  body: AsyncIterator[bytes]) -> int:
    """Write one piece of the recording at `offset`; returns how many bytes the server holds.

    A piece cut off by a dropped connection is kept up to where it stopped, so the browser
    resumes from there. Over the size limit the upload ends, failed, with the reason."""
    job = _job_for(db, user, job_id, "dictation.upload", log_allowed=False)
    if job["status"] != "uploading":
        raise Conflict("This recording has already been received.")
    if offset != job["received"]:
        raise Conflict(f"The server holds {job['received']} bytes of this recording; "
                       "send the rest from there.")
    limit = _max_bytes(settings)
    part = Path(job["audio_path"])
    received = offset
    fd = os.open(part, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        os.ftruncate(fd, offset)  # drop anything past what was counted
        os.lseek(fd, offset, os.SEEK_SET)
        async for piece in body:
            if received + len(piece) > limit:
                os.close(fd)
                fd = -1
                _unlink(part)
                reason = (f"The recording is too large (over {settings.max_audio_mb} MB, the "
                          "limit). Split it into shorter parts.")
                with transaction(db):
                    job_rows.mark_failed(db, job_id, reason)
                raise TooLarge(reason)
            os.write(fd, piece)
            received += len(piece)
    finally:
        if fd >= 0:
            os.close(fd)
        job_rows.set_received(db, job_id, received)
    return received


def complete(db: Database, settings: Settings, user: User, job_id: int) -> dict[str, Any]:
    """All of the recording is here: content-address it, check it, and queue it.

    Unusable audio ends the job as failed with the reason; the draft is never touched.
    A repeated call (a retry whose first answer was lost) gets the same job back."""
    _job_for(db, user, job_id, "dictation.upload", log_allowed=False)
    with _completing_lock(job_id):
        return _complete(db, settings, job_id)


@contextlib.contextmanager
def _completing_lock(job_id: int) -> Iterator[None]:
    """One completion per job at a time in this process (the second waits, then sees it done)."""
    with _completing_guard:
        lock = _completing.setdefault(job_id, threading.Lock())
    with lock:
        yield
    with _completing_guard:
        _completing.pop(job_id, None)


def _complete(db: Database, settings: Settings, job_id: int) -> dict[str, Any]:
    from service.asr.audio import AudioError, probe_audio  # av and numpy: only when needed

    job = job_rows.job_by_id(db, job_id)
    assert job is not None
    if job["status"] != "uploading":
        return job_view(job)
    part = Path(job["audio_path"])
    if not part.exists():
        with transaction(db):
            job_rows.mark_failed(db, job_id, "Nothing of the recording reached the server. "
                                             "Record or choose the file again.")
        return job_view(job_rows.job_by_id(db, job_id))  # type: ignore[arg-type]
    size = part.stat().st_size
    digest = _sha256(part)
    stored = _private_dir(settings.audio_dir) / digest
    if stored.exists():
        _unlink(part)  # the same recording is already here
    else:
        os.replace(part, stored)
    os.chmod(stored, 0o600)
    duration = None
    try:
        # A usual dictation is checked here, for an answer at once; a long file is checked by
        # the worker at low priority instead (probing decodes all of it), failing the same way.
        if size <= INLINE_CHECK_BYTES:
            duration = probe_audio(stored, max_mb=settings.max_audio_mb,
                                   max_seconds=settings.max_audio_seconds).duration
    except AudioError as error:
        with transaction(db):
            job_rows.mark_failed(db, job_id, error.message, sha256=digest, path=str(stored),
                                 size=size)
        discard_audio(db, job_id)
        return job_view(job_rows.job_by_id(db, job_id))  # type: ignore[arg-type]
    with transaction(db):
        if not job_rows.mark_queued(db, job_id, digest, str(stored), size, duration):
            raise Conflict("This dictation was cancelled while it arrived.")
    return job_view(job_rows.job_by_id(db, job_id))  # type: ignore[arg-type]


# --- reading and changing jobs ------------------------------------------------------------

def job_view(job: dict[str, Any], after: int = 0) -> dict[str, Any]:
    """What a page or script sees of a job (no file paths)."""
    return {
        "id": job["id"], "entry_id": job["entry_id"], "case_id": job["case_id"],
        "status": job["status"], "filename": job["filename"], "received": job["received"],
        "size": job["size"], "duration": job["duration"], "progress": job["progress"],
        "segments_from": after, "segments": job["segments"][after:],
        "segment_count": len(job["segments"]),
        "text": job["text"], "corrections": job["corrections"], "error": job["error"],
        "model": job["model"], "created_at": job["created_at"],
        "finished_at": job["finished_at"], "applied_at": job["applied_at"],
        "has_audio": bool(job["audio_sha256"]) and job["audio_deleted_at"] is None,
        "audio_url": f"/api/v1/dictations/{job['id']}/audio",
    }


def status(db: Database, user: User, job_id: int, after: int = 0) -> dict[str, Any]:
    """A job's state and the segments from number `after` on. Polled every second or so
    while it runs, so only refusals are logged here (the upload and the audio always are)."""
    return job_view(_job_for(db, user, job_id, "dictation.view", log_allowed=False),
                    max(0, after))


def of_entry(db: Database, user: User, entry_id: int) -> list[dict[str, Any]]:
    """Every dictation of a draft, for the page coming back to it."""
    entries.entry_for(db, user, entry_id, "dictation.list")
    jobs = [job for job in job_rows.jobs_of_entry(db, entry_id) if job["user_id"] == user.id]
    return [job_view(job) for job in jobs]


def cancel(db: Database, settings: Settings, user: User, job_id: int) -> dict[str, Any]:
    job = _job_for(db, user, job_id, "dictation.cancel")
    with transaction(db):
        if job_rows.mark_cancelled(db, job_id) and job["status"] == "uploading":
            _unlink(job["audio_path"])
    return job_view(job_rows.job_by_id(db, job_id))  # type: ignore[arg-type]


def applied(db: Database, user: User, job_id: int) -> dict[str, Any]:
    """A page is putting the transcript into the draft text. `first` is true for the one page
    that claims it first, so two open tabs do not both add it."""
    _job_for(db, user, job_id, "dictation.apply")
    with transaction(db):
        first = job_rows.mark_applied(db, job_id)
    return dict(job_view(job_rows.job_by_id(db, job_id)), first=first)  # type: ignore[arg-type]


def audio_file(db: Database, user: User, job_id: int) -> tuple[Path, str]:
    """The recording for playback, and its media type. Every request is logged."""
    job = _job_for(db, user, job_id, "dictation.audio", readers=True)
    if not job["audio_sha256"] or job["audio_deleted_at"] or job["status"] == "uploading":
        raise NotFound("This recording is not kept: audio is deleted when the entry is final "
                       "or when it could not be used.")
    path = Path(job["audio_path"])
    if not path.is_file():
        raise NotFound("This recording is no longer on the server.")
    return path, MEDIA_TYPES.get(_extension(job["filename"]), "application/octet-stream")


# --- data minimisation --------------------------------------------------------------------

def entry_finalised(db: Database, entry_id: int) -> int:
    """Run once an entry's finalising has been committed (review.finalise): stop its
    dictations and delete their audio unless kept by the `keep_audio` setting (recorded on
    each job when it arrived). Returns the number of files removed."""
    removed = 0
    with transaction(db):
        for job_id in job_rows.cancel_active_of_entry(db, entry_id):
            job = job_rows.job_by_id(db, job_id)
            if job and job["audio_path"] and not job["audio_sha256"]:
                _unlink(job["audio_path"])  # a part-upload
        done: list[int] = []
        for job in job_rows.jobs_with_audio_of_entry(db, entry_id):
            if job["keep_audio"]:
                continue
            sha = job["audio_sha256"]
            if sha is None or not job_rows.audio_still_needed(db, sha, except_entry=entry_id):
                if Path(job["audio_path"]).exists():
                    removed += 1
                _unlink(job["audio_path"])
            done.append(job["id"])
        job_rows.mark_audio_deleted(db, done)
    return removed


def discard_audio(db: Database, job_id: int) -> None:
    """Unusable or failed audio is not kept: it can only be listened to, never transcribed."""
    with transaction(db):
        job = job_rows.job_by_id(db, job_id)
        if job is None or job["audio_deleted_at"] or not job["audio_path"]:
            return
        if not job["audio_sha256"] or not job_rows.audio_still_needed(
                db, job["audio_sha256"], except_job=job_id):
            after_commit(db, partial(_unlink, job["audio_path"]))
        job_rows.mark_audio_deleted(db, [job_id])


def clean_up_final_entries(db: Database) -> int:
    """At start-up: remove audio a missed clean-up left behind for final entries."""
    return sum(entry_finalised(db, entry_id)
               for entry_id in job_rows.final_entries_with_audio(db))


# --- vocabulary ---------------------------------------------------------------------------

def case_vocabulary(db: Database, case_id: int, rules: RuleSet) -> CaseVocabulary:
    """The case's people on record (names, relationship or role, professionals too) and the
    taxonomy's terms, for hearing this family's words right."""
    from service.asr.vocabulary import CaseVocabulary

    members = [
        {"id": str(person["id"]), "name": person["name"],
         "role": person["relationship"] or person["category"]}
        for person in case_rows.people_on_case(db, case_id)
    ]
    return CaseVocabulary.build(members, rules=rules)
