"""Queries for dictation jobs: an upload, then a transcription job worked by the queue.

One row per recording sent for an entry. It moves uploading -> queued -> running -> done, or
ends failed (with the reason a worker can read) or cancelled. Segments are appended as the
transcriber produces them, so a page can show the text growing and a restart loses nothing
that is finished.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from service.storage.db import now, one_row, transaction

# "uploading" comes before the five states: the recording is still arriving.
STATUSES = ("uploading", "queued", "running", "done", "failed", "cancelled")
ACTIVE = ("uploading", "queued", "running")


def create_transcriptions(db: Database) -> None:
    statuses = ", ".join(f"'{s}'" for s in STATUSES)
    db.executescript(
        f"""
        CREATE TABLE transcriptions (
            id INTEGER PRIMARY KEY,
            entry_id INTEGER NOT NULL REFERENCES entries(id),
            case_id INTEGER NOT NULL REFERENCES cases(id),
            user_id INTEGER NOT NULL REFERENCES users(id),
            status TEXT NOT NULL CHECK (status IN ({statuses})),
            filename TEXT NOT NULL DEFAULT '',
            received INTEGER NOT NULL DEFAULT 0,
            audio_sha256 TEXT,
            audio_path TEXT,
            keep_audio INTEGER NOT NULL DEFAULT 0,
            size INTEGER,
            duration REAL,
            progress REAL NOT NULL DEFAULT 0,
            segments TEXT NOT NULL DEFAULT '[]',
            text TEXT,
            corrections TEXT NOT NULL DEFAULT '[]',
            error TEXT,
            model TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            applied_at TEXT,
            audio_deleted_at TEXT
        );
        CREATE INDEX transcriptions_entry ON transcriptions (entry_id, id);
        CREATE INDEX transcriptions_status ON transcriptions (status, id);
        CREATE INDEX transcriptions_audio ON transcriptions (audio_sha256);
        """
    )


def insert_job(db: Database, entry_id: int, case_id: int, user_id: int, filename: str,
               part_path: str, keep_audio: bool) -> int:
    """A new dictation, its audio arriving at `part_path` until it is complete."""
    stamp = now()
    cursor = db.execute(
        "INSERT INTO transcriptions (entry_id, case_id, user_id, status, filename, audio_path,"
        " keep_audio, created_at, updated_at) VALUES (?, ?, ?, 'uploading', ?, ?, ?, ?, ?)",
        [entry_id, case_id, user_id, filename, part_path, int(keep_audio), stamp, stamp],
    )
    return int(cursor.lastrowid)


def job_by_id(db: Database, job_id: int) -> dict[str, Any] | None:
    return _decoded(one_row(db, "SELECT * FROM transcriptions WHERE id = ?", [job_id]))


def jobs_of_entry(db: Database, entry_id: int) -> list[dict[str, Any]]:
    rows = db.query("SELECT * FROM transcriptions WHERE entry_id = ? ORDER BY id", [entry_id])
    return [_decoded(row) for row in rows]  # type: ignore[misc]


def set_received(db: Database, job_id: int, received: int) -> None:
    db.execute("UPDATE transcriptions SET received = ?, updated_at = ? WHERE id = ?"
               " AND status = 'uploading'", [received, now(), job_id])


def mark_queued(db: Database, job_id: int, sha256: str, path: str, size: int,
                duration: float | None) -> bool:
    cursor = db.execute(
        "UPDATE transcriptions SET status = 'queued', audio_sha256 = ?, audio_path = ?, size = ?,"
        " received = ?, duration = ?, updated_at = ? WHERE id = ? AND status = 'uploading'",
        [sha256, path, size, size, duration, now(), job_id])
    return cursor.rowcount == 1


def mark_failed(db: Database, job_id: int, reason: str, *, sha256: str | None = None,
                path: str | None = None, size: int | None = None) -> None:
    stamp = now()
    db.execute(
        "UPDATE transcriptions SET status = 'failed', error = ?,"
        " audio_sha256 = coalesce(?, audio_sha256), audio_path = coalesce(?, audio_path),"
        " size = coalesce(?, size), updated_at = ?, finished_at = ?"
        " WHERE id = ? AND status IN ('uploading', 'queued', 'running')",
        [reason, sha256, path, size, stamp, stamp, job_id])


def mark_cancelled(db: Database, job_id: int) -> bool:
    stamp = now()
    cursor = db.execute(
        "UPDATE transcriptions SET status = 'cancelled', updated_at = ?, finished_at = ?"
        " WHERE id = ? AND status IN ('uploading', 'queued', 'running')", [stamp, stamp, job_id])
    return cursor.rowcount == 1


def claim_next(db: Database) -> dict[str, Any] | None:
    """The oldest queued job, now running. One statement under BEGIN IMMEDIATE: two workers
    (or two processes) can never claim the same job."""
    stamp = now()
    with transaction(db):
        # Read every row so the statement is finished before COMMIT.
        rows = list(db.query(
            "UPDATE transcriptions SET status = 'running', attempts = attempts + 1,"
            " started_at = ?, updated_at = ?, progress = 0, segments = '[]'"
            " WHERE id = (SELECT id FROM transcriptions WHERE status = 'queued' ORDER BY id"
            " LIMIT 1) RETURNING *", [stamp, stamp]))
    return _decoded(rows[0]) if rows else None


def add_segment(db: Database, job_id: int, segment: dict[str, Any], progress: float) -> str | None:
    """Append one segment to a running job; returns the job's status (cancelled stops it)."""
    with transaction(db):
        db.execute(
            "UPDATE transcriptions SET segments = json_insert(segments, '$[#]', json(?)),"
            " progress = ?, updated_at = ? WHERE id = ? AND status = 'running'",
            [json.dumps(segment), progress, now(), job_id])
        row = one_row(db, "SELECT status FROM transcriptions WHERE id = ?", [job_id])
    return row["status"] if row else None


