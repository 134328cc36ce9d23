"""Deployment files and configuration: the systemd unit and the nginx example pass their own tools' checks, the
settings table of docs/operations.md is the one the code generates, and a bad setting stops the start."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from geoservice.cli import main
from geoservice.operations.config import settings_table, undocumented_settings

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "docs" / "deploy"


def _tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if path is None:
        pytest.skip(f"{name} not installed (Debian: apt-get install nginx-light / systemd)")
    return path


def test_systemd_unit__passes_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = _tool("systemd-analyze")
    env_file = tmp_path / "geoservice.env"
    env_file.write_text("GEOSERVICE_WORKERS=2\n")
    executable = Path(shutil.which("geoservice") or "/work/main/.venv/bin/geoservice")
    text = (DEPLOY / "geoservice.service").read_text()
    text = text.replace("/opt/geoservice/.venv/bin/geoservice", str(executable))
    text = text.replace("/opt/geoservice", str(ROOT)).replace("/etc/geoservice/geoservice.env", str(env_file))
    unit = tmp_path / "geoservice.service"
    unit.write_text(text)
    done = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "geoservice.service" not in done.stderr  # no warning about our unit


def test_nginx_example__passes_nginx_t(tmp_path: Path) -> None:
    tool = _tool("nginx")
    openssl = _tool("openssl")
    key, certificate = str(tmp_path / "server.key"), str(tmp_path / "server.crt")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            key,
            "-out",
            certificate,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    site = (DEPLOY / "nginx-geoservice.conf").read_text()
    site = site.replace("/etc/geoservice/tls", str(tmp_path)).replace("/var/log/nginx", str(tmp_path))
    (tmp_path / "geoservice.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n client_body_temp_path {tmp_path}/body;\n proxy_temp_path {tmp_path}/proxy;\n"
        f" include {tmp_path}/geoservice.conf;\n}}\n"
    )
    done = subprocess.run(
        [tool, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_containerfile__installs_from_the_lock_and_serves_as_a_plain_user() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    assert "--require-hashes -r requirements.lock" in text
    assert "USER geoservice" in text and "geoservice.cli" in text


def test_settings_table__in_the_docs_is_the_one_the_code_generates() -> None:
    assert undocumented_settings() == []
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    start, end = "<!-- settings-table:start -->\n", "<!-- settings-table:end -->"
    assert start in doc and end in doc
    documented = doc.split(start, 1)[1].split(end, 1)[0]
    assert documented == settings_table(), "regenerate: python -m geoservice.operations.config > table"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("GEOSERVICE_WORKERS", "many", "应为整数"),
        ("GEOSERVICE_PORT", "70000", "超过上限"),
        ("GEOSERVICE_LOG_FORMAT", "xml", "取值不在允许范围内"),
        ("GEOSERVICE_DATABASE_URL", "mysql://db/x", "sqlite:///"),
        ("GEOSERVICE_NAMES_MAX_LENGTH", "long", "应为整数"),
    ],
)
def test_settings_check__a_bad_value_stops_serve_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert f"{variable}={value!r}" in err and expected in err and " / " in err
