"""The casenotes command, run as a real process against a real database file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CASENOTES_DATA_DIR": str(tmp_path), "CASENOTES_DEMO": "1"}
    return subprocess.run([sys.executable, "-m", "service.cli", *args], input=stdin,
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_init_demo_users_and_tokens(tmp_path: Path) -> None:
    assert run(tmp_path, "init").returncode == 0
    assert (tmp_path / "casenotes.db").exists()
    demo = run(tmp_path, "demo")
    assert demo.returncode == 0
    for username in ("worker", "reviewer", "manager", "admin"):
        assert username in demo.stdout
    again = run(tmp_path, "demo")
    assert "already loaded" in again.stdout
    added = run(tmp_path, "user", "add", "duty", "--role", "worker", "--team", "Duty",
                stdin="a-long-password\n")
    assert added.returncode == 0, added.stderr
    listed = run(tmp_path, "user", "list").stdout
    assert "duty" in listed and "Duty" in listed
    assert run(tmp_path, "user", "set-role", "duty", "worker", "reviewer").returncode == 0
    assert "reviewer" in run(tmp_path, "user", "list").stdout
    bad = run(tmp_path, "user", "set-role", "duty", "wizard")
    assert bad.returncode == 2 and "Unknown role" in bad.stderr
    short = run(tmp_path, "user", "add", "x2", "--role", "worker", stdin="short\n")
    assert short.returncode == 2 and "8 characters" in short.stderr
    token = run(tmp_path, "token", "create", "worker")
    assert token.returncode == 0
    lines = token.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cn_")
    assert run(tmp_path, "token", "create", "nobody").returncode == 2


def test_only_init_changes_the_schema(tmp_path: Path) -> None:
    """Other commands refuse a database that is not ready, and say what to run."""
    refused = run(tmp_path, "user", "list")
    assert refused.returncode == 1 and "run `casenotes init`" in refused.stderr
    assert run(tmp_path, "init").returncode == 0
    assert run(tmp_path, "user", "list").returncode == 0


@pytest.mark.parametrize("command", [[], ["serve"], ["init"], ["demo"], ["user"], ["user", "add"],
                                     ["user", "list"], ["user", "set-role"], ["token"],
                                     ["token", "create"]])
def test_help(tmp_path: Path, command: list[str]) -> None:
    result = run(tmp_path, *command, "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_serve_refuses_the_demo_secret_outside_demo_mode(tmp_path: Path) -> None:
    env = {**os.environ, "CASENOTES_DATA_DIR": str(tmp_path), "CASENOTES_DEMO": "0"}
    env.pop("CASENOTES_SECRET_KEY", None)
    result = subprocess.run([sys.executable, "-m", "service.cli", "serve"], capture_output=True,
                            text=True, env=env, cwd=ROOT, timeout=60)
    assert result.returncode != 0 and "CASENOTES_SECRET_KEY" in result.stderr