def mark_done(db: Database, job_id: int, result: dict[str, Any]) -> bool:
    stamp = now()
    cursor = db.execute(
        "UPDATE transcriptions SET status = 'done', progress = 1, segments = ?, text = ?,"
        " corrections = ?, duration = ?, model = ?, updated_at = ?, finished_at = ?"
        " WHERE id = ? AND status = 'running'",
        [json.dumps(result["segments"]), result["text"], json.dumps(result["corrections"]),
         result["duration"], result["model"], stamp, stamp, job_id])
    return cursor.rowcount == 1


def requeue(db: Database, job_id: int) -> None:
    """A running job stopped by shutdown goes back to the queue, to start again."""
    db.execute("UPDATE transcriptions SET status = 'queued', progress = 0, segments = '[]',"
               " updated_at = ? WHERE id = ? AND status = 'running'", [now(), job_id])


def requeue_interrupted(db: Database) -> int:
    """Jobs left running by a server that stopped; they start again from the beginning."""
    cursor = db.execute(
        "UPDATE transcriptions SET status = 'queued', progress = 0, segments = '[]',"
        " updated_at = ? WHERE status = 'running'", [now()])
    return cursor.rowcount


def mark_applied(db: Database, job_id: int) -> bool:
    """Whether this call was the first to mark the transcript as put into the draft."""
    cursor = db.execute("UPDATE transcriptions SET applied_at = ? WHERE id = ?"
                        " AND status = 'done' AND applied_at IS NULL", [now(), job_id])
    return cursor.rowcount == 1


def jobs_with_audio_of_entry(db: Database, entry_id: int) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT * FROM transcriptions WHERE entry_id = ? AND audio_path IS NOT NULL"
        " AND audio_deleted_at IS NULL", [entry_id]))


def audio_still_needed(db: Database, sha256: str, *, except_entry: int = 0,
                       except_job: int = 0) -> bool:
    """Whether another job still holds the same recording (content-addressed files are
    shared): one for a draft elsewhere, or a final entry whose audio is kept."""
    row = one_row(
        db,
        "SELECT 1 FROM transcriptions JOIN entries ON entries.id = transcriptions.entry_id"
        " WHERE transcriptions.audio_sha256 = ? AND transcriptions.entry_id != ?"
        " AND transcriptions.id != ? AND transcriptions.audio_deleted_at IS NULL"
        " AND transcriptions.status != 'failed'"
        " AND (entries.status = 'draft' OR transcriptions.keep_audio = 1) LIMIT 1",
        [sha256, except_entry, except_job])
    return row is not None


def mark_audio_deleted(db: Database, job_ids: list[int]) -> None:
    if not job_ids:
        return
    marks = ",".join("?" * len(job_ids))
    db.execute(f"UPDATE transcriptions SET audio_deleted_at = ? WHERE id IN ({marks})",
               [now(), *job_ids])


def cancel_active_of_entry(db: Database, entry_id: int) -> list[int]:
    """Cancel what is still arriving or waiting for an entry; returns the cancelled ids."""
    ids = [row["id"] for row in db.query(
        "SELECT id FROM transcriptions WHERE entry_id = ? AND status IN"
        " ('uploading', 'queued', 'running')", [entry_id])]
    for job_id in ids:
        mark_cancelled(db, job_id)
    return ids


def final_entries_with_audio(db: Database) -> list[int]:
    """Entries already final whose audio is still on disk and not kept (a missed clean-up)."""
    return [row["entry_id"] for row in db.query(
        "SELECT DISTINCT transcriptions.entry_id FROM transcriptions"
        " JOIN entries ON entries.id = transcriptions.entry_id"
        " WHERE entries.status = 'final' AND transcriptions.audio_path IS NOT NULL"
        " AND transcriptions.audio_deleted_at IS NULL AND transcriptions.keep_audio = 0")]


def _decoded(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    row = dict(row)
    row["segments"] = json.loads(row.get("segments") or "[]")
    row["corrections"] = json.loads(row.get("corrections") or "[]")
    row["keep_audio"] = bool(row.get("keep_audio"))
    return row
