"""The repository stands alone (文档自足): every document the code cites is in ``docs/``, every section it cites exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"docs/(DESIGN|STANDARDS|STYLE)\.md(?: §(\d+(?:\.\d+)?))?")
OUTSIDE = re.compile(r"\.\./shared/(DESIGN|STANDARDS|STYLE)\.md|(?<![/\w])(?:DESIGN|STANDARDS|STYLE)\.md")


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    suffixes = {".py", ".md", ".toml", ".json", ".txt", ".html", ".js", ".j2", ".ipynb"}
    return [
        ROOT / name
        for name in listed.split()
        if Path(name).suffix in suffixes and not name.startswith("docs/")
    ]


def _sections(document: Path) -> set[str]:
    headings = re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", document.read_text(encoding="utf-8"), flags=re.M)
    return set(headings)


def test_docs__every_citation_names_a_document_and_section_of_docs() -> None:
    missing = []
    for path in _tracked_text_files():
        for match in CITATION.finditer(path.read_text(encoding="utf-8", errors="replace")):
            document = ROOT / "docs" / f"{match[1]}.md"
            if not document.exists() or (match[2] and match[2] not in _sections(document)):
                missing.append(f"{path.relative_to(ROOT)}: {match[0]}")
    assert missing == []


def test_docs__no_citation_points_outside_the_repository() -> None:
    outside = [
        f"{path.relative_to(ROOT)}: {match[0]}"
        for path in _tracked_text_files()
        if path != Path(__file__).resolve()  # names the documents itself
        for match in OUTSIDE.finditer(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert outside == []


@pytest.mark.parametrize("section", ["1.1", "1.2", "1.3", "1.5", "1.6", "1.7", "2", "3", "3.1", "3.5", "3.6"])
def test_docs__standards_sections_the_code_cites_are_there(section: str) -> None:
    assert section in _sections(ROOT / "docs" / "STANDARDS.md")


def test_docs__readme_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?:docs|bench|notebooks)/[^)#\s]+)\)", readme)
    assert "docs/bring-your-own-data.md" in links
    assert [link for link in links if not (ROOT / link).exists()] == []


def test_docs__bring_your_own_data_names_every_format_and_flag() -> None:
    from layers.file_formats import READ_FORMATS

    text = (ROOT / "docs" / "bring-your-own-data.md").read_text(encoding="utf-8")
    assert [suffix for suffix in READ_FORMATS if f"`{suffix}`" not in text] == []
    assert [
        flag for flag in ("--crs", "--repair", "--map", "--encoding", "--layer") if f"`{flag}" not in text
    ] == []
