"""The layer registry (图层目录): every layer the service draws, in one place.

Which collection feeds which tile layer, the raster layers (``population``, ``elderly``, and the
``coverage:{analysis_id}`` heat of an analysis), their bilingual titles, the labels of the map page and
their colour scales. Read by the tile routes (:mod:`geoservice.api.tiles`), the tile cache
(:mod:`geoservice.tiles.cache`), the raster renderer (:mod:`geoservice.tiles.raster`), the map page
(``/map/layers.js``) and the folium helper (:mod:`geoservice.mapping`).

Examples
--------
>>> sorted(RASTER_LAYERS)
['elderly', 'population']
>>> tile_layers_fed_by("analysis_results", "a1")
['analysis:a1', 'coverage:a1']
>>> raster_style("coverage:a1").title.split("/ ")[1]
'Uncovered population density (coverage gap)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np

from geoservice.errors import NotFoundError
from geoservice.signs.register import sign_condition_labels
from geoservice.store import COLLECTIONS

RasterName = Literal["population", "elderly"]

#: Tile layer names of an analysis: its result features (vector) and its gap heat (raster).
ANALYSIS_PREFIX: Final = "analysis:"
COVERAGE_PREFIX: Final = "coverage:"


@dataclass(frozen=True)
class ColourScale:
    """Classed colours: ``breaks[i] <= value < breaks[i+1]`` gets ``colours[i]`` (the last class is open)."""

    title: str
    unit: str
    breaks: tuple[float, ...]
    colours: tuple[str, ...]
    scheme: str

    def classes(self) -> list[dict[str, Any]]:
        """Legend rows: lower and upper bound (``None`` = open), colour, label."""
        rows = []
        for i, colour in enumerate(self.colours):
            low = self.breaks[i]
            high = self.breaks[i + 1] if i + 1 < len(self.breaks) else None
            label = f"≥ {low:,.0f}" if high is None else f"{low:,.0f} – {high:,.0f}"
            rows.append({"min": low, "max": high, "color": colour, "label": label})
        return rows

    def rgba(self, values: np.ndarray, alpha: int = 200) -> np.ndarray:
        """An RGBA image (H, W, 4) of ``values``; values below the first break (and NaN) transparent."""
        rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in self.colours], dtype=np.uint8)
        index = np.searchsorted(np.asarray(self.breaks), np.nan_to_num(values, nan=-1.0), side="right") - 1
        visible = (index >= 0) & (values > 0)
        out = np.zeros((*values.shape, 4), dtype=np.uint8)
        out[visible, :3] = rgb[np.clip(index[visible], 0, len(self.colours) - 1)]
        out[visible, 3] = alpha
        return out


_DENSITY_UNIT = "人/km² / people per km²"


@dataclass(frozen=True)
class RasterLayer:
    """A population density layer drawn from a registered population raster (``population_layers``).

    ``age_groups``: the registered raster drawn is the first one found with one of these, in this order.
    """

    name: RasterName
    label: str  # the map page's layer switch
    age_groups: tuple[str, ...]
    scale: ColourScale

    @property
    def title(self) -> str:
        """Bilingual title (Chinese / English)."""
        return self.scale.title


RASTER_LAYERS: Final[dict[str, RasterLayer]] = {
    layer.name: layer
    for layer in (
        RasterLayer(
            "population",
            "人口密度 Population density",
            ("all",),
            ColourScale(
                "人口密度 / Population density",
                _DENSITY_UNIT,
                (0.001, 100, 500, 1_000, 2_500, 5_000, 10_000, 20_000),
                ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
                "ColorBrewer YlGnBu (colour-blind safe)",
            ),
        ),
        RasterLayer(
            "elderly",
            "老年人口密度 Elderly density",
            ("60+", "65+"),
            ColourScale(
                "老年人口密度 / Elderly population density",
                _DENSITY_UNIT,
                (0.001, 25, 100, 250, 500, 1_000, 2_500, 5_000),
                ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
                "ColorBrewer YlOrRd (colour-blind safe)",
            ),
        ),
    )
}

#: The gap heat of an analysis (``coverage:{analysis_id}``): uncovered people per km² of its gap cells.
COVERAGE_SCALE: Final = ColourScale(
    "未覆盖人口密度(服务缺口)/ Uncovered population density (coverage gap)",
    _DENSITY_UNIT,
    (0.001, 25, 100, 250, 500, 1_000, 2_500, 5_000),
    ("#fff7f3", "#fde0dd", "#fcc5c0", "#fa9fb5", "#f768a1", "#dd3497", "#ae017e", "#7a0177"),
    "ColorBrewer RdPu (colour-blind safe)",
)


def vector_layer_names() -> list[str]:
    """Collections drawn as vector tiles and served as OGC API features (public, with a geometry)."""
    return [c.name for c in COLLECTIONS.values() if c.public and c.geometry_type is not None]


def is_raster_layer(name: str) -> bool:
    """``population``, ``elderly`` or ``coverage:{analysis_id}``."""
    return name in RASTER_LAYERS or (name.startswith(COVERAGE_PREFIX) and len(name) > len(COVERAGE_PREFIX))


def raster_style(name: str) -> ColourScale:
    """The colour scale (title, unit, classes) of a raster layer; 404 for any other name."""
    if name in RASTER_LAYERS:
        return RASTER_LAYERS[name].scale
    if is_raster_layer(name):
        return COVERAGE_SCALE
    raise NotFoundError(
        f"没有栅格图层 {name!r} / no raster tile layer {name!r}; use "
        f"{', '.join(RASTER_LAYERS)} or {COVERAGE_PREFIX}{{analysis_id}}",
        field="layer",
        value=name,
        rule="known_layer",
    )


def tile_layers_fed_by(collection: str, ref: str | None) -> list[str]:
    """The tile layers a change to ``collection`` (a record with ``ref``) redraws.

    ``analysis_results`` feed their analysis' layers (none known without ``ref``); ``population_layers``
    (registered rasters) feed every density layer; any other collection feeds the layer of its name.
    """
    if collection == "analysis_results":
        return [f"{ANALYSIS_PREFIX}{ref}", f"{COVERAGE_PREFIX}{ref}"] if ref else []
    if collection == "population_layers":
        return list(RASTER_LAYERS)
    return [collection]


def is_analysis_layer(name: str) -> bool:
    """A layer of one analysis (``analysis:…`` or ``coverage:…``)."""
    return name.startswith((ANALYSIS_PREFIX, COVERAGE_PREFIX))


@dataclass(frozen=True)
class Overlay:
    """A collection the map page draws over the base layer (GeoJSON from OGC API – Features)."""

    collection: str
    label: str  # the map page's layer switch


#: The map page's overlays, in the order of its layer switch.
MAP_OVERLAYS: Final = (
    Overlay("divisions", "行政区划 Divisions"),
    Overlay("roads", "道路 Roads"),
    Overlay("place_names", "地名 Place names"),
    Overlay("facilities", "民政设施 Facilities"),
    Overlay("boundary_lines", "界线 Boundary lines"),
    Overlay("boundary_markers", "界桩 Markers"),
    Overlay("place_signs", "地名标志 Signs"),
)
#: The base layer the map page opens with, and the labels of its switch (the rasters, then "none").
MAP_BASE_LAYER: Final = "elderly"
MAP_NO_BASE_LABEL: Final = "无底图 None"
#: The label of an analysis' gap heat on the map page.
MAP_COVERAGE_LABEL: Final = "服务缺口 Coverage gaps"


@dataclass(frozen=True)
class FacilitySymbol:
    """How the map page draws one facility type (设施符号): a shape, a colour and a one-character glyph."""

    shape: Literal["circle", "triangle", "square", "diamond"]
    colour: str
    glyph: str


#: One distinct symbol per facility type of the standards catalogue (its labels come from there too).
FACILITY_SYMBOLS: Final = {
    "elderly_care": FacilitySymbol("circle", "#1a9850", "养"),
    "emergency_shelter": FacilitySymbol("triangle", "#e66101", "避"),
    "public_cemetery": FacilitySymbol("square", "#6a6a6a", "墓"),
    "rescue_station": FacilitySymbol("diamond", "#c51b7d", "救"),
}
OTHER_FACILITY: Final = FacilitySymbol("circle", "#2b6cb0", "设")


def facility_types() -> list[dict[str, Any]]:
    """The facility types of the standards catalogue with their labels and map symbols (picker and legend)."""
    from siting.standards import default_catalogue

    rows = []
    for facility_type, standard in default_catalogue().facilities.items():
        symbol = FACILITY_SYMBOLS.get(facility_type, OTHER_FACILITY)
        rows.append(
            {
                "id": facility_type,
                "label": f"{standard.label_zh} {standard.label_en}",
                "shape": symbol.shape,
                "colour": symbol.colour,
                "glyph": symbol.glyph,
            }
        )
    return rows


#: What :func:`geoservice.mapping.add_geoservice_layers` adds when not told.
NOTEBOOK_LAYERS: Final = ("elderly", "divisions", "facilities")


def map_page_layers() -> dict[str, Any]:
    """What the map page needs to know of the layers (served as ``/map/layers.js``)."""
    return {
        "base": MAP_BASE_LAYER,
        "rasters": [
            {"id": r.name, "label": r.label, "tiles": f"/tiles/{r.name}/{{z}}/{{x}}/{{y}}.png"}
            for r in sorted(RASTER_LAYERS.values(), key=lambda r: r.name != MAP_BASE_LAYER)
        ],
        "none": MAP_NO_BASE_LABEL,
        "overlays": [{"id": o.collection, "label": o.label} for o in MAP_OVERLAYS],
        "coverage_prefix": COVERAGE_PREFIX,
        "coverage_label": MAP_COVERAGE_LABEL,
        "facility_types": facility_types(),
        "other_facility": {"shape": OTHER_FACILITY.shape, "colour": OTHER_FACILITY.colour},
        "sign_conditions": sign_condition_labels(),
    }
