"""Every kind of unusable audio gets one clear AudioError; every supported format decodes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.asr.audio import SAMPLE_RATE, AudioError, probe_audio
from tests.asr.conftest import AUDIO, CLIPS, clip_path

BAD = AUDIO / "bad"


@pytest.mark.parametrize("clip_id", sorted(CLIPS))
def test_each_fixture_format_decodes_to_16k_mono(clip_id: str) -> None:
    info = probe_audio(clip_path(clip_id))
    assert 10 < info.duration < 70
    assert info.samples.ndim == 1 and info.samples.dtype.name == "float32"
    assert info.samples.size == pytest.approx(info.duration * SAMPLE_RATE)
    assert info.peak_dbfs > -30


def test_the_fixtures_cover_the_formats_a_worker_can_upload() -> None:
    assert {clip["format"] for clip in CLIPS.values()} >= {"wav", "mp3", "m4a", "ogg", "webm",
                                                          "flac"}


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("empty.wav", "empty (0 bytes)"),
        ("notaudio.wav", "not a recording that can be read"),
        ("truncated.wav", "incomplete"),
        ("truncated.flac", "incomplete"),
        ("truncated.m4a", "not a recording that can be read"),
        ("header_only.ogg", "not a recording that can be read"),
        ("corrupt.ogg", "incomplete"),
        ("silence.ogg", "silent"),
        ("silence.wav", "silent"),
    ],
)
def test_bad_files_get_a_clear_message(name: str, says: str) -> None:
    with pytest.raises(AudioError) as caught:
        probe_audio(BAD / name)
    assert says in caught.value.message
    assert caught.value.message == str(caught.value)


def test_truncated_message_says_how_much_arrived() -> None:
    with pytest.raises(AudioError, match=r"should hold 12 s of audio but only 3 s"):
        probe_audio(BAD / "truncated.wav")


def test_size_limit_is_checked_before_decoding(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"too large \(0\.\d MB; the limit is 0\.1 MB\)"):
        probe_audio(clip_path("clip08"), max_mb=0.1)


def test_duration_limit(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"too long \(54 s; the limit is 30 s\)"):
        probe_audio(clip_path("clip01"), max_seconds=30)
    with pytest.raises(AudioError, match="too long"):
        probe_audio(clip_path("clip08"), max_seconds=10)  # a WAV: length from its header


def test_wrong_extension_does_not_matter(tmp_path: Path) -> None:
    # Stored uploads may keep a misleading name; the content decides.
    renamed = tmp_path / "recording.wav"
    shutil.copy(clip_path("clip09"), renamed)  # FLAC inside
    assert probe_audio(renamed).codec == "flac"


def test_missing_file() -> None:
    with pytest.raises(AudioError, match="could not be found"):
        probe_audio(AUDIO / "no-such-file.ogg")
