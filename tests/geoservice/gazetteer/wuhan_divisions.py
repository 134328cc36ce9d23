"""Real 2021 divisions for the names tests: Hubei's Wuhan and Suizhou, plus Beijing's 东城区.

Read once from ``../shared/data/divisions`` (the real files), cut down to what the tests need so a store
on either backend loads them in a moment: 湖北省, 武汉市 with its districts and townships, the villages and
communities of two townships (江岸区大智街道, 黄陂区 前川街道 …), 随州市 with its districts, counties and
townships, and 北京市 / 东城区 for a second province.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from geoservice.gazetteer.divisions import DivisionTree
from geoservice.store import Store
from tests.conftest import SHARED_DATA

VILLAGE_TOWNSHIPS = ("420102002", "420102009", "420116006", "420116008", "421321110")


@cache
def division_frame() -> pd.DataFrame:
    """The division rows the tests use (code, code12, name, level, parent_code, kind …)."""
    from layers.admin import read_divisions

    table = read_divisions(SHARED_DATA / "divisions", villages=["4201", "4213"])
    code = table["code"].astype(str)
    keep = (
        code.isin(["42", "11", "110101"])
        | ((code.str.len() <= 9) & (code.str.startswith("4201") | code.str.startswith("4213")))
        | code.str[:9].isin(VILLAGE_TOWNSHIPS)
    )
    return table[keep].reset_index(drop=True)


def load_divisions(store: Store) -> int:
    """Insert the test divisions into ``store``; returns how many."""
    from geoservice.imports import division_features

    with store.transaction(user="test") as tx:
        return tx.insert_many("divisions", division_features(division_frame()), reason="test divisions")


@cache
def division_tree() -> DivisionTree:
    """The same divisions as an in-memory tree (for tests that need no store)."""
    return DivisionTree.from_frame(division_frame())
