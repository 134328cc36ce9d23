"""Service settings (服务配置) from ``GEOSERVICE_*`` environment variables.

Nothing is read at import time: :func:`get_settings` builds a :class:`Settings` when asked, and the
FastAPI app takes it as a dependency so tests can override it. The name check's own settings
(``GEOSERVICE_NAMES_*``, :class:`NameRulesSettings`) are read here too, once per process, through
:func:`get_name_rules_settings`; a function that takes ``settings=`` uses those when given.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Repository root (the folder holding ``data/``), for the sample area and the shared open data.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "geoservice.sqlite"


class Settings(BaseSettings):
    """Settings of one service instance (服务配置), each from ``GEOSERVICE_<NAME>``.

    The table in ``docs/operations.md`` is generated from this docstring and the defaults
    (:func:`geoservice.operations.config.settings_table`); a test keeps the two equal.

    Attributes
    ----------
    database_url
        ``sqlite:///path/to/file.sqlite`` (created on first run) or ``postgresql://user:pass@host/db`` for
        PostgreSQL + PostGIS (a ``?options=-csearch_path%3Dschema`` suffix picks a schema).
    auth_required_for_reads
        When true, reads need a token too; by default reads are open and writes need a role.
    max_request_bytes
        Request bodies over this size get 413 (upload routes have their own limit).
    max_photo_bytes
        One inspection photo at most this size.
    max_upload_bytes
        Bodies of the upload routes (field packages, photos) at most this size; the routes check their
        own, finer limits while reading. Keep nginx's ``client_max_body_size`` at least this large.
    batch_dir
        Where address batch jobs (地址批量任务) keep their files; default: ``batch`` beside ``photo_dir``.
    max_batch_bytes
        One uploaded address batch file at most this size.
    batch_keep_days
        Finished and failed address batch jobs (their upload and result) are removed this many days after they
        finished; jobs a restart interrupted are resumed at the next start, not removed.
    upload_max_rows, upload_max_vertices, upload_max_problems, upload_max_work_steps
        Limits on what one uploaded file may hold, per layer, and on the problems an answer lists (the
        first N and the count): see :mod:`geoservice.upload_limits`.
    export_max_rows
        Records one download may hold (``f=gpkg`` … on items, analysis results); more get 413 naming the
        limit. ``geoservice export`` on the server has no limit.
    db_wait_s
        A request waits at most this long (seconds) for a database connection; then 503 with
        ``Retry-After`` (the database is down or every connection is busy).
    photo_dir
        Where uploaded photos are kept, named by their SHA-256 checksum (back it up with the database).
    data_dir
        The sample area's files (``geoservice demo``).
    shared_data_dir
        The open national data (division files, population rasters) for imports.
    warm_indexes
        Build the division tree at start-up rather than on the first request (and log whether the persisted
        name index is usable); ``/ready`` answers 503 until it is built.
    cors_origins
        Web origins allowed to call the API from a browser (JSON list); empty: same origin only.
    log_level
        ``debug``, ``info``, ``warning`` or ``error``.
    log_format
        ``json`` (one object per line with the request id, for journald or a collector) or ``text``.
    host
        Address ``geoservice serve`` listens on (behind nginx: ``127.0.0.1``).
    port
        Port ``geoservice serve`` listens on.
    workers
        Worker processes of ``geoservice serve`` (about one per core; PostgreSQL when more than one).
    forwarded_allow_ips
        Proxies whose ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed (comma-separated addresses,
        ``*`` for any): the reverse proxy's address.
    keep_alive_s
        Seconds an idle keep-alive connection stays open (keep it below the proxy's).
    graceful_shutdown_s
        Seconds running requests get to finish on stop before they are cut.
    limit_concurrency
        Requests served at once per worker before new ones get 503 (0: no limit).
    worker_healthcheck_s
        Seconds a worker may take to answer the supervisor's health check (starting a worker imports the
        geospatial libraries: on a busy machine that takes a while) before it is restarted.
    """

    model_config = SettingsConfigDict(env_prefix="GEOSERVICE_", extra="ignore")

    database_url: str = Field(default_factory=lambda: f"sqlite:///{DEFAULT_SQLITE_PATH}")
    auth_required_for_reads: bool = False
    max_request_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_photo_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    photo_dir: Path = PROJECT_ROOT / "var" / "photos"
    batch_dir: Path | None = None  # address batch jobs (地址批量任务); default: beside photo_dir, "batch"
    max_batch_bytes: int = 100 * 1024 * 1024
    batch_keep_days: float = Field(default=7.0, gt=0)
    data_dir: Path = PROJECT_ROOT / "data"
    shared_data_dir: Path = PROJECT_ROOT.parent / "shared" / "data"
    warm_indexes: bool = True
    db_wait_s: float = 2.0
    upload_max_rows: int = 100_000
    upload_max_vertices: int = 2_000_000
    upload_max_problems: int = 100
    upload_max_work_steps: int = 200_000_000
    export_max_rows: int = Field(default=200_000, gt=0)
    cors_origins: list[str] = []
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "text"] = "json"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    forwarded_allow_ips: str = "127.0.0.1"
    keep_alive_s: int = Field(default=5, ge=1, le=600)
    graceful_shutdown_s: int = Field(default=30, ge=0, le=3600)
    limit_concurrency: int = Field(default=0, ge=0)
    worker_healthcheck_s: int = Field(default=60, ge=1, le=3600)

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgres://")) and "://" in value:
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read from the environment once."""
    return Settings()


class NameRulesSettings(BaseSettings):
    """Settings of the name check (``GEOSERVICE_NAMES_*``); each is a *local* default (docs/STANDARDS.md §1.1).

    Attributes
    ----------
    max_length
        Longest name (characters, after normalisation) before rule ``too_long`` is an error.
    max_input_chars
        Longest text accepted at all; longer input is refused with 422 before any check.
    new_prefixes
        Prefixes whose addition or removal still makes the same name (新/大, docs/STANDARDS.md §1.2).
    built_up_scopes
        Built-up area (建成区) overrides: county-level code → scope code. By default a city district
        (市辖区, name ending in 区) belongs to its prefecture's built-up area and a county or county-level
        city is its own (the county seat).
    exaggerating_words_file, leader_names_file, foreign_names_file, enterprise_names_file
        Replace a shipped word list (one word per line, ``#`` comments).
    filing_due_days, announcement_due_days
        Statutory clocks (地名管理条例 Art. 13, 14): 备案 within 15 days of approval, 公告 within 15 days of
        filing (calendar days).
    """

    model_config = SettingsConfigDict(env_prefix="GEOSERVICE_NAMES_", extra="ignore")

    max_length: int = 20
    max_input_chars: int = 200
    new_prefixes: tuple[str, ...] = ("新", "大")
    built_up_scopes: dict[str, str] = {}
    exaggerating_words_file: Path | None = None
    leader_names_file: Path | None = None
    foreign_names_file: Path | None = None
    enterprise_names_file: Path | None = None
    filing_due_days: int = 15
    announcement_due_days: int = 15


@lru_cache(maxsize=1)
def get_name_rules_settings() -> NameRulesSettings:
    """The name-check settings of this process, read from the environment once (like :func:`get_settings`)."""
    return NameRulesSettings()
