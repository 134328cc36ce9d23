"""The stored collections (数据集) and the versioned schema migrations for both backends.

Every collection is one table of the same shape, so one code path serves them all:

========== ============================================================================
column     meaning
========== ============================================================================
fid        integer row id (MVT feature id, GeoPackage fid, R-tree key)
id         stable UUID (field packages and merges rely on it)
version    optimistic-concurrency counter, +1 on every update (``If-Match``)
created_at ISO 8601 UTC
updated_at ISO 8601 UTC
key        natural unique key, or NULL: two rows never share a non-NULL key (duplicate names,
           marker numbers). Uniqueness is enforced by the database, so it holds under concurrency.
name       promoted from ``properties["name"]``          (indexed)
code       promoted from ``properties["code"]``          (indexed: division code, marker number …)
kind       promoted from ``properties["kind"]``          (indexed: category, level, facility type …)
status     promoted from ``properties["status"]``        (indexed: lifecycle state, condition …)
division_code promoted from ``properties["division_code"]`` (indexed)
ref        promoted from ``properties[<collection.ref_field>]``: the record this one hangs off
           (a marker's line, an inspection's marker, a division's parent code …)
props      all properties as JSON (the promoted ones included)
geom       geometry in CGCS2000 lon/lat (EPSG:4490): WKB in SQLite (+ an R-tree), PostGIS geometry
========== ============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from geoservice.store import name_tables, point_cells
from geoservice.store.columns import PROMOTED, SRID
from geoservice.store.dialect import Backend, Dialect
from geoservice.store.postgis_dialect import PostGISDialect
from geoservice.store.sqlite_dialect import SQLiteDialect

__all__ = [
    "COLLECTIONS",
    "DIALECTS",
    "LATEST_VERSION",
    "MIGRATIONS",
    "PROMOTED",
    "SRID",
    "Backend",
    "Collection",
]

#: The SQL of each backend.
DIALECTS: Final[dict[Backend, Dialect]] = {"sqlite": SQLiteDialect(), "postgis": PostGISDialect()}


@dataclass(frozen=True)
class Collection:
    """One stored collection.

    Attributes
    ----------
    name
        Table name and OGC API collection id.
    title
        Bilingual title (Chinese / English) shown in ``/collections`` and on the map page.
    geometry_type
        ``Point``, ``LineString``, ``Polygon``, ``MultiPolygon``, ``Geometry`` (mixed) or ``None`` (no geometry).
    ref_field
        The property promoted to the indexed ``ref`` column.
    public
        Served by OGC API – Features and tiles.
    queryables
        Properties a client may filter on (besides the promoted ones).
    served_as
        The one geometry type OGC API clients (QGIS, GDAL) are told and given where the store keeps mixed
        geometries (``Geometry``): divisions serve their areas as ``MultiPolygon``, place names their location
        as a ``Point`` (图上位置). ``None``: the stored ``geometry_type`` is already one type.
    """

    name: str
    title: str
    geometry_type: str | None
    description: str = ""
    ref_field: str | None = None
    public: bool = True
    queryables: tuple[str, ...] = field(default_factory=tuple)
    served_as: str | None = None

    @property
    def item_geometry_type(self) -> str | None:
        """The geometry type ``items`` serve (``served_as``, else ``geometry_type``)."""
        return self.served_as or self.geometry_type


COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in [
        Collection(
            "divisions",
            "行政区划 / Administrative divisions",
            "Geometry",
            "Divisions with codes (6/9/12 digits), level and parent; polygons where known.",
            ref_field="parent_code",
            queryables=("level", "parent_code", "urban_rural_class"),
            served_as="MultiPolygon",
        ),
        Collection(
            "place_names",
            "地名 / Place names",
            "Geometry",
            "Standard place names with 专名/通名, romanisation, lifecycle and history.",
            queryables=("category", "specific", "generic", "romanized"),
            served_as="Point",
        ),
        Collection(
            "name_alternates",
            "地名别称与曾用名 / Name alternates",
            None,
            "Historic, short, colloquial and traditional forms of a place name.",
            ref_field="name_id",
            public=False,
        ),
        Collection(
            "roads",
            "道路 / Roads",
            "LineString",
            "Road centre lines with their standard name (routable network).",
            ref_field="name_id",
            queryables=("road_class", "name_id"),
        ),
        Collection(
            "addresses",
            "门牌地址 / Door plates (addresses)",
            "Point",
            "Door plates at building entrances along a road; standard addresses.",
            ref_field="road_id",
            queryables=("road_id", "number", "side"),
        ),
        Collection(
            "boundary_lines",
            "行政区域界线 / Boundary lines",
            "Geometry",
            "Boundary lines between two divisions (left/right codes, level).",
            queryables=("left_code", "right_code", "level"),
            served_as="LineString",
        ),
        Collection(
            "boundary_markers",
            "界桩 / Boundary markers",
            "Point",
            "Boundary markers with number, kind, line, registered position and reference objects.",
            ref_field="line_id",
            queryables=("line_id", "marker_kind", "condition"),
        ),
        Collection(
            "inspection_rounds",
            "联检轮次 / Inspection rounds",
            None,
            "Joint inspection rounds (联检) of one line and their cycle.",
            ref_field="line_id",
            public=False,
        ),
        Collection(
            "marker_inspections",
            "界桩检查记录 / Marker inspections",
            "Point",
            "Inspections of markers: condition, measured position, displacement, flags, photos.",
            ref_field="marker_id",
            queryables=("marker_id", "round_id", "condition", "team"),
        ),
        Collection(
            "facilities",
            "民政设施 / Civil-affairs facilities",
            "Point",
            "Elderly-care centres, emergency shelters, public cemeteries and rescue stations with capacity.",
            queryables=("facility_type",),
        ),
        Collection(
            "analyses",
            "选址分析 / Siting analyses",
            None,
            "Coverage-gap and siting runs with their full parameters, inputs, progress and summary.",
            public=False,
        ),
        Collection(
            "analysis_results",
            "分析结果 / Analysis results",
            "Geometry",
            "Result layers of analyses: gap polygons, uncovered cells, proposed sites.",
            ref_field="analysis_id",
            public=False,
            queryables=("analysis_id", "layer"),
        ),
        Collection(
            "population_layers",
            "人口图层 / Population layers",
            None,
            "Registered population rasters (GeoTIFF) and polygon layers with counts.",
            public=False,
        ),
        Collection(
            "cleanup_campaigns",
            "不规范地名清理 / Name clean-up campaigns",
            None,
            "Clean-up runs over the existing names of a division (不规范地名清理): scope, date, counts.",
            public=False,
        ),
        Collection(
            "cleanup_items",
            "清理清单 / Clean-up worklist",
            "Geometry",
            "Existing names that break a rule: class (大/洋/怪/重, rare character, generic), rule, evidence, "
            "status (to review, keep, to rename, renamed), expert opinions.",
            ref_field="campaign_id",
            public=False,
            queryables=("campaign_id", "district_code", "category", "source"),
        ),
        Collection(
            "place_signs",
            "地名标志 / Place-name signs",
            "Point",
            "Road-name plates, street and village signs and door plates (GB 17733): text shown, material, "
            "installer, installation date, condition, text check.",
            ref_field="name_id",
            queryables=("name_id", "sign_kind", "condition", "material"),
        ),
        Collection(
            "sign_inspections",
            "地名标志巡检 / Sign inspections",
            "Point",
            "Inspections of place-name signs: condition, measured position, displacement, flags, photos.",
            ref_field="sign_id",
            queryables=("sign_id", "condition", "team"),
        ),
    ]
}


@dataclass(frozen=True)
class Migration:
    """One schema step; ``sql`` gives the statements per backend."""

    version: int
    description: str
    sql: dict[Backend, list[str]]


def collection_ddl(name: str, backend: Backend) -> list[str]:
    """CREATE statements for one collection table, its indexes and spatial index (a new collection's migration)."""
    return DIALECTS[backend].collection_ddl(name)


# Frozen: the collections created by migration 1. A collection added later gets its own migration
# (``collection_ddl(name, backend)``), so existing databases gain it too.
_V1_COLLECTIONS = (
    "divisions",
    "place_names",
    "name_alternates",
    "roads",
    "addresses",
    "boundary_lines",
    "boundary_markers",
    "inspection_rounds",
    "marker_inspections",
    "facilities",
    "analyses",
    "analysis_results",
    "population_layers",
)

_V2_COLLECTIONS = ("cleanup_campaigns", "cleanup_items", "place_signs", "sign_inspections")


#: Ordered migrations. Append, never edit a released step: an existing database upgrades in place.
MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "collections, audit and users",
        {backend: dialect.initial_ddl(_V1_COLLECTIONS) for backend, dialect in DIALECTS.items()},
    ),
    Migration(
        2,
        "name clean-up campaigns and worklist, place-name signs and their inspections",
        {
            backend: [stmt for name in _V2_COLLECTIONS for stmt in collection_ddl(name, backend)]
            for backend in ("sqlite", "postgis")
        },
    ),
    Migration(
        3,
        "schema_migrations.app_version: the geoservice release that applied each step",
        {
            "sqlite": ["ALTER TABLE schema_migrations ADD COLUMN app_version TEXT"],
            "postgis": ["ALTER TABLE schema_migrations ADD COLUMN app_version TEXT"],
        },
    ),
    Migration(
        4,
        "users.expires_at: a token may expire (users add --expires 90d)",
        {
            "sqlite": ["ALTER TABLE users ADD COLUMN expires_at TEXT"],
            "postgis": ["ALTER TABLE users ADD COLUMN expires_at TEXT"],
        },
    ),
    Migration(
        5,
        "persisted name indexes (name_keys, name_former, name_grams …): the check and search query them directly",
        {backend: name_tables.ddl(backend) for backend in ("sqlite", "postgis")},
    ),
    Migration(
        6,
        "place names without a location get their division's seat or centre, flagged approximate "
        "(data step: geoservice.store.locations.fill_name_locations)",
        {"sqlite": [], "postgis": []},
    ),
    Migration(
        7,
        "aggregated points for low-zoom tiles (point_cells, point_cell_layers): filled for a collection on request "
        "(geoservice.store.point_cells.build), then kept in step by every write; an index in the order of items "
        "pages ((geom IS NULL), fid), so a first page of 10,000,000 records reads 100 of them, not sorts them all",
        {
            backend: [
                *point_cells.ddl(),
                *(
                    f"CREATE INDEX {name}_geometry_first_idx ON {name} ((geom IS NULL), fid)"
                    for name in (*_V1_COLLECTIONS, *_V2_COLLECTIONS)  # frozen: the tables of this version
                    if COLLECTIONS[name].geometry_type is not None
                ),
            ]
            for backend in ("sqlite", "postgis")
        },
    ),
    Migration(
        8,
        "each aggregated cell's representative's box (point_cells.span_lon, span_lat), so that a line layer's tile "
        "reads only the neighbours' cells whose line can reach it (data step: "
        "geoservice.store.point_cells.fill_spans, set-wise per aggregated layer)",
        {backend: point_cells.spans_ddl() for backend in ("sqlite", "postgis")},
    ),
    Migration(
        9,
        "the name search's indexes of name_keys (comparison, pinyin, initials) cover the columns it reads, so a "
        "prefix range of 4,000 entries reads consecutive index pages, not 4,000 table rows",
        {backend: name_tables.covering_ddl(backend) for backend in ("sqlite", "postgis")},
    ),
]

#: From this version on, ``schema_migrations`` records the geoservice release (``app_version``) that applied
#: each step, so an older build started on a newer database can say which release to install.
APP_VERSION_SINCE = 3

LATEST_VERSION = MIGRATIONS[-1].version
