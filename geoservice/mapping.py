"""folium helper (folium 叠加): our tiles and GeoJSON on a folium map in one call, for notebooks.

>>> import folium
>>> m = folium.Map(location=[30.59, 114.30], zoom_start=11, tiles=None)
>>> added = add_geoservice_layers(m, "http://127.0.0.1:8000", layers=["elderly", "facilities"])
>>> [type(layer).__name__ for layer in added]
['TileLayer', 'LinkedGeoJson']
>>> 'collections/facilities/items?limit=1000' in m.get_root().render()
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import folium

from geoservice.errors import BadRequestError
from geoservice.map_layers import NOTEBOOK_LAYERS, RASTER_LAYERS, is_raster_layer, vector_layer_names
from geoservice.store import COLLECTIONS


class LinkedGeoJson(folium.GeoJson):  # type: ignore[misc]
    """GeoJSON the browser fetches from the service when the map is shown (nothing fetched, nothing embedded now)."""

    def get_geojson_from_web(self, url: str) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": []}


DEFAULT_LAYERS = NOTEBOOK_LAYERS


def add_geoservice_layers(
    m: folium.Map,
    base_url: str,
    layers: Sequence[str] = DEFAULT_LAYERS,
    *,
    vector_as: Literal["geojson", "none"] = "geojson",
    limit: int = 1000,
    bbox: tuple[float, float, float, float] | None = None,
    layer_control: bool = True,
) -> list[Any]:
    """Add geoservice layers to a folium map: raster tiles and OGC API – Features GeoJSON, in one call.

    Parameters
    ----------
    m
        The folium map (any CRS option; tiles are Web Mercator XYZ).
    base_url
        Where the service runs, e.g. ``http://127.0.0.1:8000``.
    layers
        ``population`` / ``elderly`` (density PNG tiles, people/km²), ``coverage:{analysis_id}`` (gap heat),
        or a public collection id (``divisions``, ``facilities``, ``boundary_markers`` …) drawn as GeoJSON
        fetched by the browser from ``/collections/{id}/items`` (not embedded in the notebook).
    vector_as
        ``"none"`` skips the collections (tiles only).
    limit, bbox
        ``limit`` and ``bbox`` (lon/lat) of the items request.
    layer_control
        Add a layer switcher (图层控制) after the layers.

    Returns
    -------
    list
        The folium layers added, in order.
    """
    base = base_url.rstrip("/")
    added: list[Any] = []
    for name in layers:
        if is_raster_layer(name):
            layer: Any = folium.TileLayer(
                tiles=f"{base}/tiles/{name}/{{z}}/{{x}}/{{y}}.png",
                attr="geoservice · WorldPop",
                name=f"{name} (人/km² people per km²)",
                overlay=True,
                control=True,
                opacity=0.85,
                max_zoom=19,
            )
        elif name in vector_layer_names():
            if vector_as == "none":
                continue
            url = f"{base}/collections/{name}/items?limit={int(limit)}"
            if bbox is not None:
                url += "&bbox=" + ",".join(f"{v:.6f}" for v in bbox)
            layer = LinkedGeoJson(url, name=COLLECTIONS[name].title, embed=False)
        else:
            raise BadRequestError(
                f"未知图层 {name!r} / unknown layer {name!r}; use {', '.join(RASTER_LAYERS)}, coverage:{{id}} or a "
                "public collection",
                field="layers",
                value=name,
                rule="known_layer",
            )
        layer.add_to(m)
        added.append(layer)
    if layer_control and added:
        folium.LayerControl(collapsed=False).add_to(m)
    return added


#: The name the issue used first.
add_to_folium = add_geoservice_layers
