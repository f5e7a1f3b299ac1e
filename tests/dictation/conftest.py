"""Dictation fixtures: the app with its transcription worker, and helpers to send audio.

The real bundled tiny.en model is used; service.transcription_queue keeps one loaded model per
process, so it is loaded once for the whole session however many apps the tests start.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlite_utils import Database

from service import accounts

AUDIO = Path(__file__).resolve().parents[2] / "fixtures" / "audio"


@pytest.fixture(scope="session")
def clip() -> Path:
    """A short clean dictation clip (14 s, Ellie Hughes); fixtures/audio is helper-built."""
    path = AUDIO / "clip08.wav"
    assert path.is_file(), "fixtures/audio/clip08.wav is missing: run fixtures/audio/make_clips.py"
    return path


def bearer(db: Database, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.create_token(db, username)}"}


def start(client: TestClient, headers: dict[str, str], filename: str, **target: Any
          ) -> dict[str, Any]:
    response = client.post("/api/v1/dictations", headers=headers,
                           json={"filename": filename, **target})
    assert response.status_code == 201, response.text
    return response.json()


def send(client: TestClient, headers: dict[str, str], job_id: int, data: bytes,
         chunk: int = 256 * 1024) -> int:
    """The audio in pieces at their offsets, as the page sends it."""
    received = 0
    for offset in range(0, max(len(data), 1), chunk):
        response = client.put(f"/api/v1/dictations/{job_id}/audio?offset={offset}",
                              headers=headers, content=data[offset:offset + chunk])
        assert response.status_code == 200, response.text
        received = response.json()["received"]
    return received


def upload(client: TestClient, headers: dict[str, str], path: Path, **target: Any
           ) -> dict[str, Any]:
    job = start(client, headers, path.name, **target)
    send(client, headers, job["id"], path.read_bytes())
    response = client.post(f"/api/v1/dictations/{job['id']}/complete", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(client: TestClient, headers: dict[str, str], job_id: int,
             statuses: tuple[str, ...] = ("done", "failed", "cancelled"),
             timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/dictations/{job_id}", headers=headers).json()
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"job still {job['status']}"
        time.sleep(0.2)
