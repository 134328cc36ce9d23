"""The sample GeoPackage (示例数据包): its layers and a byte-stable writer."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import geopandas as gpd
import pandas as pd
import pyogrio

from layers.io import write_layer

GPKG_NAME: Final = "wuhan_sample.gpkg"
GPKG_LAYERS: Final = (
    "city_outline",
    "districts",
    "townships",
    "villages",
    "roads",
    "entrances",
    "facilities",
    "boundary_lines",
    "tri_junctions",
    "boundary_markers",
    "inspection_rounds",
    "marker_inspections",
)
_FIXED_DATE: Final = "2025-01-01T00:00:00Z"  # GeoPackage timestamps, so rebuilds give the same bytes


def write_gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame | pd.DataFrame]) -> None:
    """Write every layer into one GeoPackage, with a fixed ``last_change`` so rebuilds give the same bytes."""
    if path.exists():
        path.unlink()
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _FIXED_DATE})
    try:
        for name in GPKG_LAYERS:
            layer = layers[name]
            if isinstance(layer, gpd.GeoDataFrame):
                write_layer(layer, path, layer=name)
            else:  # a plain table (no geometry), which write_layer does not take
                pyogrio.write_dataframe(layer, path, layer=name, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
