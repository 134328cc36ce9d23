"""The worked-example notebooks (notebooks/) run headless in a temp dir; their committed copies have no outputs."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook__committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def _run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Execute ``notebooks/<name>`` with the repository importable; returns all its printed output."""
    monkeypatch.setenv("GEOSERVICE_ROOT", str(ROOT))
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    NotebookClient(
        nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return "".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        for o in c.get("outputs", [])
    )


@pytest.mark.slow
def test_coverage_gaps__runs_and_writes_a_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _run("coverage_gaps.ipynb", tmp_path, monkeypatch)
    assert (tmp_path / "coverage_gaps_report.html").exists()
    assert "elderly care" in text and "→" in text


@pytest.mark.slow
def test_officer_day__numbers_plates_and_geocodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _run("officer_day.ipynb", tmp_path, monkeypatch)
    assert "1号之一" in text  # the later building got a suffix number, nothing renumbered
    assert "door" in text  # at least one address geocoded to its door plate
