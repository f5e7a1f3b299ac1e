"""Dictation end to end through the API: upload, job, transcript, access, audio lifecycle."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlite_utils import Database

from service import accounts, review
from service.settings import Settings
from service.storage.db import transaction
from tests.conftest import case_id
from tests.dictation.conftest import AUDIO, bearer, send, start, upload, wait_for


def _draft(client: TestClient, headers: dict[str, str], case: int, text: str = "Typed first."
           ) -> dict:
    response = client.post(f"/api/v1/cases/{case}/entries", headers=headers, json={
        "kind": "home_visit", "occurred_at": "2026-03-10T14:00", "text": text})
    assert response.status_code == 201
    return response.json()


def test_upload_job_done_transcript(client: TestClient, demo_db: Database, settings: Settings,
                                    clip: Path) -> None:
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    entry = _draft(client, headers, jones)
    job = upload(client, headers, clip, entry_id=entry["id"])
    assert job["status"] == "queued" and job["duration"] > 10 and job["has_audio"]
    done = wait_for(client, headers, job["id"])
    assert done["status"] == "done", done["error"]
    assert done["progress"] == 1 and done["model"] == "tiny.en"
    # Whisper decides how many segments a 14 s clip makes (one or more, by model version).
    segments = done["segments"]
    assert "today" in done["text"].lower() and segments
    assert all(s["end"] > s["start"] for s in segments)
    assert " ".join(s["text"] for s in segments) == done["text"]
    # Segments can be asked for from a number on, as the page polls.
    for after in range(len(segments) + 1):
        later = client.get(f"/api/v1/dictations/{job['id']}?after={after}",
                           headers=headers).json()
        assert later["segments"] == segments[after:]
        assert later["segment_count"] == len(segments)
    # The draft is the worker's to change: the transcript does not overwrite it.
    draft = client.get(f"/api/v1/entries/{entry['id']}", headers=headers).json()
    assert draft["draft_text"] == "Typed first."
    listed = client.get(f"/api/v1/entries/{entry['id']}/dictations", headers=headers).json()
    assert [j["id"] for j in listed] == [job["id"]] and listed[0]["applied_at"] is None
    applied = client.post(f"/api/v1/dictations/{job['id']}/applied", headers=headers).json()
    assert applied["applied_at"] and applied["first"]
    # A second tab on the same draft is told it was already added.
    again = client.post(f"/api/v1/dictations/{job['id']}/applied", headers=headers).json()
    assert again["first"] is False
    # Playback, with ranges for seeking.
    audio = client.get(f"/api/v1/dictations/{job['id']}/audio", headers=headers)
    assert audio.status_code == 200 and audio.content == clip.read_bytes()
    assert audio.headers["content-type"].startswith("audio/wav")
    part = client.get(f"/api/v1/dictations/{job['id']}/audio",
                      headers={**headers, "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == clip.read_bytes()[100:200]
    logged = {row["action"] for row in demo_db.query(
        "SELECT action FROM access_log WHERE entry_id = ? AND outcome = 'allowed'",
        [entry["id"]])}
    assert {"dictation.upload", "dictation.audio", "dictation.list"} <= logged


def test_case_vocabulary_and_visible_corrections(client: TestClient, demo_db: Database) -> None:
    """The Jones family's clip on the Jones case: names heard right, every change listed."""
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    job = upload(client, headers, AUDIO / "clip01.ogg", case_id=jones, kind="home_visit")
    done = wait_for(client, headers, job["id"])
    assert done["status"] == "done", done["error"]
    text = done["text"]
    for name in ("Sarah", "Jack", "Priya"):
        assert name in text
    for correction in done["corrections"]:
        assert {"original", "replacement", "start", "kind"} <= set(correction)
        assert text[correction["char_start"]:correction["char_end"]] == correction["replacement"]


def test_new_draft_on_first_upload(client: TestClient, demo_db: Database, clip: Path) -> None:
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    job = start(client, headers, "car.wav", case_id=jones, kind="phone_call",
                occurred_at="2026-03-11T09:30", text="Before the recording.")
    entry = client.get(f"/api/v1/entries/{job['entry_id']}", headers=headers).json()
    assert entry["status"] == "draft" and entry["kind"] == "phone_call"
    assert entry["draft_text"] == "Before the recording."


