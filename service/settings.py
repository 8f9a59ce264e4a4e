"""The one settings object, read from ``MARGIN_*`` variables and given to ``create_app``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every knob Margin has. Nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="MARGIN_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite:///./var/margin.db"
    # JSON keyring (see docs/operations.md). In development a missing file is created (mode 0600);
    # in production a missing file is a start-up error.
    key_file: Path = Path("./var/keys.json")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    # Peers whose X-Forwarded-For is believed (service.middleware.ForwardedClient); anyone else's is
    # ignored, so rate limits and IP retention cannot be spoofed by a header.
    forwarded_allow_ips: str = "127.0.0.1"

    # GET /metrics: with a token, only requests that carry it (``Authorization: Bearer ...``,
    # from anywhere); without one, only direct loopback connections (no proxy headers), so a
    # server behind a reverse proxy never publishes its metrics by default.
    metrics_token: SecretStr | None = None

    demo: bool = False
    docs_enabled: bool | None = None  # default: on in development, off in production

    edit_window_seconds: int = Field(default=15 * 60, ge=0, le=7 * 24 * 3600)
    max_request_bytes: int = Field(default=64 * 1024, ge=1024, le=10 * 1024 * 1024)
    max_body_chars: int = Field(default=10_000, ge=1, le=100_000)
    ip_retention_days: int = Field(default=30, ge=1, le=3650)
    # Rejected, spam and deleted comments are purged this long after their removal.
    removed_retention_days: int = Field(default=90, ge=1, le=3650)
    # Idempotency records keep the edit token sealed for replays; they expire after this.
    idempotency_retention_hours: int = Field(default=24, ge=1, le=24 * 365)
    # How often each server runs the retention job (seconds; 0 = never, run `margin purge`).
    purge_interval_seconds: int = Field(default=3600, ge=0, le=7 * 24 * 3600)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    # Threads per worker for blocking work (database sessions, sync endpoints). Each busy thread
    # holds memory; 16 instead of anyio's 40 took a worker's peak under the benchmark from 154 to
    # 142 MB with higher throughput (SQLite writers queue on one connection anyway).
    request_threads: int = Field(default=16, ge=2, le=400)
    # How long an idle client connection stays open. uvicorn's 5 s default is shorter than the
    # idle timeout of most proxies and load balancers (60 s is common) and of pooled clients: a
    # request sent on a connection the server is just closing fails with "server disconnected"
    # (seen once under load in the benchmark). Keep it above the proxy's.
    keep_alive_seconds: int = Field(default=75, ge=1, le=3600)
    # How long a serving thread may keep the interpreter lock while another waits for it
    # (Python's default is 5 ms). The group-commit thread needs the lock back after every
    # statement and every fsync while request threads are busy preparing the next comments; at
    # 5 ms two SQLite workers posted ~450 comments/s, at 1 ms ~540 (measured with the posting
    # path of that time, on the event loop; docs/performance.md).
    switch_interval_ms: float = Field(default=1.0, ge=0.1, le=100.0)
    # How long a SQLite writer waits for the lock before the request answers 503.
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=50, le=120_000)

    # The learned spam filter: the shipped model unless a path is given; off when disabled.
    spam_enabled: bool = True
    spam_model: Path | None = None
    spam_budget_ms: int = Field(default=500, ge=10, le=10_000)
    # CPU time one comment's checks, spam filter and rendering may take in all; past it the
    # work stops and the comment is held for a moderator (service.comments.screening).
    check_budget_ms: int = Field(default=1000, ge=10, le=60_000)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql+psycopg://", "postgresql://")):
            raise ValueError("MARGIN_DATABASE_URL must be sqlite:// or postgresql+psycopg://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _usable_metrics_token(cls, value: object) -> object:
        if value is None or value == "":
            return None  # an empty variable means no token, not an empty one
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(text, str) or not (16 <= len(text) <= 256) or not text.isascii():
            raise ValueError("MARGIN_METRICS_TOKEN must be 16-256 ASCII characters")
        if not text.isprintable() or " " in text:
            raise ValueError("MARGIN_METRICS_TOKEN must have no spaces or control characters")
        return value

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def show_docs(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else not self.is_production
