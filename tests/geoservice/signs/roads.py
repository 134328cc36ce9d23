"""Roads already on the register in 江岸区大智街道 (存量道路名): what the sign tests put signs on."""

from __future__ import annotations

from collections.abc import Iterable

from geoservice.gazetteer.name_import import import_names
from geoservice.gazetteer.names import NameInput
from geoservice.store import Store
from tests.geoservice.gazetteer.wuhan_divisions import load_divisions

DAZHI = "420102002"  # 江岸区大智街道


def current_roads(store: Store, road_names: Iterable[str]) -> dict[str, str]:
    """Load the Wuhan divisions and register ``road_names`` as current roads of 大智街道: name → record id."""
    load_divisions(store)
    result = import_names(
        store,
        [NameInput(n, "road", DAZHI, reason="存量地名") for n in road_names],
        status="current",
        user="test",
        reason="存量地名入库",
    )
    return {f.properties["name"]: f.id for f in result.stored if f is not None}
