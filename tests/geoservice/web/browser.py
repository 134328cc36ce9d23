"""Debian's Chromium driven by Playwright: where it is, how it is launched, where screenshots go."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geoservice.printing import CHROMIUM_SERVER_ARGS

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM_ARGS = list(CHROMIUM_SERVER_ARGS)


def browser_or_skip() -> None:
    """Skip (saying why) without /usr/bin/chromium; fail instead when ``GEOSERVICE_REQUIRE_BROWSER`` is set."""
    if not CHROMIUM.exists():
        if os.environ.get("GEOSERVICE_REQUIRE_BROWSER"):
            pytest.fail(
                "GEOSERVICE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing (apt-get install chromium)"
            )
        pytest.skip("/usr/bin/chromium is missing (Debian's chromium package); browser test skipped")
