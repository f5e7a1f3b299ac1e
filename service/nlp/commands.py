"""`casenotes suggest` and `casenotes eval` (added to the CLI group in service/cli.py)."""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

import click

from service.nlp.evaluation import evaluate_notes, load_notes, report, target_failures
from service.nlp.record import CaseRecord

MODELS_DIR_HELP = "Directory with taxonomy, rules and manifest (default: the repo's models/)."


def _models_dir(value: Path | None) -> Path:
    if value is not None:
        return value
    from service.settings import Settings  # read settings at run time, never at import

    return Settings().models_dir


def _load(models_dir: Path | None):
    from service.nlp.suggester import Suggester
    from service.nlp.taxonomy import TaxonomyError

    try:
        return Suggester.load(_models_dir(models_dir))
    except TaxonomyError as exc:
        raise click.ClickException(f"invalid rule file: {exc}") from None


def _read_note(path: Path) -> tuple[dict, str, CaseRecord, datetime.date]:
    note = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(note, dict):
        raise ValueError("expected a JSON object")
    text = note.get("text")
    if not isinstance(text, str):
        raise ValueError("missing 'text'")
    try:
        visit = datetime.date.fromisoformat(str(note.get("visit_date")))
    except ValueError:
        raise ValueError("missing or invalid 'visit_date' (YYYY-MM-DD)") from None
    return note, text, CaseRecord.from_note(note), visit


@click.command("suggest")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=MODELS_DIR_HELP)
def suggest(files: tuple[Path, ...], models_dir: Path | None) -> None:
    """Print suggestions for annotated-note FILEs, one JSON line per file."""
    suggester = _load(models_dir)
    failed = False
    for path in files:
        try:
            note, text, record, visit = _read_note(path)
            result = {"id": note.get("id", path.stem),
                      "suggestions": suggester.suggest(text, record, visit)}
        except (ValueError, UnicodeDecodeError) as exc:
            failed = True
            result = {"id": path.stem, "error": f"{path}: {exc}"}
        click.echo(json.dumps(result, ensure_ascii=False))
    if suggester.taxonomy_error:
        click.echo(f"warning: {suggester.taxonomy_error}", err=True)
    if failed:
        sys.exit(1)


@click.command("eval")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=MODELS_DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--errors", is_flag=True, help="Also list every miss and mismatch.")
@click.option("--check", is_flag=True, help="Exit 1 if any target is missed.")
def evaluate(directory: Path, models_dir: Path | None, as_json: bool, errors: bool,
             check: bool) -> None:
    """Score the suggester against the annotated notes in DIRECTORY."""
    notes = load_notes(directory)
    if not notes:
        raise click.ClickException(f"no annotated notes (*.json) in {directory}")
    suggester = _load(models_dir)
    try:
        fig, tally = evaluate_notes(suggester, notes)
    except (ValueError, KeyError) as exc:
        raise click.ClickException(f"bad annotated note: {exc}") from None
    if as_json:
        click.echo(json.dumps(fig, indent=2))
    else:
        click.echo(report(fig, str(directory), suggester.pipeline_version))
    if errors:
        click.echo("\n".join(["", "errors:"] + tally.errors))
    fails = target_failures(fig)
    if fails:
        click.echo("targets missed: " + "; ".join(fails), err=True)
        if check:
            sys.exit(1)
