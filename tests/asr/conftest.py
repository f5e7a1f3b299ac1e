"""The real bundled tiny.en model, loaded once for the whole session, and the audio fixtures."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from whisper_normalizer.english import EnglishTextNormalizer

from service.asr.transcriber import WhisperTranscriber, load_transcriber

AUDIO = Path(__file__).resolve().parents[2] / "fixtures" / "audio"
MANIFEST = json.loads((AUDIO / "manifest.json").read_text())
CLIPS = {clip["id"]: clip for clip in MANIFEST["clips"]}
normalise = EnglishTextNormalizer()


def clip_path(clip_id: str) -> Path:
    return AUDIO / f"{clip_id}.{CLIPS[clip_id]['format']}"


def case_note(clip_id: str) -> dict[str, Any]:
    return json.loads((AUDIO / f"{clip_id}.case.json").read_text())


def reference(clip_id: str) -> str:
    return (AUDIO / f"{clip_id}.txt").read_text().strip()


def term_count(term: str, text: str) -> int:
    """Occurrences of a term in normalised text (plural or possessive counts)."""
    return len(re.findall(rf"\b{re.escape(normalise(term))}(?:s|'s)?\b", normalise(text)))


@pytest.fixture(scope="session")
def transcriber() -> WhisperTranscriber:
    loaded = load_transcriber("tiny.en", cpu_threads=2)
    assert isinstance(loaded, WhisperTranscriber)
    return loaded
