"""`casenotes transcribe AUDIO [--case CASE.json] [--model NAME] [--json]`.

The lead's click group adds this command (`cli.add_command(transcribe)`). Progress goes to
stderr; the transcript (or, with --json, the DESIGN.md "Interfaces" object plus the list of
corrections) goes to stdout. Unusable audio exits non-zero with a message a worker can read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from service.asr.audio import AudioError, probe_audio
from service.settings import Settings


def _read_case(path: Path) -> dict:
    try:
        note = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"Could not read the case file {path}: {error}") from error
    if not isinstance(note, dict) or not isinstance(note.get("members", []), list):
        raise click.ClickException(
            f"{path} is not a case in the annotated-note format (an object with `members`)."
        )
    return note


@click.command("transcribe")
@click.argument("audio", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--case", "case_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Case record in the annotated-note format: its members' names guide "
                   "the transcription and the corrections.")
@click.option("--model", default=None,
              help="Bundled model name (tiny.en) or a CTranslate2 Whisper model directory. "
                   "Default: the whisper_model setting (CASENOTES_WHISPER_MODEL).")
@click.option("--json", "as_json", is_flag=True, help="Print the transcript as JSON.")
def transcribe(audio: Path, case_file: Path | None, model: str | None, as_json: bool) -> None:
    """Transcribe a dictation recording on this machine (nothing leaves it)."""
    from service.asr.transcriber import load_transcriber
    from service.asr.vocabulary import CaseVocabulary
    from service.nlp.rule_files import shared_rule_files
    from service.nlp.taxonomy import TaxonomyError

    settings = Settings()
    max_mb = settings.max_audio_mb
    max_seconds = settings.max_audio_seconds
    model = model or settings.whisper_model
    try:
        # Check the audio before spending seconds loading the model.
        probe_audio(audio, max_mb=max_mb, max_seconds=max_seconds)
    except AudioError as error:
        raise click.ClickException(error.message) from error
    try:
        rules = shared_rule_files(settings.models_dir).current()
    except TaxonomyError as error:
        raise click.ClickException(str(error)) from error
    case = _read_case(case_file) if case_file is not None else {}
    vocabulary = CaseVocabulary.from_note(case, rules=rules)
    try:
        transcriber = load_transcriber(model, max_mb=max_mb, max_seconds=max_seconds)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error

    with click.progressbar(length=1000, label="Transcribing", file=sys.stderr,
                           show_percent=True) as bar:
        done = 0

        def on_segment(_segment: object, progress: float) -> None:
            nonlocal done
            step = int(progress * 1000) - done
            if step > 0:
                bar.update(step)
                done += step

        try:
            result = transcriber.transcribe(audio, vocabulary, on_segment)
        except AudioError as error:
            raise click.ClickException(error.message) from error
        bar.update(1000 - done)

    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    click.echo(result.text)
    for correction in result.corrections:
        click.echo(
            f"corrected {correction.original!r} -> {correction.replacement!r} "
            f"(at {correction.start or 0:.1f}-{correction.end or 0:.1f} s): {correction.reason}",
            err=True,
        )
    click.echo(
        f"{result.model}: {result.duration:.1f} s of audio in {result.elapsed:.1f} s "
        f"(real-time factor {result.real_time_factor:.3f})",
        err=True,
    )
