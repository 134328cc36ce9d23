"""The place context of an analysis run's report (报告背景), read from the store.

:func:`report_context` gathers what :func:`siting.report.render_report` cannot read itself (``siting`` never
touches storage): the division's name and romanisation, the names of the divisions above it (so only their
local standards are listed), the roads and sub-divisions drawn on the report's map. The report is rendered
once, when the run finishes (:func:`geoservice.analyses.runs.execute_run`), and printed to PDF on request
(:func:`geoservice.analyses.runs.report_pdf`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd

from geoservice.store import Feature, Store

if TYPE_CHECKING:
    from siting.analysis import AnalysisInputs
    from siting.report import ReportContext

__all__ = ["report_context"]

#: How many levels above the analysed division are looked up for their names (province, city, county …).
_MAX_LEVELS_UP = 5


def _ancestor_names(store: Store, division: Feature) -> list[str]:
    names: list[str] = []
    parent = division.properties.get("parent_code")
    with store.transaction(readonly=True) as tx:
        for _ in range(_MAX_LEVELS_UP):
            if not parent:
                break
            found = tx.query("divisions", filters={"code": str(parent)}, limit=1, count=False).features
            if not found:
                break
            names.insert(0, str(found[0].properties.get("name") or ""))
            parent = found[0].properties.get("parent_code")
    return [n for n in names if n]


def _roads(store: Store, bounds: tuple[float, float, float, float]) -> gpd.GeoDataFrame | None:
    with store.transaction(readonly=True) as tx:
        roads = tx.query("roads", bbox=bounds, count=False).features
    roads = [r for r in roads if r.geometry is not None and not r.geometry.is_empty]
    if not roads:
        return None
    return gpd.GeoDataFrame(
        {"name": [r.properties.get("name") for r in roads], "road_class": [r.properties.get("road_class") for r in roads]},
        geometry=[r.geometry for r in roads],
        crs="EPSG:4490",
    )  # fmt: skip


def report_context(
    store: Store, division_code: str, inputs: AnalysisInputs, *, scenario: str | None = None
) -> ReportContext:
    """The place context of a run's report (报告背景): names from the division tree, roads and sub-divisions.

    Parameters
    ----------
    store : Store
    division_code : str
        The analysed division.
    inputs : siting.analysis.AnalysisInputs
        The run's inputs: its area (the map's extent) and sub-divisions (outlined and labelled).
    scenario : str, optional
        The planner's label for the run.
    """
    from geoservice.gazetteer.romanize import romanize
    from siting.report import ReportContext

    with store.transaction(readonly=True) as tx:
        found = tx.query("divisions", filters={"code": division_code}, limit=1, count=False).features
    division = found[0] if found else None
    name = str(division.properties.get("name") or "") if division is not None else ""
    sub = inputs.divisions
    townships = sub if len(sub) and set(sub["code"].astype(str)) != {division_code} else None
    bounds = tuple(float(v) for v in inputs.area.total_bounds)
    return ReportContext(
        division_name=name,
        division_name_en=romanize(name).toneless if name else "",
        places=(*(_ancestor_names(store, division) if division is not None else []), name),
        townships=townships,
        roads=_roads(store, bounds),  # type: ignore[arg-type]
        scenario=scenario,
    )
