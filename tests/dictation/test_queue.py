"""The job queue across restarts, audio kept by setting, and the case's vocabulary."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlite_utils import Database

from service import dictation
from service.app import create_app
from service.settings import Settings
from service.storage import transcriptions as job_rows
from tests.conftest import bundled_rules, case_id
from tests.dictation.conftest import AUDIO, bearer, upload, wait_for


def test_shutdown_requeues_and_a_new_app_resumes(settings: Settings, demo_db: Database) -> None:
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    with TestClient(create_app(settings)) as first:
        job = upload(first, headers, AUDIO / "clip01.ogg", case_id=jones)  # 54 s of audio
        running = wait_for(first, headers, job["id"], ("running", "done"))
        assert running["status"] == "running"
        deadline = time.monotonic() + 30
        while not job_rows.job_by_id(demo_db, job["id"])["segments"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    # The app stopped mid-job: the job went back to the queue, not lost and not half-done.
    stopped = job_rows.job_by_id(demo_db, job["id"])
    assert stopped["status"] == "queued" and stopped["segments"] == []
    with TestClient(create_app(settings)) as second:
        done = wait_for(second, headers, job["id"])
    assert done["status"] == "done" and "Sarah" in done["text"]
    assert job_rows.job_by_id(demo_db, job["id"])["attempts"] == 2


def test_job_left_running_by_a_crash_is_picked_up(settings: Settings, demo_db: Database,
                                                  clip: Path) -> None:
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    with TestClient(create_app(settings)) as first:
        job = upload(first, headers, clip, case_id=jones)
        wait_for(first, headers, job["id"])
    # As if the process died mid-transcription: running, with some segments written.
    demo_db.execute("UPDATE transcriptions SET status = 'running', text = NULL, progress = 0.4,"
                    " segments = '[{\"start\": 0, \"end\": 5, \"text\": \"half\"}]' WHERE id = ?",
                    [job["id"]])
    with TestClient(create_app(settings)) as second:
        done = wait_for(second, headers, job["id"])
    assert done["status"] == "done" and done["progress"] == 1
    assert done["segments"][0]["text"] != "half"


def test_keep_audio_setting(settings: Settings, demo_db: Database, clip: Path) -> None:
    settings.keep_audio = True
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    with TestClient(create_app(settings)) as client:
        job = upload(client, headers, clip, case_id=jones)
        wait_for(client, headers, job["id"])
        client.put(f"/api/v1/entries/{job['entry_id']}/draft", headers=headers,
                   json={"text": "Dictated."})
        assert client.post(f"/api/v1/entries/{job['entry_id']}/finalise", headers=headers
                           ).status_code == 200
        assert len(list(settings.audio_dir.iterdir())) == 1
        # Kept audio of a final entry: those who can read the case may listen, and it is logged.
        reviewer = client.get(f"/api/v1/dictations/{job['id']}/audio",
                              headers=bearer(demo_db, "reviewer"))
        assert reviewer.status_code == 200
        assert client.get(f"/api/v1/dictations/{job['id']}/audio",
                          headers=bearer(demo_db, "worker2")).status_code == 404


def test_start_up_removes_audio_a_missed_clean_up_left(settings: Settings, demo_db: Database,
                                                        clip: Path) -> None:
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    with TestClient(create_app(settings)) as client:
        job = upload(client, headers, clip, case_id=jones)
        wait_for(client, headers, job["id"])
    # Finalised by a path that skipped the hook (e.g. a crash between the two steps).
    demo_db.execute("UPDATE entries SET draft_text = 'x' WHERE id = ?", [job["entry_id"]])
    from service.storage import entries as entry_rows

    entry_rows.insert_revision(demo_db, job["entry_id"], "home_visit", "2026-03-10T14:00", "x",
                               [], 1)
    assert len(list(settings.audio_dir.iterdir())) == 1
    with TestClient(create_app(settings)):
        pass
    assert list(settings.audio_dir.iterdir()) == []


def test_case_vocabulary_from_people_on_record(settings: Settings, demo_db: Database) -> None:
    jones = case_id(demo_db, "RFS-1042")
    vocabulary = dictation.case_vocabulary(demo_db, jones, bundled_rules())
    names = {term.text for term in vocabulary.names()}
    assert {"Sarah", "Jones", "Priya", "Shah", "Mark Evans"} <= names
    kinds = {term.kind for term in vocabulary.terms}
    assert {"name", "kinship", "risk"} <= kinds
    assert "Sarah" in vocabulary.prompt()
