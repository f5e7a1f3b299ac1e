"""`casenotes transcribe`: JSON contract, progress on stderr, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.asr.commands import transcribe
from tests.asr.conftest import AUDIO, clip_path


def test_json_contract_with_a_case() -> None:
    result = CliRunner().invoke(transcribe, [str(clip_path("clip09")), "--case",
                                             str(AUDIO / "clip09.case.json"), "--json"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert {"text", "segments", "model", "duration", "elapsed"} <= set(output)
    assert output["model"] == "tiny.en"
    assert "Chantelle" in output["text"]
    assert all(set(s) == {"start", "end", "text"} for s in output["segments"])
    assert isinstance(output["corrections"], list)
    assert "Transcribing" in result.stderr  # progress goes to stderr, not into the JSON


def test_plain_text_output() -> None:
    result = CliRunner().invoke(transcribe, [str(clip_path("clip09"))])
    assert result.exit_code == 0
    assert "smell of alcohol" in result.stdout
    assert "real-time factor" in result.stderr


@pytest.mark.parametrize(("name", "says"), [("empty.wav", "empty"),
                                            ("notaudio.wav", "not a recording"),
                                            ("silence.ogg", "silent")])
def test_bad_audio_exits_non_zero_with_the_reason(name: str, says: str) -> None:
    result = CliRunner().invoke(transcribe, [str(AUDIO / "bad" / name), "--json"])
    assert result.exit_code != 0
    assert says in result.stderr and result.stdout == ""


def test_bad_case_file(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text("{not json")
    result = CliRunner().invoke(transcribe, [str(clip_path("clip09")), "--case", str(case)])
    assert result.exit_code != 0 and "Could not read the case file" in result.stderr


def test_unknown_model(tmp_path: Path) -> None:
    result = CliRunner().invoke(transcribe, [str(clip_path("clip09")), "--model", str(tmp_path)])
    assert result.exit_code != 0 and "CTranslate2 Whisper model directory" in result.stderr


def test_through_the_installed_console_script() -> None:
    script = Path(sys.executable).parent / "casenotes"
    if not script.exists():
        pytest.skip("the casenotes console script is not installed")
    done = subprocess.run(
        [str(script), "transcribe", str(clip_path("clip08")), "--case",
         str(AUDIO / "clip08.case.json"), "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Ellie" in json.loads(done.stdout)["text"]
    bad = subprocess.run([str(script), "transcribe", str(AUDIO / "bad" / "empty.wav")],
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode != 0 and "empty" in bad.stderr
