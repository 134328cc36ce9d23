"""Only ``geoservice/store/`` writes SQL: no module elsewhere in geoservice, layers or siting holds a statement.

Every string literal (f-string parts included; docstrings excepted) of every module outside the store is
scanned for a SQL statement: ``SELECT … FROM``, ``INSERT INTO``, ``UPDATE … SET``, ``DELETE FROM``,
``CREATE/ALTER/DROP TABLE|INDEX|EXTENSION|SCHEMA``. Code that reads a *user's* file with SQL (an uploaded
GeoPackage) is not about our database and is listed in :data:`NOT_OUR_DATABASE` with its reason.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "geoservice" / "store"
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\b(CREATE|ALTER|DROP)\s+(VIRTUAL\s+)?(TABLE|INDEX|EXTENSION|SCHEMA)\b"
)


#: Modules whose SQL reads a user's file, never the service's database (named with the reason).
NOT_OUR_DATABASE = {
    ROOT / "geoservice" / "upload_limits.py": "measures an uploaded GeoPackage before it is parsed",
}


def _modules() -> list[Path]:
    paths = [
        p for package in ("geoservice", "layers", "siting") for p in sorted((ROOT / package).rglob("*.py"))
    ]
    return [p for p in paths if not p.is_relative_to(STORE) and p not in NOT_OUR_DATABASE]


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def sql_strings(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of every string literal of ``source`` that holds a SQL statement."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    skip |= {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{…}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        else:
            continue
        if SQL.search(text):
            found.append((node.lineno, text))
    return found


def test_sql_scan__finds_statements_and_ignores_prose() -> None:
    source = '''
"""Reads SELECT x FROM audit in its docstring, which is prose."""
a = f"SELECT fid FROM {table} WHERE ref = ?"
b = "INSERT INTO users (name) VALUES (?)"
c = "select the layer from the list"  # English, not SQL
'''
    assert [line for line, _ in sql_strings(source)] == [3, 4]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sql_outside_the_store(path: Path) -> None:
    found = sql_strings(path.read_text(encoding="utf-8"))
    assert not found, f"SQL outside geoservice/store/ in {path.relative_to(ROOT)}: {found}"
