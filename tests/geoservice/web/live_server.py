"""A real HTTP server for GDAL and the browser: uvicorn in a subprocess on a free loopback port.

A subprocess, not a thread: pyogrio holds the GIL while GDAL fetches pages, so a server thread in the
test process could never answer it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyogrio

from geoservice.store import Store

# GDAL's HTTP client waits forever by default: a server that dies mid-test must fail the test, not hang it.
pyogrio.set_gdal_config_options({"GDAL_HTTP_TIMEOUT": "60", "GDAL_HTTP_CONNECTTIMEOUT": "10"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(store: Store, tmp_path: Path, *, workers: int = 1) -> Iterator[str]:
    """Serve the whole app over ``store``'s database; yields the base URL, stops the server afterwards."""
    # The hand-made place name of small_area lacks what the names registry adds (scope …), so the name index is
    # not built at start-up; the tests that search names register theirs through POST /names.
    with serve_url(store.url, tmp_path, workers=workers, warm_indexes=False) as base:
        yield base


@contextmanager
def serve_url(
    database_url: str, tmp_path: Path, *, workers: int = 1, warm_indexes: bool = True
) -> Iterator[str]:
    """Serve the whole app over the database at ``database_url``; yields the base URL, stops it afterwards."""
    port = free_port()
    env = dict(os.environ)
    env |= {"GEOSERVICE_DATABASE_URL": database_url, "GEOSERVICE_PHOTO_DIR": str(tmp_path / "photos")}
    env["GEOSERVICE_WARM_INDEXES"] = "true" if warm_indexes else "false"
    command = [sys.executable, "-m", "uvicorn", "geoservice.api:create_app", "--factory"]
    command += [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]
    log_path = tmp_path / f"uvicorn-{port}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        command, env=env, cwd=Path(__file__).resolve().parents[3], stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"uvicorn did not start on {base}:\n{output}") from None
                time.sleep(0.1)
        yield base
        if process.poll() is not None:
            raise RuntimeError(
                f"the server died during the test:\n{log_path.read_text(errors='replace')[-3000:]}"
            )
    finally:
        log.close()
        stop_process(process, timeout_s=10)


def stop_process(process: subprocess.Popen[bytes], *, timeout_s: float) -> None:
    """SIGTERM, then SIGKILL if the server has not stopped within ``timeout_s``."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