def test_resume_after_a_dropped_connection(client: TestClient, demo_db: Database,
                                           settings: Settings, clip: Path) -> None:
    """Pieces sent before the drop are kept; the client carries on from `received`."""
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    data = clip.read_bytes()
    job = start(client, headers, clip.name, case_id=jones)
    send(client, headers, job["id"], data[:100_000])
    # A piece at the wrong offset is refused, and the job says where to go on from.
    wrong = client.put(f"/api/v1/dictations/{job['id']}/audio?offset=5", headers=headers,
                       content=b"xx")
    assert wrong.status_code == 409
    state = client.get(f"/api/v1/dictations/{job['id']}", headers=headers).json()
    assert state["status"] == "uploading" and state["received"] == 100_000
    parts = list((settings.data_dir / "uploads").iterdir())
    assert len(parts) == 1 and stat.S_IMODE(parts[0].stat().st_mode) == 0o600
    rest = client.put(f"/api/v1/dictations/{job['id']}/audio?offset=100000", headers=headers,
                      content=data[100_000:])
    assert rest.json()["received"] == len(data)
    queued = client.post(f"/api/v1/dictations/{job['id']}/complete", headers=headers).json()
    assert queued["status"] == "queued" and queued["size"] == len(data)
    assert wait_for(client, headers, job["id"])["status"] == "done"


def test_files_are_private_and_content_addressed(client: TestClient, demo_db: Database,
                                                 settings: Settings, clip: Path) -> None:
    import hashlib

    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    job = upload(client, headers, clip, case_id=jones)
    stored = settings.audio_dir / hashlib.sha256(clip.read_bytes()).hexdigest()
    assert stored.is_file()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.audio_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((settings.data_dir / "uploads").stat().st_mode) == 0o700
    assert not list((settings.data_dir / "uploads").iterdir())  # no part-file left behind
    # The same recording again shares the file.
    second = upload(client, headers, clip, case_id=jones)
    assert len(list(settings.audio_dir.iterdir())) == 1
    for j in (job, second):
        wait_for(client, headers, j["id"])


def test_another_team_cannot_upload_poll_or_play(client: TestClient, demo_db: Database,
                                                 clip: Path) -> None:
    mine, theirs = bearer(demo_db, "worker"), bearer(demo_db, "worker2")
    jones = case_id(demo_db, "RFS-1042")
    entry = _draft(client, mine, jones)
    job = upload(client, mine, clip, entry_id=entry["id"])
    assert client.post("/api/v1/dictations", headers=theirs, json={
        "filename": "x.wav", "entry_id": entry["id"]}).status_code == 404
    assert client.post("/api/v1/dictations", headers=theirs, json={
        "filename": "x.wav", "case_id": jones}).status_code == 403
    for method, path in (("GET", ""), ("GET", "/audio"), ("POST", "/cancel"),
                         ("PUT", "/audio?offset=0"), ("POST", "/complete")):
        response = client.request(method, f"/api/v1/dictations/{job['id']}{path}",
                                  headers=theirs, content=b"")
        assert response.status_code == 404, (method, path)  # as if there were no such job
    assert client.get(f"/api/v1/entries/{entry['id']}/dictations", headers=theirs
                      ).status_code == 404
    # A reviewer of the team can read the case but not another worker's draft dictation.
    reviewer = bearer(demo_db, "reviewer")
    assert client.get(f"/api/v1/dictations/{job['id']}/audio", headers=reviewer
                      ).status_code == 404
    denied = list(demo_db.query(
        "SELECT action FROM access_log WHERE outcome = 'denied' AND case_id = ?", [jones]))
    assert {"dictation.upload", "dictation.view", "dictation.audio", "dictation.cancel",
            "dictation.list"} <= {row["action"] for row in denied}
    assert [row["action"] for row in denied].count("dictation.upload") >= 4  # + case, PUT, complete
    assert wait_for(client, mine, job["id"])["status"] == "done"


