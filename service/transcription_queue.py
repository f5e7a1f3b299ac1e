"""The transcription workers: a bounded pool of threads working the jobs table in SQLite.

Started and stopped by the app's lifespan. Each worker claims the oldest queued job atomically,
transcribes it with the case's vocabulary, and writes each segment (and the progress, segment
end over duration) as it arrives, so pages see the text grow. Jobs left running by a stopped
server are queued again at start-up; a job stopped by shutdown goes back to the queue.

Why threads at low priority: faster-whisper (CTranslate2) and the audio decoding release the
GIL, so a thread costs the web little Python time; Linux keeps a nice value per thread and new
threads inherit it, so niceing the worker thread before it loads the model puts CTranslate2's
own compute threads at low priority too. On 2 cores one worker with one compute thread leaves
the other core to the web, and the scheduler gives page requests the shared one first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service import dictation
from service.asr.audio import AudioError
from service.asr.transcriber import Segment, Transcriber, load_transcriber
from service.nlp.rule_files import RuleFiles
from service.settings import Settings
from service.storage import open_db
from service.storage import transcriptions as job_rows
from service.storage.db import transaction

log = logging.getLogger("casenotes.transcription")
WORKER_NICE = 10
IDLE_POLL_SECONDS = 5.0  # also notices jobs queued by another process
# Loaded models, shared by every queue in this process (tests start many apps): one per
# (model, compute threads, limits), loaded once.
_models: dict[tuple[str, int, int, int], Transcriber] = {}
_models_lock = threading.Lock()


class _Stop(Exception):
    """Raised from the segment callback to stop a job: cancelled, or the server stopping."""


def compute_threads(workers: int) -> int:
    """CTranslate2 threads per worker: leave at least one core for the web."""
    cores = os.cpu_count() or 1
    return max(1, (cores - 1) // max(1, workers))


def shared_transcriber(settings: Settings, threads: int,
                       load: Callable[..., Transcriber] = load_transcriber) -> Transcriber:
    key = (settings.whisper_model, threads, settings.max_audio_mb, settings.max_audio_seconds)
    with _models_lock:
        if key not in _models:
            _models[key] = load(settings.whisper_model, cpu_threads=threads,
                                max_mb=settings.max_audio_mb,
                                max_seconds=settings.max_audio_seconds)
        return _models[key]


class TranscriptionQueue:
    """`start()` once the database is migrated; `wake()` when a job is queued; `stop()`."""

    def __init__(self, settings: Settings, rule_files: RuleFiles, *, workers: int | None = None,
                 load: Callable[..., Transcriber] = load_transcriber) -> None:
        self.settings = settings
        self.rule_files = rule_files  # the taxonomy, kinship and nicknames words come from
        self.workers = max(1, workers if workers is not None else settings.transcription_workers)
        self.threads_per_worker = compute_threads(self.workers)
        self._load = load
        self._wake = threading.Condition()
        self._pending = False
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.ready = threading.Event()  # set once a worker holds a loaded model

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        db = open_db(self.settings.database_path)
        try:
            with transaction(db):
                again = job_rows.requeue_interrupted(db)
            if again:
                log.info("requeued %d transcription job(s) interrupted by a restart", again)
            removed = dictation.clean_up_final_entries(db)
            if removed:
                log.info("removed %d audio file(s) of final entries", removed)
        finally:
            db.close()
        for number in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"transcriber-{number + 1}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking jobs; a job in progress stops at its next segment and is requeued."""
        self._stopping.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def wake(self) -> None:
        with self._wake:
            self._pending = True
            self._wake.notify_all()

    # --- the worker ---------------------------------------------------------------------

    def _work(self) -> None:
        _lower_priority()
        db = open_db(self.settings.database_path)
        try:
            if self.settings.load_models:
                self._transcriber()  # load at start-up, in this (niced) thread
            while not self._stopping.is_set():
                job = job_rows.claim_next(db)
                if job is None:
                    self._idle()
                    continue
                self._run(db, job)
        except Exception as error:  # never let a worker die silently
            log.error("transcription worker stopped: %s", type(error).__name__)
        finally:
            db.close()

    def _idle(self) -> None:
        with self._wake:
            if not self._pending and not self._stopping.is_set():
                self._wake.wait(IDLE_POLL_SECONDS)
            self._pending = False

    def _transcriber(self) -> Transcriber:
        transcriber = shared_transcriber(self.settings, self.threads_per_worker, self._load)
        self.ready.set()
        return transcriber

    def _run(self, db: Any, job: dict[str, Any]) -> None:
        job_id = job["id"]
        log.info("transcription job %d started (attempt %d)", job_id, job["attempts"])

        def on_segment(segment: Segment, progress: float) -> None:
            state = job_rows.add_segment(db, job_id, segment.as_dict(), round(progress, 4))
            if state != "running" or self._stopping.is_set():
                raise _Stop

        try:
            vocabulary = dictation.case_vocabulary(db, job["case_id"],
                                                    self.rule_files.current())
            transcript = self._transcriber().transcribe(Path(job["audio_path"]), vocabulary,
                                                        on_segment)
        except _Stop:
            if self._stopping.is_set():
                with transaction(db):
                    job_rows.requeue(db, job_id)
                log.info("transcription job %d stopped by shutdown; queued again", job_id)
            else:
                log.info("transcription job %d cancelled", job_id)
            return
        except AudioError as error:
            with transaction(db):  # one write: a poll never sees "failed" with audio kept
                job_rows.mark_failed(db, job_id, error.message)
                dictation.discard_audio(db, job_id)
            log.info("transcription job %d failed: unusable audio", job_id)
            return
        except Exception as error:
            with transaction(db):
                job_rows.mark_failed(db, job_id, "The transcription failed on our side "
                                     f"({type(error).__name__}). Try again, and tell your "
                                     "administrator if it happens again.")
            log.error("transcription job %d failed: %s", job_id, type(error).__name__)
            return
        result = transcript.as_dict()
        with transaction(db):
            finished = job_rows.mark_done(db, job_id, result)
        log.info("transcription job %d %s: %.1f s of audio in %.1f s", job_id,
                 "done" if finished else "finished after cancel", transcript.duration,
                 transcript.elapsed)


def _lower_priority() -> None:
    """Nice this thread only (Linux keeps nice values per thread), so page requests win."""
    # Not Linux, or not allowed: run at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
