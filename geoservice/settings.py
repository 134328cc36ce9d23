"""Service settings (服务配置) from ``GEOSERVICE_*`` environment variables.

Nothing is read at import time: :func:`get_settings` builds a :class:`Settings` when asked, and the
FastAPI app takes it as a dependency so tests can override it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Repository root (the folder holding ``data/``), for the sample area and the shared open data.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "geoservice.sqlite"


class Settings(BaseSettings):
    """Settings of one service instance.

    Attributes
    ----------
    database_url
        ``sqlite:///path/to/file.sqlite`` (default, created on first run) or
        ``postgresql://user:pass@host/db`` for PostgreSQL + PostGIS.
    auth_required_for_reads
        When true, reads need a token too; by default reads are open and writes need a role.
    max_request_bytes
        Bodies over this size get 413 (photos have their own limit).
    max_photo_bytes
        One inspection photo at most this size.
    max_upload_bytes
        Bodies of the upload routes (field packages, photos) at most this size; the routes check their
        own, finer limits while reading.
    db_wait_s
        A request waits at most this long (seconds) for a database connection; then 503 with
        ``Retry-After`` (the database is down or every connection is busy).
    warm_indexes
        Build the division tree and the name indexes at start-up rather than on the first request.
    photo_dir
        Where uploaded photos are kept, named by their SHA-256 checksum.
    """

    model_config = SettingsConfigDict(env_prefix="GEOSERVICE_", extra="ignore")

    database_url: str = Field(default_factory=lambda: f"sqlite:///{DEFAULT_SQLITE_PATH}")
    auth_required_for_reads: bool = False
    max_request_bytes: int = 10 * 1024 * 1024
    max_photo_bytes: int = 8 * 1024 * 1024
    max_upload_bytes: int = 200 * 1024 * 1024
    photo_dir: Path = PROJECT_ROOT / "var" / "photos"
    batch_dir: Path | None = None  # address batch jobs (地址批量任务); default: beside photo_dir, "batch"
    max_batch_bytes: int = 100 * 1024 * 1024
    data_dir: Path = PROJECT_ROOT / "data"
    shared_data_dir: Path = PROJECT_ROOT.parent / "shared" / "data"
    warm_indexes: bool = True
    db_wait_s: float = 2.0
    cors_origins: list[str] = []
    log_level: str = "info"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read from the environment once."""
    return Settings()
