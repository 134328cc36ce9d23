"""Tile routes (瓦片接口): vector (MVT) and raster (PNG) XYZ tiles, TileJSON 3.0.0 and legends.

``GET /tiles/{layer}/{z}/{x}/{y}.mvt`` for every public collection and ``analysis:{analysis_id}``;
``GET /tiles/{layer}/{z}/{x}/{y}.png`` for ``population``, ``elderly`` and ``coverage:{analysis_id}``.
Out-of-range z/x/y → 404, an empty tile → 204; every tile carries an ETag (``If-None-Match`` → 304) and
``Cache-Control: no-cache`` (clients revalidate, so an edit shows at once).

Tiles are cached in each worker (:class:`~geoservice.tiles.cache.TileCache`, in the worker's
:class:`~geoservice.tiles.state.TileState`, which the app's lifespan opens and closes). Before answering from its
cache a worker catches up with the audit log (:class:`~geoservice.tiles.feed.ChangeFeed`: one indexed
``MAX(seq)``), so an edit made through any worker, on any machine sharing the database, drops exactly the
tiles it touched everywhere — no stale tile after an edit.

The common case — an anonymous GET of a cached tile — is answered before the app, by
:class:`geoservice.api.cached_tiles.CachedTiles` (the outermost middleware), with the same status and headers
as here (:func:`tile_status`, :func:`tile_headers`). What it leaves to the app reaches the documented routes
below (FastAPI routes), in front of which sits a plain Starlette route (:func:`plain_tile`): the same checks as
the documented routes and :func:`serve_tile` (catch up with the feed, then the cache or a render) in the thread
pool, without dependency injection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from geoservice.api.deps import ReaderDep, StoreDep, optional_user, read_access
from geoservice.errors import UnavailableError
from geoservice.map_layers import RASTER_LAYERS, is_raster_layer, raster_style, vector_layer_names
from geoservice.store import Store
from geoservice.tiles import mvt, raster
from geoservice.tiles.cache import TileEntry, TileKey
from geoservice.tiles.grid import MAX_ZOOM, check_tile
from geoservice.tiles.state import TileState

router = APIRouter(prefix="/tiles", tags=["tiles 瓦片"])
log = logging.getLogger("geoservice.tiles")

CACHE_CONTROL = "public, max-age=0, no-cache"


async def start_tiles(app: Any, store: Store) -> None:
    """Lifespan start: the worker's :class:`TileState` (``app.state.tile_state``, its cache ``tile_cache``), and
    its change feed's first read on the event loop (on PostgreSQL it opens the feed's connection, which the
    first tile would wait for otherwise)."""
    app.state.tile_state = TileState.open(store)
    app.state.tile_cache = app.state.tile_state.cache
    try:
        await app.state.tile_state.feed.sync_async()
    except UnavailableError:  # the database went away since the store opened: the first tile tries again
        log.warning("tile change feed: no first read at start", exc_info=True)


async def stop_tiles(app: Any) -> None:
    """Lifespan end: close the change feed's connection, drop the worker's cached tiles and point indexes."""
    state: TileState | None = getattr(app.state, "tile_state", None)
    if state is not None:
        await state.feed.aclose()
        state.close()
        del app.state.tile_state, app.state.tile_cache


def tile_state(app: Any) -> TileState:
    """The app's :class:`TileState`, made by its lifespan (:func:`start_tiles`)."""
    state: TileState = app.state.tile_state
    return state


def get_tile_state(request: Request) -> TileState:
    """Dependency: the app's tile state."""
    return tile_state(request.app)


TileStateDep = Annotated[TileState, Depends(get_tile_state)]


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


def serve_tile(request: Request, store: Store, state: TileState, key: TileKey) -> Response:
    """Answer a tile request: check it, catch up with other workers' edits, then the cache or a render."""
    layer, z, x, y, kind = key
    render: Callable[[], bytes]
    if kind == "mvt":
        vector = mvt.vector_layer(layer)
        media_type = mvt.MEDIA_TYPE
        render = lambda: mvt.render_mvt(store, vector, z, x, y, points=state.points)  # noqa: E731
    else:
        raster.raster_kind(layer)
        media_type = raster.MEDIA_TYPE
        render = lambda: raster.render_png(store, layer, z, x, y)  # noqa: E731
    check_tile(z, x, y)
    state.feed.sync()
    entry = state.cache.get(key)
    if entry is None:
        generation = state.cache.generation(layer)
        entry = state.cache.put(key, render(), media_type, generation)
    return tile_response(request, entry)


