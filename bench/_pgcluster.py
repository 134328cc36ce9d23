"""A throwaway PostgreSQL cluster of our own (临时数据库集群), to stop and start under load.

The shared server on port 5432 is used by everyone; outage tests and the reliability suite need one they
may stop. :func:`throwaway_cluster` runs ``initdb`` in a temporary directory (as the ``postgres`` user when
we are root: the server refuses to run as root), starts it on a free loopback port with trust auth and
yields a :class:`Cluster` with its URL and ``stop()`` / ``start()``; everything is removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.tiles import free_port

BIN = Path(os.environ.get("GEOSERVICE_PG_BIN", "/usr/lib/postgresql/15/bin"))


def unavailable() -> str | None:
    """Why no throwaway cluster can be made here, or ``None``."""
    if not (BIN / "initdb").exists():
        return f"没有 initdb / no initdb in {BIN} (set GEOSERVICE_PG_BIN)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot start PostgreSQL as another user"
    return None


@dataclass
class Cluster:
    """A running cluster: ``url`` (user ``postgres``, trust auth), stop and start it at will."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        log = self.directory / "server.log"
        command = [str(BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-l", str(log), "-w", *args]
        _run(command)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._ctl("-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: disconnect every client at once, as a restart does)."""
        self._ctl("-m", mode, "stop")


def _run(command: list[str]) -> None:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A fresh cluster on a free port, running; stopped and deleted afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="geoservice-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = Cluster(directory, free_port())
    try:
        _run(
            [
                str(BIN / "initdb"),
                "-D",
                str(directory / "data"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
            ]
        )
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)
