"""Printing an HTML page to PDF (打印为 PDF) with headless Chromium.

The service's printable pages (the 地名录, the 公告 list) are self-contained HTML — inline SVG maps, no
fetched assets — so headless Chromium prints them as the officer's browser would, with CJK fonts from the
system (Debian's ``fonts-noto-cjk``). :func:`html_to_pdf` writes the page to a temporary folder, runs
``chromium --headless --print-to-pdf`` on it with a time limit and returns the PDF bytes.

Settings (``GEOSERVICE_PRINT_*``): ``chromium`` (default ``/usr/bin/chromium``, Debian's package) and
``timeout_s``.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Final

from pydantic_settings import BaseSettings, SettingsConfigDict

from geoservice.errors import UnavailableError

__all__ = ["PrintSettings", "html_to_pdf"]


class PrintSettings(BaseSettings):
    """Where Chromium is and how long a print may take (``GEOSERVICE_PRINT_CHROMIUM``, ``..._TIMEOUT_S``)."""

    model_config = SettingsConfigDict(env_prefix="GEOSERVICE_PRINT_", extra="ignore")

    chromium: Path = Path("/usr/bin/chromium")
    timeout_s: float = 120.0


#: Chromium in a container or on a server (无界面浏览器): no sandbox (no user namespaces there), no GPU, and nothing
#: fetched or updated in the background. The map page's browser tests launch it with the same flags.
CHROMIUM_SERVER_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
_ARGS = ("--headless", *CHROMIUM_SERVER_ARGS, "--no-pdf-header-footer")


def html_to_pdf(page: str, *, settings: PrintSettings | None = None) -> bytes:
    """The PDF of a self-contained HTML page (A4 unless the page's ``@page`` rule says otherwise).

    Raises
    ------
    UnavailableError
        (503) Chromium is not installed, fails or takes longer than ``timeout_s``.
    """
    s = settings or PrintSettings()
    if not s.chromium.exists():
        raise UnavailableError(
            f"无法生成 PDF：未安装 Chromium（{s.chromium}）/ cannot print to PDF: Chromium is not installed at "
            f"{s.chromium}; install Debian's chromium package or set GEOSERVICE_PRINT_CHROMIUM, or use the HTML",
            field="format",
            value="pdf",
            rule="chromium_available",
        )
    with tempfile.TemporaryDirectory(prefix="geoservice-print-") as folder:
        source = Path(folder) / "page.html"
        target = Path(folder) / "page.pdf"
        source.write_text(page, encoding="utf-8")
        command = [str(s.chromium), *_ARGS, f"--user-data-dir={folder}/profile", f"--print-to-pdf={target}",
                   source.as_uri()]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, timeout=s.timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise UnavailableError(
                f"PDF 生成超时（{s.timeout_s:.0f} s）/ printing to PDF took longer than {s.timeout_s:.0f} s",
                field="format",
                value="pdf",
                rule="print_timeout",
            ) from exc
        if not target.exists() or target.stat().st_size == 0:
            tail = done.stderr.decode("utf-8", "replace")[-400:]
            raise UnavailableError(
                f"Chromium 未能生成 PDF（退出码 {done.returncode}）/ Chromium did not print the page (exit code "
                f"{done.returncode}): {tail}",
                field="format",
                value="pdf",
                rule="print_failed",
            )
        return target.read_bytes()
