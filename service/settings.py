"""Settings, read from CASENOTES_* environment variables (or passed in by tests)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET = "demo-secret-not-for-real-use"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything an operator can set. Build one per process; never read at import time."""

    model_config = SettingsConfigDict(env_prefix="CASENOTES_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Database, audio and job files")
    database: Path | None = Field(default=None, description="SQLite file; default data_dir/casenotes.db")
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = DEMO_SECRET
    demo: bool = Field(default=False, description="Demo mode: allows the built-in demo secret")
    models_dir: Path = PROJECT_ROOT / "models"
    web_dir: Path = PROJECT_ROOT / "web"
    demo_file: Path = Field(default=PROJECT_ROOT / "fixtures" / "demo" / "families.yaml",
                            description="The synthetic families `casenotes demo` loads")
    whisper_model: str = Field(
        default="tiny.en", description="Bundled model name, or a CTranslate2 Whisper model directory"
    )
    transcription_workers: int = 1
    max_audio_mb: int = 200
    max_audio_seconds: int = 2 * 60 * 60
    keep_audio: bool = False
    session_hours: int = 12
    login_free_failures: int = Field(
        default=5, description="Failed sign-ins per account and address before each next "
        "attempt waits (2 s, doubling, up to 15 minutes)")
    load_models: bool = Field(default=True, description="Load spaCy/Whisper at start-up")

    @property
    def database_path(self) -> Path:
        return self.database if self.database is not None else self.data_dir / "casenotes.db"

    @property
    def audio_dir(self) -> Path:
        return self.data_dir / "audio"

    def check_secret(self) -> None:
        """Refuse to run a real deployment on the published demo secret."""
        if not self.demo and self.secret_key == DEMO_SECRET:
            raise SystemExit(
                "CASENOTES_SECRET_KEY is the built-in demo secret. Set a long random "
                "CASENOTES_SECRET_KEY, or run with CASENOTES_DEMO=1 for the demo."
            )
        if len(self.secret_key) < 16:
            raise SystemExit("CASENOTES_SECRET_KEY must be at least 16 characters.")
