"""One taxonomy per process, from CASENOTES_MODELS_DIR: every page that names a risk indicator
shows its label from those files, and shows an edited label on the next request."""

from __future__ import annotations

import html
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlite_utils import Database

from service import accounts
from service.app import create_app
from service.nlp import Suggester
from service.nlp.rule_files import RuleFiles, shared_rule_files
from service.nlp.taxonomy import TAXONOMY_FILE
from service.settings import Settings
from tests.conftest import case_id, sign_in
from tests.nlp.conftest import MODELS_DIR, models_copy

BUNDLED = "label: Neglect\n"
TEXT = "Home visit. The cupboards were bare and the children said they had not eaten."


def relabel(models: Path, old: str, new: str) -> None:
    path = models / TAXONOMY_FILE
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def models(tmp_path: Path) -> Path:
    copy = models_copy(tmp_path)
    relabel(copy, BUNDLED, "label: Neglect of basic care\n")
    return copy


@pytest.fixture
def settings(tmp_path: Path, models: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The operator's own models directory, named the way a deployment names it."""
    monkeypatch.setenv("CASENOTES_MODELS_DIR", str(models))
    return Settings(data_dir=tmp_path / "data", secret_key="test-secret-key-0123456789",
                    demo=False, load_models=False)


def confirmed_neglect(client: TestClient, db: Database) -> tuple[int, int]:
    """A final entry with neglect confirmed by hand, through the API; (case id, entry id)."""
    headers = {"Authorization": f"Bearer {accounts.create_token(db, 'worker')}"}
    jones = case_id(db, "RFS-1042")
    when = (datetime.now() - timedelta(days=1)).replace(hour=10, minute=0)
    entry = client.post(f"/api/v1/cases/{jones}/entries", headers=headers,
                        json={"kind": "home_visit", "text": TEXT,
                              "occurred_at": when.isoformat(timespec="minutes")}).json()
    start = TEXT.index("The cupboards were bare")
    added = client.post(f"/api/v1/entries/{entry['id']}/facts", headers=headers,
                        json={"kind": "risk", "start": start, "end": start + 23,
                              "fields": {"label": "neglect", "assertion": "present"}})
    assert added.status_code == 201, added.text
    assert client.post(f"/api/v1/entries/{entry['id']}/finalise",
                       headers=headers).status_code == 200
    return jones, entry["id"]


def shown_labels(client: TestClient, jones: int, entry_id: int) -> dict[str, str]:
    """The neglect label as each page shows it (its text around the id's words)."""
    found = {}
    sign_in(client, "worker")
    pages = {"entry page": f"/entries/{entry_id}", "search facets": "/search?q=cupboards",
             "chronology": f"/cases/{jones}/chronology", "case narrative": f"/cases/{jones}"}
    for name, url in pages.items():
        page = client.get(url)
        assert page.status_code == 200, (name, page.text[:300])
        found[name] = html.unescape(page.text)
    sign_in(client, "manager")
    page = client.get("/dashboard")
    assert page.status_code == 200
    found["dashboard"] = html.unescape(re.search(r'data-testid="table-risk".*?</table>',
                                                 page.text, re.S).group(0))
    return found


def test_changed_label_shows_on_every_page_and_again_after_an_edit(
        settings: Settings, models: Path, demo_db: Database) -> None:
    assert settings.models_dir == models
    with TestClient(create_app(settings)) as client:
        jones, entry_id = confirmed_neglect(client, demo_db)
        for page, text in shown_labels(client, jones, entry_id).items():
            assert "Neglect of basic care" in text, page
        assert "Neglect of basic care (present)" in shown_labels(client, jones,
                                                                 entry_id)["search facets"]
        relabel(models, "label: Neglect of basic care\n", "label: Neglect (home conditions)\n")
        for page, text in shown_labels(client, jones, entry_id).items():
            assert "Neglect (home conditions)" in text, page
            assert "Neglect of basic care" not in text, page


def test_a_broken_edit_keeps_the_last_good_labels_and_the_admin_page_says_why(
        settings: Settings, models: Path, demo_db: Database) -> None:
    with TestClient(create_app(settings)) as client:
        jones, entry_id = confirmed_neglect(client, demo_db)
        sign_in(client, "admin")
        assert 'data-testid="rules-broken"' not in client.get("/admin").text
        relabel(models, "label: Neglect of basic care\n",
                "label: Neglect of children\n    exlude: [school]\n")
        admin = html.unescape(client.get("/admin").text)
        assert 'data-testid="rules-broken"' in admin
        assert ("taxonomy.yaml: risk_indicators[4] (neglect).exlude: unknown key 'exlude'; "
                "did you mean 'exclude'?") in admin
        for page, text in shown_labels(client, jones, entry_id).items():
            assert "Neglect of basic care" in text and "Neglect of children" not in text, page
        relabel(models, "    exlude: [school]\n", "")
        for page, text in shown_labels(client, jones, entry_id).items():
            assert "Neglect of children" in text, page
        sign_in(client, "admin")
        assert 'data-testid="rules-broken"' not in client.get("/admin").text


def test_the_app_and_its_suggester_read_one_rule_set(settings: Settings, models: Path,
                                                     demo_db: Database,
                                                     suggester: Suggester) -> None:
    own = Suggester(suggester.nlp, RuleFiles.load(models, suggester.nlp.tokenizer))
    app = create_app(settings)
    app.state.suggester = own
    with TestClient(app):
        assert app.state.rule_files is own.rule_files
    # A suggester over other rule files than the settings name is refused at start-up.
    other = create_app(settings)
    other.state.suggester = suggester
    with pytest.raises(RuntimeError, match="other rule files"), TestClient(other):
        pass


def test_one_rule_files_per_directory_per_process(tmp_path: Path) -> None:
    assert shared_rule_files(MODELS_DIR) is shared_rule_files(MODELS_DIR / ".." / "models")
    copy = tmp_path / "models"
    shutil.copytree(MODELS_DIR, copy)
    assert shared_rule_files(copy) is not shared_rule_files(MODELS_DIR)
