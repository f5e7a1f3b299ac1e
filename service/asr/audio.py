"""Check an uploaded or recorded audio file before transcribing it.

Every way a file can be unusable (empty, too big, too long, cut off, damaged, not audio at
all, silent) ends in one `AudioError` whose message a worker can read and act on. A file that
passes is decoded once, to 16 kHz mono float32, and the samples are handed to the transcriber
so the audio is not decoded twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16000  # what Whisper expects
DEFAULT_MAX_MB = 200
DEFAULT_MAX_SECONDS = 2 * 60 * 60
MIN_SECONDS = 0.3
# A frame louder than this (RMS, dBFS) counts as sound; quieter everywhere means silence.
# Speech recorded on a phone sits around -30..-15 dBFS; room hiss well below -55.
SILENCE_DBFS = -50.0
# Decoding a shorter stretch than the container promises (beyond this slack) means the file
# was cut off or damaged, e.g. an upload that stopped half way.
TRUNCATION_SLACK = 0.05


class AudioError(Exception):
    """The audio cannot be transcribed; `message` says why, in words a worker can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class AudioInfo:
    """What the probe learned about a usable recording."""

    path: Path
    container: str
    codec: str
    duration: float  # seconds of audio actually decoded
    size_bytes: int
    peak_dbfs: float  # loudest 50 ms frame (RMS)
    samples: np.ndarray = field(repr=False)  # 16 kHz mono float32


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _duration_text(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _declared_seconds(container: av.container.InputContainer, stream: av.audio.AudioStream) -> float | None:
    """The length the file claims to have, if it says (from its header or index)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _wav_declared_seconds(path: Path) -> float | None:
    """The length a WAV header promises. FFmpeg trusts the file size instead, so a WAV cut off
    mid-upload would otherwise look whole. Unknown sizes (0 or 0xFFFFFFFF, written by
    streaming recorders) give None."""
    with path.open("rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        byte_rate = None
        while chunk := handle.read(8):
            if len(chunk) < 8:
                return None
            chunk_id, size = chunk[:4], int.from_bytes(chunk[4:], "little")
            if chunk_id == b"fmt ":
                fmt = handle.read(size + size % 2)
                byte_rate = int.from_bytes(fmt[8:12], "little") if len(fmt) >= 12 else None
            elif chunk_id == b"data":
                if not byte_rate or size in (0, 0xFFFFFFFF):
                    return None
                return size / byte_rate
            else:
                handle.seek(size + size % 2, 1)
    return None


def _decode(container: av.container.InputContainer, stream: av.audio.AudioStream,
            max_seconds: float) -> tuple[np.ndarray, int]:
    """Decode to 16 kHz mono float32; returns the samples and how many packets failed."""
    # Same conversion as faster_whisper.decode_audio (s16, then scaled), so a transcript
    # does not depend on who decoded the file.
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    decoded = 0
    errors = 0
    limit = int((max_seconds + 1) * SAMPLE_RATE)
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            errors += 1  # a damaged packet: keep going, and judge the damage at the end
            continue
        for frame in frames:
            for out in resampler.resample(frame):
                array = out.to_ndarray().reshape(-1)
                chunks.append(array)
                decoded += array.size
        if decoded > limit:
            break  # too long: no need to decode two hours to say so
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().reshape(-1))
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    return samples.astype(np.float32) / 32768.0, errors


def loudest_frame_dbfs(samples: np.ndarray, frame_seconds: float = 0.05) -> float:
    """RMS level of the loudest short frame, in dBFS (-inf for digital silence)."""
    frame = int(SAMPLE_RATE * frame_seconds)
    usable = samples[: samples.size - samples.size % frame] if samples.size >= frame else samples
    if usable.size == 0:
        return -math.inf
    frames = usable.reshape(-1, frame) if usable.size >= frame else usable.reshape(1, -1)
    rms = float(np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1)).max())
    return 20 * math.log10(rms) if rms > 0 else -math.inf


def probe_audio(path: str | Path, *, max_mb: float = DEFAULT_MAX_MB,
                max_seconds: float = DEFAULT_MAX_SECONDS) -> AudioInfo:
    """Validate and decode one recording, or raise `AudioError` saying what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"The audio file {path.name} could not be found.")
    size = path.stat().st_size
    if size == 0:
        raise AudioError("The audio file is empty (0 bytes): nothing was recorded or uploaded.")
    if size > max_mb * 1_000_000:
        raise AudioError(
            f"The audio file is too large ({_mb(size)}; the limit is {max_mb:g} MB). "
            "Split the recording into shorter parts."
        )
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise AudioError(
            "This file is not a recording that can be read: it may be another kind of file "
            "with an audio name, or it is damaged or incomplete."
        ) from error
    with container:
        if not container.streams.audio:
            raise AudioError("This file has no sound in it: it is not an audio recording.")
        stream = container.streams.audio[0]
        declared = _declared_seconds(container, stream)
        if container.format.name == "wav":
            declared = _wav_declared_seconds(path) or declared
        if declared is not None and declared > max_seconds + 1:
            raise AudioError(
                f"The recording is too long ({_duration_text(declared)}; the limit is "
                f"{_duration_text(max_seconds)}). Split it into shorter parts."
            )
        try:
            samples, errors = _decode(container, stream, max_seconds)
        except av.error.FFmpegError as error:
            raise AudioError(
                "The recording is damaged and could not be read to the end."
            ) from error
        codec = stream.codec_context.name if stream.codec_context else "unknown"
        container_name = container.format.name
    duration = samples.size / SAMPLE_RATE
    if duration == 0:
        raise AudioError(
            "No sound could be read from this file: it is incomplete (the upload may have been "
            "cut off) or damaged."
        )
    if duration > max_seconds + 1:
        raise AudioError(
            f"The recording is too long (over {_duration_text(max_seconds)}, the limit). "
            "Split it into shorter parts."
        )
    if declared and duration < declared * (1 - TRUNCATION_SLACK) - 0.5:
        raise AudioError(
            f"The recording is incomplete: the file should hold {_duration_text(declared)} of "
            f"audio but only {_duration_text(duration)} could be read. The upload may have been "
            "cut off, or the file is damaged. Please upload or record it again."
        )
    if errors and errors >= 3:
        raise AudioError(
            f"The recording is damaged: {errors} parts of it could not be read. "
            "Please upload or record it again."
        )
    if duration < MIN_SECONDS:
        raise AudioError("The recording is too short to hold any speech.")
    peak = loudest_frame_dbfs(samples)
    if peak < SILENCE_DBFS:
        raise AudioError(
            "The recording is silent: no sound was picked up. Check the microphone and "
            "record again."
        )
    return AudioInfo(path=path, container=container_name, codec=codec, duration=duration,
                     size_bytes=size, peak_dbfs=peak, samples=samples)
