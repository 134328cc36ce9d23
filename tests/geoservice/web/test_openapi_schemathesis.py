"""The OpenAPI document tells the truth: ``schemathesis run --checks all`` against a real server over the sample
database (a copy: the run writes) finds no failure and no server error.

Every check runs, over every operation, in every phase (examples, coverage, fuzzing, stateful), with an admin
token so the writes are reached. ``schemathesis.toml`` beside this file only says what a schema cannot (rules
that depend on the database or on several fields, 428 for a missing If-Match), each with its reason. Examples are
bounded and seeded so the run fits in about two minutes on two cores.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.geoservice.web.conftest import SampleDatabase

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 10
SEED = 1


def test_schemathesis__all_checks_pass_over_the_whole_api(
    writable_sample_server: str, sample_db: SampleDatabase, tmp_path: Path
) -> None:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{writable_sample_server}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "2",
        "--generation-database",
        "none",
        "--no-color",
        "--header",
        f"Authorization: Bearer {sample_db.tokens['admin']}",
    ]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False)
    report = run.stdout[-20_000:] + run.stderr[-2_000:]
    assert run.returncode == 0, report
    assert "Server error" not in run.stdout, report