def tile_status(entry: TileEntry, if_none_match: str | None) -> Literal[200, 204, 304]:
    """304 when ``If-None-Match`` holds the tile's ETag, 204 for an empty tile, else 200 with the body."""
    if if_none_match and entry.etag in [t.strip() for t in if_none_match.split(",")]:
        return 304
    return 200 if entry.body else 204


def tile_headers(entry: TileEntry) -> dict[str, str]:
    """The headers of every tile answer (200, 204, 304): ETag, Cache-Control and the open CORS origin."""
    return {"ETag": entry.etag, "Cache-Control": CACHE_CONTROL, "Access-Control-Allow-Origin": "*"}


def tile_response(request: Request, entry: TileEntry) -> Response:
    """200 with the body, 204 for an empty tile, 304 when ``If-None-Match`` holds the ETag."""
    status = tile_status(entry, request.headers.get("if-none-match"))
    if status != 200:
        return Response(status_code=status, headers=tile_headers(entry))
    return Response(entry.body, media_type=entry.media_type, headers=tile_headers(entry))


async def plain_vector_tile(request: Request) -> Response:
    """``.mvt`` without dependency injection: see :func:`plain_tile`."""
    request.scope["route"] = FAST_ROUTES[0]  # counted in the metrics under its template, as FastAPI's routes
    return await plain_tile(request, "mvt")


async def plain_raster_tile(request: Request) -> Response:
    """``.png`` without dependency injection: see :func:`plain_tile`."""
    request.scope["route"] = FAST_ROUTES[1]
    return await plain_tile(request, "png")


async def plain_tile(request: Request, kind: Literal["mvt", "png"]) -> Response:
    """A tile the cached-tile answer left to the app (a miss, a token, another web origin): the documented
    routes' checks and :func:`serve_tile` in the thread pool, without FastAPI's dependency injection."""
    params = request.path_params
    key: TileKey = (params["layer"], params["z"], params["x"], params["y"], kind)
    return await run_in_threadpool(_serve_checked, request, request.app.state.store, key)


def _serve_checked(request: Request, store: Store, key: TileKey) -> Response:
    # The same checks as the documented routes' dependencies (ReaderDep).
    read_access(request, optional_user(request, store), request.app.state.settings)
    return serve_tile(request, store, tile_state(request.app), key)


# In front of the documented routes (first match wins); a negative or non-numeric z/x/y falls through to them.
FAST_ROUTES = (
    Route("/tiles/{layer}/{z:int}/{x:int}/{y:int}.mvt", plain_vector_tile, methods=["GET"]),
    Route("/tiles/{layer}/{z:int}/{x:int}/{y:int}.png", plain_raster_tile, methods=["GET"]),
)
router.routes[:0] = FAST_ROUTES


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
        for name in vector_layer_names()
    ]
    layers += [
        TileLayerPublic(
            id=name,
            title=raster_layer.title,
            kind="raster",
            tilejson=f"{base}/tiles/{name}/tilejson.json",
        )
        for name, raster_layer in RASTER_LAYERS.items()
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
    state: TileStateDep,
    user: ReaderDep,
) -> Response:
    """A Mapbox Vector Tile 2.1 (extent 4096; layer = ``layer``; feature id = fid; ``point_count`` below z14)."""
    return serve_tile(request, store, state, (layer, z, x, y, "mvt"))


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
    state: TileStateDep,
    user: ReaderDep,
) -> Response:
    """A 256 px PNG of population / elderly density or an analysis' coverage gaps (people/km², classed)."""
    return serve_tile(request, store, state, (layer, z, x, y, "png"))


@router.get(
    "/{layer}/tilejson.json",
    response_model=TileJSONPublic,
    response_model_exclude_none=True,
    operation_id="getTileJSON",
)
def get_tilejson(layer: str, request: Request, store: StoreDep, user: ReaderDep) -> TileJSONPublic:
    """TileJSON 3.0.0 for a vector or raster layer (absolute tile URL, bounds, fields)."""
    base = str(request.base_url).rstrip("/")
    if is_raster_layer(layer):
        kind, _ = raster.raster_kind(layer)
        bounds = raster.population_bounds(store, kind) if kind != "coverage" else None
        box = list(bounds or mvt.CHINA_BOUNDS)
        return TileJSONPublic(
            name=layer,
            description=raster_style(layer).title,
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
