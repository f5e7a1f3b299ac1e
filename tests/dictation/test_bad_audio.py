"""Unusable recordings: each fails with a reason the worker can act on; the draft is untouched
and the unusable audio is not kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlite_utils import Database

from service.settings import Settings
from tests.conftest import case_id
from tests.dictation.conftest import AUDIO, bearer, start, upload, wait_for

BAD = {
    "empty.wav": "empty",
    "notaudio.wav": "not a recording",
    "truncated.wav": "incomplete",
    "truncated.flac": "",
    "truncated.m4a": "",
    "header_only.ogg": "",
    "corrupt.ogg": "",
    "silence.ogg": "silent",
    "silence.wav": "",
}


def _draft(client: TestClient, headers: dict[str, str], demo_db: Database) -> dict:
    jones = case_id(demo_db, "RFS-1042")
    return client.post(f"/api/v1/cases/{jones}/entries", headers=headers, json={
        "kind": "home_visit", "occurred_at": "2026-03-10T14:00", "text": "Kept as it was."}
    ).json()


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_fails_with_reason(client: TestClient, demo_db: Database, settings: Settings,
                                    name: str) -> None:
    headers = bearer(demo_db, "worker")
    entry = _draft(client, headers, demo_db)
    job = upload(client, headers, AUDIO / "bad" / name, entry_id=entry["id"])
    if job["status"] == "queued":  # some damage only shows when the worker decodes it
        job = wait_for(client, headers, job["id"])
    assert job["status"] == "failed", (name, job)
    assert job["error"] and len(job["error"]) > 20
    assert BAD[name] in job["error"]
    assert not job["has_audio"]
    assert not settings.audio_dir.exists() or list(settings.audio_dir.iterdir()) == []
    after = client.get(f"/api/v1/entries/{entry['id']}", headers=headers).json()
    assert after["draft_text"] == "Kept as it was." and after["draft_version"] == entry[
        "draft_version"]


@pytest.mark.parametrize("name", ["notaudio.wav", "silence.ogg", "truncated.wav"])
def test_long_files_are_checked_by_the_worker(client: TestClient, demo_db: Database,
                                              monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Big files skip the check on arrival; the worker finds the same fault and says so."""
    from service import dictation

    monkeypatch.setattr(dictation, "INLINE_CHECK_BYTES", 0)
    headers = bearer(demo_db, "worker")
    entry = _draft(client, headers, demo_db)
    job = upload(client, headers, AUDIO / "bad" / name, entry_id=entry["id"])
    assert job["status"] == "queued"
    failed = wait_for(client, headers, job["id"])
    assert failed["status"] == "failed" and BAD[name] in failed["error"] and not failed["has_audio"]


def test_not_an_audio_name(client: TestClient, demo_db: Database) -> None:
    headers = bearer(demo_db, "worker")
    entry = _draft(client, headers, demo_db)
    response = client.post("/api/v1/dictations", headers=headers,
                           json={"filename": "notes.docx", "entry_id": entry["id"]})
    assert response.status_code == 422 and "formats" in response.json()["error"]


@pytest.fixture
def small_settings(settings: Settings) -> Settings:
    settings.max_audio_mb = 1
    settings.max_audio_seconds = 10
    return settings


@pytest.fixture
def small_client(small_settings: Settings, demo_db: Database):  # noqa: ANN201
    from service.app import create_app

    with TestClient(create_app(small_settings)) as test_client:
        yield test_client


def test_too_big_while_streaming(small_client: TestClient, demo_db: Database,
                                 small_settings: Settings, tmp_path: Path) -> None:
    headers = bearer(demo_db, "worker")
    entry = _draft(small_client, headers, demo_db)
    job = start(small_client, headers, "long.wav", entry_id=entry["id"])
    data = (AUDIO / "clip08.wav").read_bytes() * 3  # 1.36 MB
    refused = None
    for offset in range(0, len(data), 256 * 1024):
        response = small_client.put(f"/api/v1/dictations/{job['id']}/audio?offset={offset}",
                                    headers=headers, content=data[offset:offset + 256 * 1024])
        if response.status_code != 200:
            refused = response
            break
    assert refused is not None and refused.status_code == 413
    assert "too large" in refused.json()["error"]
    state = small_client.get(f"/api/v1/dictations/{job['id']}", headers=headers).json()
    assert state["status"] == "failed" and "1 MB" in state["error"]
    assert list((small_settings.data_dir / "uploads").iterdir()) == []
    after = small_client.get(f"/api/v1/entries/{entry['id']}", headers=headers).json()
    assert after["draft_text"] == "Kept as it was."


def test_too_long(small_client: TestClient, demo_db: Database) -> None:
    headers = bearer(demo_db, "worker")
    entry = _draft(small_client, headers, demo_db)
    job = upload(small_client, headers, AUDIO / "clip08.wav", entry_id=entry["id"])  # 14 s
    assert job["status"] == "failed" and "too long" in job["error"]
