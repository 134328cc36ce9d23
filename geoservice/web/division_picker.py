"""The map page's division picker (区划选择): divisions by name, at any level, the whole city included.

Officers and planners know 江岸区, not 420102: ``GET /map/divisions?q=江岸`` answers the divisions whose name
(full or short, current or former) or code starts with or contains the text, the higher levels first, each
with its chain of names so two 新华街道 can be told apart. The page puts the code the API takes into the form.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query
from pydantic import BaseModel

from geoservice.api.deps import ReaderDep, StoreDep
from geoservice.gazetteer.divisions import DEPTH, Division, DivisionTree, tree_for_store

router = APIRouter(tags=["map 地图"])

LEVEL_LABELS: Final = {
    "province": "省级 province",
    "city": "市级 city",
    "county": "县级 county",
    "township": "乡级 township",
    "village": "村级 village",
}


class DivisionChoice(BaseModel):
    """One division the picker offers."""

    code: str
    name: str
    level: str
    level_label: str
    chain: str


class DivisionChoices(BaseModel):
    query: str
    divisions: list[DivisionChoice]


def _rank(division: Division, text: str, exact: set[str]) -> tuple[int, int, int, str]:
    """Exact names first, then names that start with the text, then the higher level and the shorter name."""
    if division.code in exact:
        how = 0
    elif division.name.startswith(text) or division.code.startswith(text):
        how = 1
    else:
        how = 2
    return (how, DEPTH.get(division.level, 9), len(division.name), division.code)


def find_divisions(tree: DivisionTree, text: str, *, limit: int) -> list[Division]:
    """Divisions named or coded like ``text`` (短名 and 曾用名 through the tree's name index), best first."""
    text = text.strip()
    if not text:
        return []
    exact = {entry.code for entry in tree.lookup(text)}
    found = [d for d in tree if d.code in exact or text in d.name or d.code.startswith(text)]
    found.sort(key=lambda d: _rank(d, text, exact))
    return found[:limit]


@router.get("/map/divisions", response_model=DivisionChoices, operation_id="pickDivisions")
def pick_divisions(
    store: StoreDep,
    _: ReaderDep,
    q: Annotated[
        str, Query(description="区划名称或代码的一部分 / part of a division's name or code", max_length=40)
    ],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> DivisionChoices:
    """Divisions whose name or code matches ``q`` (any level, the city too), with their chain of names."""
    tree = tree_for_store(store)
    return DivisionChoices(
        query=q,
        divisions=[
            DivisionChoice(
                code=d.code,
                name=d.name,
                level=d.level,
                level_label=LEVEL_LABELS.get(d.level, d.level),
                chain=tree.chain_text(d.code),
            )
            for d in find_divisions(tree, q, limit=limit)
        ],
    )
