"""One real Suggester (real spaCy model, real rule files) for the whole nlp test session."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from service.nlp import CaseRecord, Member, Suggester
from service.settings import Settings

MODELS_DIR = Settings().models_dir
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "annotated"
VISIT = datetime.date(2026, 3, 18)  # a Wednesday


@pytest.fixture(scope="session")
def suggester() -> Suggester:
    return Suggester.load(MODELS_DIR)


@pytest.fixture(scope="session")
def family() -> CaseRecord:
    return CaseRecord(
        subject="p2",
        members=(
            Member("p1", "Sarah Jones", "mother"),
            Member("p2", "Jack Jones", "child", "2019-06-02"),
            Member("p3", "Mark Evans", "mother's partner (step-father)"),
            Member("p4", "Rebecca Jones", "half-sister", "2021-01-01"),
            Member("p5", "Julie Green", "maternal grandmother"),
            Member("p6", "Priya Shah", "health visitor"),
            Member("p7", "Daniel Jones", "father"),
            Member("p8", "Anne Adams", "class teacher"),
        ),
    )


def kinds(suggestions: list[dict], kind: str) -> list[dict]:
    return [s for s in suggestions if s["kind"] == kind]


def one(suggestions: list[dict], kind: str, text: str) -> dict:
    found = [s for s in suggestions if s["kind"] == kind and text in s["text"]]
    assert found, f"no {kind} suggestion covering {text!r}: {suggestions}"
    return found[0]


def models_copy(tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "models"
    shutil.copytree(MODELS_DIR, target)
    return target