def test_cancel(client: TestClient, demo_db: Database, clip: Path) -> None:
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    job = start(client, headers, clip.name, case_id=jones)
    cancelled = client.post(f"/api/v1/dictations/{job['id']}/cancel", headers=headers).json()
    assert cancelled["status"] == "cancelled"
    late = client.put(f"/api/v1/dictations/{job['id']}/audio?offset=0", headers=headers,
                      content=b"RIFF")
    assert late.status_code == 409


def test_audio_deleted_on_finalise(client: TestClient, demo_db: Database, settings: Settings,
                                   clip: Path) -> None:
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    entry = _draft(client, headers, jones)
    job = upload(client, headers, clip, entry_id=entry["id"])
    wait_for(client, headers, job["id"])
    assert len(list(settings.audio_dir.iterdir())) == 1
    final = client.post(f"/api/v1/entries/{entry['id']}/finalise", headers=headers)
    assert final.status_code == 200, final.text
    assert list(settings.audio_dir.iterdir()) == []
    gone = client.get(f"/api/v1/dictations/{job['id']}/audio", headers=headers)
    assert gone.status_code == 404
    state = client.get(f"/api/v1/dictations/{job['id']}", headers=headers).json()
    assert state["status"] == "done" and not state["has_audio"] and state["text"]


def test_audio_stays_when_the_finalise_rolls_back(client: TestClient, demo_db: Database,
                                                  settings: Settings, clip: Path) -> None:
    """The audio goes only once the finalise is committed: a rollback keeps draft and audio."""
    headers = bearer(demo_db, "worker")
    entry = _draft(client, headers, case_id(demo_db, "RFS-1042"))
    job = upload(client, headers, clip, entry_id=entry["id"])
    wait_for(client, headers, job["id"])
    worker = accounts.get_user_by_name(demo_db, "worker")
    with pytest.raises(RuntimeError, match="later step"), transaction(demo_db):
        assert review.finalise(demo_db, worker, entry["id"])["status"] == "final"
        assert len(list(settings.audio_dir.iterdir())) == 1  # not before the commit
        raise RuntimeError("a later step of the same write fails")
    assert client.get(f"/api/v1/entries/{entry['id']}", headers=headers).json()["status"] \
        == "draft"
    assert len(list(settings.audio_dir.iterdir())) == 1
    kept = client.get(f"/api/v1/dictations/{job['id']}/audio", headers=headers)
    assert kept.status_code == 200 and kept.content
    final = review.finalise(demo_db, worker, entry["id"])
    assert final["status"] == "final"
    assert list(settings.audio_dir.iterdir()) == []
    assert client.get(f"/api/v1/dictations/{job['id']}/audio", headers=headers
                      ).status_code == 404


def test_transcribe_what_arrived(client: TestClient, demo_db: Database) -> None:
    """The browser lost its copy: what reached the server can still be transcribed."""
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    data = (AUDIO / "clip01.ogg").read_bytes()
    job = start(client, headers, "clip01.ogg", case_id=jones)
    send(client, headers, job["id"], data[: len(data) // 2])
    part = client.post(f"/api/v1/dictations/{job['id']}/complete", headers=headers).json()
    assert part["status"] in ("queued", "failed")
    done = wait_for(client, headers, job["id"])
    # Ogg has no length in its header: half a file is half a recording, transcribed.
    assert done["status"] == "done" and 15 < done["duration"] < 40 and "Sarah" in done["text"]


def test_completing_twice_at_once(client: TestClient, demo_db: Database, clip: Path) -> None:
    """A retried completion racing the first one gets the same queued job, not a failure."""
    from concurrent.futures import ThreadPoolExecutor

    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    job = start(client, headers, clip.name, case_id=jones)
    send(client, headers, job["id"], clip.read_bytes())
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda _: client.post(
            f"/api/v1/dictations/{job['id']}/complete", headers=headers).json(), range(2)))
    assert all(reply["status"] in ("queued", "running", "done") for reply in replies), replies
    assert wait_for(client, headers, job["id"])["status"] == "done"
