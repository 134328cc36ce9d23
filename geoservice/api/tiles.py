"""Tile routes (瓦片接口): vector (MVT) and raster (PNG) XYZ tiles, TileJSON 3.0.0 and legends.

``GET /tiles/{layer}/{z}/{x}/{y}.mvt`` for every public collection and ``analysis:{analysis_id}``;
``GET /tiles/{layer}/{z}/{x}/{y}.png`` for ``population``, ``elderly`` and ``coverage:{analysis_id}``.
Out-of-range z/x/y → 404, an empty tile → 204; every tile carries an ETag (``If-None-Match`` → 304) and
``Cache-Control: no-cache`` (clients revalidate, so an edit shows at once). Tiles are cached in process
and the store tells the cache which tiles an edit touched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from geoservice.api.deps import ReaderDep, StoreDep
from geoservice.tiles import mvt, raster
from geoservice.tiles.cache import TileCache, TileKey
from geoservice.tiles.grid import MAX_ZOOM, check_tile

router = APIRouter(prefix="/tiles", tags=["tiles 瓦片"])

CACHE_CONTROL = "public, max-age=0, no-cache"
_CACHE_LOCK = threading.Lock()


def get_tile_cache(request: Request, store: StoreDep) -> TileCache:
    """The app's tile cache, created on first use and registered as a listener of the store."""
    cache: TileCache | None = getattr(request.app.state, "tile_cache", None)
    if cache is None:
        with _CACHE_LOCK:
            cache = getattr(request.app.state, "tile_cache", None)
            if cache is None:
                cache = TileCache()
                store.add_listener(cache.on_changes)
                request.app.state.tile_cache = cache
    return cache


TileCacheDep = Annotated[TileCache, Depends(get_tile_cache)]


class TileLayerPublic(BaseModel):
    id: str
    title: str
    kind: Literal["vector", "raster"]
    tilejson: str


class TileLayersPublic(BaseModel):
    layers: list[TileLayerPublic]


class LegendClass(BaseModel):
    min: float
    max: float | None
    color: str
    label: str


class LegendPublic(BaseModel):
    layer: str
    title: str
    unit: str
    scheme: str
    classes: list[LegendClass]


class TileJSONPublic(BaseModel):
    tilejson: str = "3.0.0"
    name: str
    description: str
    version: str = "1.0.0"
    scheme: str = "xyz"
    tiles: list[str]
    minzoom: int = 0
    maxzoom: int = MAX_ZOOM
    bounds: list[float]
    center: list[float]
    attribution: str = "geoservice"
    vector_layers: list[dict[str, Any]] | None = Field(default=None)
    legend: str | None = None


def _tile_response(
    request: Request, cache: TileCache, key: TileKey, media_type: str, render: Callable[[], bytes]
) -> Response:
    _, z, x, y, _ = key
    check_tile(z, x, y)
    entry = cache.get(key)
    if entry is None:
        generation = cache.generation(key[0])
        entry = cache.put(key, render(), media_type, generation)
    headers = {"ETag": entry.etag, "Cache-Control": CACHE_CONTROL, "Access-Control-Allow-Origin": "*"}
    if entry.etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    if not entry.body:
        return Response(status_code=204, headers=headers)
    return Response(entry.body, media_type=media_type, headers=headers)


@router.get("", response_model=TileLayersPublic, operation_id="listTileLayers")
def list_tile_layers(request: Request, user: ReaderDep) -> TileLayersPublic:
    """Every tile layer: vector ones per public collection, the population rasters (analysis layers by id)."""
    base = str(request.base_url).rstrip("/")
    layers = [
        TileLayerPublic(
            id=name,
            title=mvt.vector_layer(name).title,
            kind="vector",
            tilejson=f"{base}/tiles/{name}/tilejson.json",
        )
        for name in mvt.public_collections()
    ]
    layers += [
        TileLayerPublic(
            id=name,
            title=raster.SCALES[name].title,
            kind="raster",
            tilejson=f"{base}/tiles/{name}/tilejson.json",
        )  # type: ignore[index]
        for name in ("population", "elderly")
    ]
    return TileLayersPublic(layers=layers)


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    operation_id="getVectorTile",
    response_class=Response,
    responses={200: {"content": {mvt.MEDIA_TYPE: {}}}, 204: {"description": "empty tile"}, 304: {}, 404: {}},
)
def get_vector_tile(
    layer: str,
    z: int,
    x: int,
    y: int,
    request: Request,
    store: StoreDep,
    cache: TileCacheDep,
    user: ReaderDep,
) -> Response:
    """A Mapbox Vector Tile 2.1 (extent 4096; layer = ``layer``; feature id = fid)."""
    vector = mvt.vector_layer(layer)
    return _tile_response(
        request,
        cache,
        (layer, z, x, y, "mvt"),
        mvt.MEDIA_TYPE,
        lambda: mvt.render_mvt(store, vector, z, x, y),
    )


@router.get(
    "/{layer}/{z}/{x}/{y}.png",
    operation_id="getRasterTile",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 204: {"description": "empty tile"}, 304: {}, 404: {}},
)
def get_raster_tile(
    layer: str,
    z: int,
    x: int,
    y: int,
    request: Request,
    store: StoreDep,
    cache: TileCacheDep,
    user: ReaderDep,
) -> Response:
    """A 256 px PNG of population / elderly density or an analysis' coverage gaps (people/km², classed)."""
    raster.raster_kind(layer)
    return _tile_response(
        request,
        cache,
        (layer, z, x, y, "png"),
        raster.MEDIA_TYPE,
        lambda: raster.render_png(store, layer, z, x, y),
    )


@router.get(
    "/{layer}/tilejson.json",
    response_model=TileJSONPublic,
    response_model_exclude_none=True,
    operation_id="getTileJSON",
)
def get_tilejson(layer: str, request: Request, store: StoreDep, user: ReaderDep) -> TileJSONPublic:
    """TileJSON 3.0.0 for a vector or raster layer (absolute tile URL, bounds, fields)."""
    base = str(request.base_url).rstrip("/")
    if layer in ("population", "elderly") or layer.startswith("coverage:"):
        kind, _ = raster.raster_kind(layer)
        bounds = raster.population_bounds(store, kind) if kind != "coverage" else None  # type: ignore[arg-type]
        box = list(bounds or mvt.CHINA_BOUNDS)
        return TileJSONPublic(
            name=layer,
            description=raster.SCALES[kind].title,
            tiles=[f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.png"],
            bounds=box,
            center=[(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, 10],
            legend=f"{base}/tiles/{layer}/legend",
        )
    vector = mvt.vector_layer(layer)
    box = list(mvt.data_bounds(store, vector))
    return TileJSONPublic(
        name=layer,
        description=vector.title,
        tiles=[f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt"],
        bounds=box,
        center=[(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, 10],
        vector_layers=[
            {
                "id": layer,
                "description": vector.title,
                "minzoom": 0,
                "maxzoom": MAX_ZOOM,
                "fields": mvt.layer_fields(vector),
            }
        ],
    )


@router.get(
    "/{layer}/legend",
    response_model=LegendPublic,
    operation_id="getTileLegend",
    responses={200: {"content": {"application/json": {}, "image/png": {}}}},
)
def get_legend(layer: str, user: ReaderDep, f: Literal["json", "png"] = Query("json")) -> Any:
    """The legend of a raster layer: classes in people/km² with their colours (JSON, or ``f=png``)."""
    if f == "png":
        return Response(raster.legend_png(layer), media_type="image/png")
    return raster.legend(layer)
