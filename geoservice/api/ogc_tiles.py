"""OGC API – Tiles Part 1 (瓦片服务标准接口) over the existing vector tiles.

``GET /tileMatrixSets`` and ``/tileMatrixSets/{tileMatrixSetId}`` (WebMercatorQuad, from ``morecantile``, the
zoom levels the service draws: 0 … :data:`~geoservice.tiles.grid.MAX_ZOOM`), ``/collections/{id}/tiles`` (the
collection's tilesets) and ``/collections/{id}/tiles/{tileMatrixSetId}`` (one tileset's metadata). The tiles
themselves stay where they are: the tileset's templated ``item`` link points at
``/tiles/{layer}/{tileMatrix}/{tileCol}/{tileRow}.mvt`` (z/x/y of WebMercatorQuad), so the map page, TileJSON
clients and OGC API clients fetch the same cached tiles. Which collection draws which tile layer:
:func:`geoservice.map_layers.vector_layer_names`. The population rasters are not collections; their PNG tiles
stay described by TileJSON (``/tiles/{layer}/tilejson.json``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import morecantile
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from geoservice.api.deps import ReaderDep
from geoservice.api.feature_collections import Link, served_collection
from geoservice.errors import NotFoundError, require_choice
from geoservice.map_layers import vector_layer_names
from geoservice.tiles import mvt
from geoservice.tiles.grid import MAX_ZOOM

router = APIRouter(tags=["OGC API – Tiles 瓦片服务"])

#: The tile matrix sets served (WebMercatorQuad is the grid of every tile here).
TILE_MATRIX_SETS = ("WebMercatorQuad",)
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
REL_GEODATA = "http://www.opengis.net/def/rel/ogc/1.0/geodata"


class TileMatrixSetRef(BaseModel):
    id: str
    title: str
    uri: str
    links: list[Link]


class TileMatrixSetsPublic(BaseModel):
    tileMatrixSets: list[TileMatrixSetRef]  # noqa: N815 (spec spelling)


class TileMatrixSetPublic(BaseModel):
    """A tile matrix set (瓦片矩阵集) in the OGC Two Dimensional Tile Matrix Set 2.0 JSON encoding."""

    model_config = ConfigDict(extra="allow")
    id: str
    uri: str
    crs: Any
    tileMatrices: list[dict[str, Any]]  # noqa: N815


class TilesetPublic(BaseModel):
    """A tileset's metadata (瓦片集): its data type, grid and the templated link to its tiles."""

    title: str
    dataType: str  # noqa: N815
    crs: str
    tileMatrixSetURI: str  # noqa: N815
    links: list[dict[str, Any]]
    layers: list[dict[str, Any]] | None = None


class TilesetsPublic(BaseModel):
    tilesets: list[TilesetPublic]
    links: list[Link]


@lru_cache(maxsize=len(TILE_MATRIX_SETS))
def tile_matrix_set(tms_id: str) -> dict[str, Any]:
    """The tile matrix set ``tms_id`` as JSON, down to the zoom levels the service draws; 404 if not served."""
    require_choice(
        tms_id,
        TILE_MATRIX_SETS,
        field="tileMatrixSetId",
        rule="known_tile_matrix_set",
        noun_zh="瓦片矩阵集",
        noun_en="tile matrix set",
        error=NotFoundError,
    )
    body: dict[str, Any] = morecantile.tms.get(tms_id).model_dump(exclude_none=True, mode="json")
    body["tileMatrices"] = [m for m in body["tileMatrices"] if int(m["id"]) <= MAX_ZOOM]
    return body


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _tms_link(base: str, tms_id: str) -> Link:
    return Link(
        href=f"{base}/tileMatrixSets/{tms_id}", rel=REL_TILING_SCHEME, type="application/json", title=tms_id
    )


