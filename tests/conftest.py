"""Shared fixtures: a real SQLite file per test, the demo families, the app over real HTTP."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlite_utils import Database

from service.app import create_app
from service.demo import load_demo
from service.nlp import Suggester
from service.nlp.rule_files import shared_rule_files
from service.nlp.taxonomy import RuleSet, Taxonomy
from service.settings import Settings
from service.storage import open_db
from service.storage.migrations import open_migrated

PASSWORDS = {"worker": "worker-demo-pass", "reviewer": "reviewer-demo-pass",
             "manager": "manager-demo-pass", "admin": "admin-demo-pass",
             "worker2": "worker2-demo-pass"}


@pytest.fixture(scope="session")
def suggester() -> Suggester:
    """The real suggester, loaded once for the tests that review suggestions."""
    return Suggester.load(Settings().models_dir)


def bundled_rules() -> RuleSet:
    """The rules in the repo's models/, as the app loads them (one RuleFiles per process)."""
    return shared_rule_files(Settings().models_dir).current()


def bundled_taxonomy() -> Taxonomy:
    return bundled_rules().taxonomy


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret_key="test-secret-key-0123456789", demo=False,
                    load_models=False)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo families built once (argon2 hashing is slow on purpose), copied per test."""
    path = tmp_path_factory.mktemp("template") / "demo.db"
    database = open_migrated(path)
    load_demo(database)
    database.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = open_migrated(settings.database_path)
    yield database
    database.close()


@pytest.fixture
def demo_db(settings: Settings, demo_template: Path) -> Iterator[Database]:
    settings.database_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(demo_template, settings.database_path)
    database = open_db(settings.database_path)
    yield database
    database.close()


@pytest.fixture
def app(settings: Settings, demo_db: Database):  # noqa: ANN201
    return create_app(settings)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # noqa: ANN001
    with TestClient(app) as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, username: str) -> str:
    """Sign in through the real form; returns the session's CSRF token."""
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": PASSWORDS[username],
                                           "csrf_token": csrf_of(page.text)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    home = client.get("/")
    return csrf_of(home.text)


def case_id(db: Database, reference: str) -> int:
    return next(db.query("SELECT id FROM cases WHERE reference = ?", [reference]))["id"]