def _tileset(base: str, collection: str, tms_id: str) -> TilesetPublic:
    tms = tile_matrix_set(tms_id)
    url = f"{base}/collections/{collection}/tiles/{tms_id}"
    layer = mvt.vector_layer(collection)
    return TilesetPublic(
        title=f"{layer.title} ({tms_id})",
        dataType="vector",
        crs=str(tms["crs"]),
        tileMatrixSetURI=str(tms["uri"]),
        links=[
            {"href": url, "rel": "self", "type": "application/json", "title": "本瓦片集 / this tileset"},
            _tms_link(base, tms_id).model_dump(exclude_none=True),
            {"href": f"{base}/collections/{collection}", "rel": REL_GEODATA, "type": "application/json"},
            {
                "href": f"{base}/tiles/{collection}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}.mvt",
                "rel": "item",
                "type": mvt.MEDIA_TYPE,
                "templated": True,
                "title": "矢量瓦片 / vector tiles (Mapbox Vector Tile)",
            },
            {
                "href": f"{base}/tiles/{collection}/tilejson.json",
                "rel": "describedby",
                "type": "application/json",
            },
        ],
        layers=[
            {
                "id": collection,
                "title": layer.title,
                "dataType": "vector",
                "minTileMatrix": "0",
                "maxTileMatrix": str(MAX_ZOOM),
                "propertiesSchema": {
                    "type": "object",
                    "properties": {
                        name: {"description": kind} for name, kind in mvt.layer_fields(layer).items()
                    },
                },
            }
        ],
    )


def _tiled_collection(collection_id: str) -> str:
    """A served collection drawn as vector tiles (every served one is); 404 otherwise."""
    name = served_collection(collection_id).name
    if name not in vector_layer_names():
        raise NotFoundError(
            f"数据集 {name} 没有瓦片 / collection {name} has no tiles",
            field="collectionId",
            value=name,
            rule="tiled_collection",
        )
    return name


@router.get("/tileMatrixSets", response_model=TileMatrixSetsPublic, operation_id="getTileMatrixSetsList")
def get_tile_matrix_sets(request: Request, user: ReaderDep) -> TileMatrixSetsPublic:
    """The tile matrix sets (瓦片矩阵集) the tiles are cut in."""
    base = _base(request)
    return TileMatrixSetsPublic(
        tileMatrixSets=[
            TileMatrixSetRef(
                id=tms_id,
                title=str(tile_matrix_set(tms_id).get("title", tms_id)),
                uri=str(tile_matrix_set(tms_id)["uri"]),
                links=[Link(href=f"{base}/tileMatrixSets/{tms_id}", rel="self", type="application/json")],
            )
            for tms_id in TILE_MATRIX_SETS
        ]
    )


@router.get(
    "/tileMatrixSets/{tileMatrixSetId}", response_model=TileMatrixSetPublic, operation_id="getTileMatrixSet"
)
def get_tile_matrix_set(tileMatrixSetId: str, user: ReaderDep) -> dict[str, Any]:
    """One tile matrix set: CRS, origin, cell sizes and matrix sizes per zoom level."""
    return tile_matrix_set(tileMatrixSetId)


@router.get(
    "/collections/{collectionId}/tiles", response_model=TilesetsPublic, operation_id="getCollectionTilesets"
)
def get_collection_tilesets(collectionId: str, request: Request, user: ReaderDep) -> TilesetsPublic:
    """The tilesets of a collection (one per tile matrix set), each linking to its tiles."""
    name = _tiled_collection(collectionId)
    base = _base(request)
    return TilesetsPublic(
        tilesets=[_tileset(base, name, tms_id) for tms_id in TILE_MATRIX_SETS],
        links=[Link(href=f"{base}/collections/{name}/tiles", rel="self", type="application/json")],
    )


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}",
    response_model=TilesetPublic,
    response_model_exclude_none=True,
    operation_id="getCollectionTileset",
)
def get_collection_tileset(
    collectionId: str, tileMatrixSetId: str, request: Request, user: ReaderDep
) -> TilesetPublic:
    """One tileset's metadata: data type, CRS, tile matrix set and the templated tile URL."""
    name = _tiled_collection(collectionId)
    tile_matrix_set(tileMatrixSetId)
    return _tileset(_base(request), name, tileMatrixSetId)
