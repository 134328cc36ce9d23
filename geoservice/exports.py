"""Exports (数据导出): a collection, filtered, or an analysis result as a file officers exchange.

Formats (:data:`EXPORT_FORMATS`): GeoPackage, Shapefile (a ``.shp.zip`` with ``.shp/.shx/.dbf/.prj/.cpg`` and
``fields.csv``, the DBF in UTF-8 or GBK), GeoJSON, CSV (lon/lat or WKT), XLSX (the same columns, through
:mod:`geoservice.workbooks`) and KML. Coordinates (:func:`parse_crs_choice`): CGCS2000 lon/lat (EPSG:4490,
the default; EPSG:4326 / CRS84 give the same numbers labelled WGS84), a CGCS2000 Gauss-Krüger zone
EPSG:4491–4554 chosen by its code, or ``gk``: the 3° zone of the data's centre (:mod:`layers.crs`). A zone far
from the data (beyond half a zone past its edges) is refused: distances there are off by more than 0.5 %.

The records come from the same query as ``/collections/{id}/items`` (``ItemsQuery`` of
:mod:`geoservice.api.features`: bbox, property filters, ``datetime`` and whatever is added there), read
twice in chunks (:mod:`layers.export_files`): once for the fields and bounds, once to write. Columns are the
items' GeoJSON properties: ``id``, the record's properties, ``version`` and ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from shapely.geometry.base import BaseGeometry

from geoservice.errors import BadRequestError, InvalidInputError, PayloadTooLargeError, require_choice
from geoservice.store import Feature, Store
from geoservice.workbooks import MAX_ROWS as XLSX_MAX_ROWS
from geoservice.workbooks import write_workbook
from layers.crs import CGCS2000, GK_ZONE_EPSG, gauss_kruger_zone, metric_crs_for_bounds
from layers.errors import CRSError
from layers.export_files import ChunkTable, ChunkWriter, Encoding, FieldSchema

if TYPE_CHECKING:
    from geoservice.api.features import ItemsQuery

__all__ = [
    "EXPORT_FORMATS",
    "ExportFormat",
    "ExportOptions",
    "ExportResult",
    "export_analysis",
    "export_collection",
    "parse_crs_choice",
    "parse_encoding",
    "parse_format",
]

ExportFormat = Literal["gpkg", "shp", "geojson", "csv", "xlsx", "kml"]
#: Each format's file suffix and media type (Content-Type of a download).
EXPORT_FORMATS: Final[dict[ExportFormat, tuple[str, str]]] = {
    "gpkg": (".gpkg", "application/geopackage+sqlite3"),
    "shp": (".shp.zip", "application/zip"),
    "geojson": (".geojson", "application/geo+json"),
    "csv": (".csv", "text/csv"),
    "xlsx": (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "kml": (".kml", "application/vnd.google-earth.kml+xml"),
}
#: Analysis result layers (分析结果图层) that can be exported: the stored ones and the coverage per division.
ANALYSIS_LAYERS: Final = ("gaps", "cells", "sites", "divisions")
_LONLAT: Final[dict[str, str]] = {
    "EPSG:4490": CGCS2000,
    "4490": CGCS2000,
    "http://www.opengis.net/def/crs/EPSG/0/4490": CGCS2000,
    "EPSG:4326": "EPSG:4326",
    "4326": "EPSG:4326",
    "http://www.opengis.net/def/crs/EPSG/0/4326": "EPSG:4326",
    "CRS84": "EPSG:4326",
    "OGC:CRS84": "EPSG:4326",
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84": "EPSG:4326",
}
_AUTO_ZONE: Final = "gk"
_CHUNK_ROWS: Final = 5000


@dataclass(frozen=True)
class ExportOptions:
    """How to write an export (导出选项): format, CRS choice (``EPSG:…`` or ``gk``) and text encoding."""

    fmt: ExportFormat
    crs: str = CGCS2000
    encoding: Encoding = "UTF-8"


@dataclass(frozen=True)
class ExportResult:
    """A written export (导出结果): the file, rows, CRS, suggested file name and media type."""

    path: Path
    rows: int
    crs: str
    filename: str
    media_type: str
    field_names: dict[str, str] = field(default_factory=dict)


def parse_format(text: str | None, field_name: str = "f") -> ExportFormat:
    """An export format from ``gpkg``, ``shp``, ``geojson``, ``csv``, ``xlsx`` or ``kml`` (case-insensitive)."""
    value = (text or "").strip().lower()
    require_choice(
        value,
        EXPORT_FORMATS,
        field=field_name,
        rule="export_format",
        noun_zh="导出格式",
        noun_en="export format",
        error=BadRequestError,
        given=text,
        details_key="allowed",
    )
    return value  # type: ignore[return-value]


def parse_encoding(text: str | None, field_name: str = "encoding") -> Encoding:
    """``UTF-8`` (default) or ``GBK`` for a Shapefile's DBF and CSV (case-insensitive, ``utf8`` too)."""
    value = (text or "UTF-8").strip().upper().replace("UTF8", "UTF-8")
    if value not in get_args(Encoding):
        raise BadRequestError(
            f"不支持的编码 {text!r} / unsupported {field_name} {text!r}; use UTF-8 or GBK",
            field=field_name,
            value=text,
            rule="encoding_utf8_or_gbk",
        )
    return value  # type: ignore[return-value]


def parse_crs_choice(text: str | None, field_name: str = "crs") -> str:
    """The output CRS asked for: ``EPSG:4490`` (default), ``EPSG:4326``, ``EPSG:4491``–``4554`` or ``gk``.

    Accepts ``EPSG:n``, ``n`` and the OGC URI ``http://www.opengis.net/def/crs/EPSG/0/n``.
    """
    value = (text or "").strip().strip("<>")
    if value == "":
        return CGCS2000
    if value.lower() == _AUTO_ZONE:
        return _AUTO_ZONE
    if value in _LONLAT:
        return _LONLAT[value]
    code = value.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if code.isdigit() and int(code) in GK_ZONE_EPSG:
        return f"EPSG:{int(code)}"
    raise BadRequestError(
        f"不支持的导出坐标系 {text!r} / unsupported {field_name} {text!r}; use EPSG:4490 (CGCS2000 lon/lat), "
        f"EPSG:4326, a CGCS2000 Gauss-Krüger zone EPSG:{GK_ZONE_EPSG.start}–{GK_ZONE_EPSG.stop - 1}, or "
        "gk (the 3° zone of the data)",
        field=field_name,
        value=text,
        rule="export_crs",
    )


def _output_crs(choice: str, options: ExportOptions, schema: FieldSchema) -> str:
    """The CRS to write in: ``gk`` resolved from the data's bounds, a zone checked against them."""
    if options.fmt == "kml" and choice not in (CGCS2000, "EPSG:4326"):
        raise BadRequestError(
            f"KML 只能用经纬度 / KML is always WGS84 lon/lat, not {choice}; drop crs or export another format",
            field="crs",
            value=choice,
            rule="kml_lonlat_only",
        )
    if choice in (CGCS2000, "EPSG:4326"):
        return choice
    if schema.bounds is None:
        raise InvalidInputError(
            f"没有几何,无法选投影带 / no geometry to place in a Gauss-Krüger zone ({choice}); export in EPSG:4490",
            field="crs",
            value=choice,
            rule="gk_zone_needs_geometry",
        )
    min_lon, _, max_lon, _ = schema.bounds
    if choice == _AUTO_ZONE:
        try:
            return f"EPSG:{metric_crs_for_bounds(schema.bounds).to_epsg()}"
        except CRSError as exc:
            raise InvalidInputError(exc.message, field="crs", value=choice, rule="gk_zone_in_china") from exc
    zone = gauss_kruger_zone(int(choice.removeprefix("EPSG:")))
    if not zone.covers(min_lon, max_lon):
        west, east = zone.reach_deg
        best = metric_crs_for_bounds(schema.bounds).to_epsg()
        raise InvalidInputError(
            f"投影带 {choice}(中央子午线 {zone.central_meridian_deg:g}°E)离数据太远:数据经度 {min_lon:.3f}–"
            f"{max_lon:.3f}°,该带可用 {west:g}–{east:g}° / Gauss-Krüger zone {choice} (central meridian "
            f"{zone.central_meridian_deg:g}°E) is far from the data at longitudes {min_lon:.3f}–{max_lon:.3f}°; "
            f"it serves {west:g}–{east:g}°. Use crs=EPSG:{best} or crs=gk",
            field="crs",
            value=choice,
            rule="gk_zone_near_data",
            details={"data_lon": [min_lon, max_lon], "zone_lon": [west, east], "suggested": f"EPSG:{best}"},
        )
    return choice


Rows = tuple[list[dict[str, Any]], list[BaseGeometry | None]]
ChunkSource = Callable[[], Iterator[Rows]]


def record_rows(features: Iterable[Feature]) -> Rows:
    """Property rows as the items endpoint gives them (``id``, properties, ``version``, ``updated_at``)."""
    rows, geometries = [], []
    for feature in features:
        row = {"id": feature.id, **feature.properties}
        row.setdefault("version", feature.version)
        row.setdefault("updated_at", feature.updated_at)
        rows.append(row)
        geometries.append(feature.geometry)
    return rows, geometries


def write_export(
    chunks: ChunkSource, path: Path, options: ExportOptions, *, layer: str, max_rows: int | None = None
) -> tuple[int, str, dict[str, str]]:
    """Two passes over ``chunks``: the schema (refusing more than ``max_rows``), then the file.

    Returns the rows written, the CRS written in and the Shapefile field-name mapping.
    """
    schema = FieldSchema()
    limit = min(max_rows or XLSX_MAX_ROWS, XLSX_MAX_ROWS) if options.fmt == "xlsx" else max_rows
    for rows, geometries in chunks():
        schema.observe(rows, geometries)
        if limit is not None and schema.rows > limit:
            raise too_many_rows(limit, "export_max_rows" if limit == max_rows else "xlsx_max_rows")
    crs = _output_crs(options.crs, options, schema)
    if options.fmt == "xlsx":
        _write_xlsx(chunks, path, schema, crs, layer)
        return schema.rows, crs, {}
    with ChunkWriter(path, options.fmt, schema, crs=crs, layer=layer, encoding=options.encoding) as writer:
        for rows, geometries in chunks():
            writer.write(rows, geometries)
    return schema.rows, writer.crs, writer.field_names


def too_many_rows(limit: int, rule: str) -> PayloadTooLargeError:
    """413 naming the row limit of an export."""
    setting = "GEOSERVICE_EXPORT_MAX_ROWS" if rule == "export_max_rows" else "Excel"
    return PayloadTooLargeError(
        f"导出超过 {limit} 行上限({rule});请用 bbox 或筛选条件缩小范围 / the export has more than {limit} rows "
        f"({rule}, {setting}); narrow it with bbox, datetime or property filters",
        field="limit",
        value=limit,
        rule=rule,
        details={"limit": limit},
    )


def _write_xlsx(chunks: ChunkSource, path: Path, schema: FieldSchema, crs: str, title: str) -> None:
    convert = ChunkTable(schema, crs)  # the same columns as CSV

    def rows() -> Iterator[tuple[Any, ...]]:
        for chunk_rows, geometries in chunks():
            table = convert.table(chunk_rows, geometries)
            yield from table.astype(object).where(table.notna(), None).itertuples(index=False, name=None)

    write_workbook(path, title, list(convert.table([], []).columns), rows())


def _file_name(title: str, fmt: ExportFormat) -> str:
    return f"{title}{EXPORT_FORMATS[fmt][0]}"


def _result(
    path: Path, options: ExportOptions, written: tuple[int, str, dict[str, str]], title: str
) -> ExportResult:
    rows, crs, names = written
    media = EXPORT_FORMATS[options.fmt][1]
    if options.fmt == "csv":
        media += f"; charset={'utf-8' if options.encoding == 'UTF-8' else 'gbk'}"
    return ExportResult(path, rows, crs, _file_name(title, options.fmt), media, names)


def export_collection(
    store: Store, query: ItemsQuery, path: Path, options: ExportOptions, *, max_rows: int | None = None
) -> ExportResult:
    """Write the records ``query`` selects (as ``items`` would) to ``path``.

    Raises
    ------
    PayloadTooLargeError
        More than ``max_rows`` records match (413, rule ``export_max_rows``), or more than Excel holds.
    BadRequestError, InvalidInputError
        A CRS that does not fit the format or the data (KML in a zone, a zone far from the data).
    """
    name = query.collection.name
    title = query.collection.title.split(" / ")[0]
    with store.transaction(readonly=True) as tx:
        if max_rows is not None:
            counted = query.page(
                tx, limit=1
            )  # an estimated count is left to the first pass, which stops exactly
            if not counted.estimated and int(counted.number_matched or 0) > max_rows:
                raise too_many_rows(max_rows, "export_max_rows")
        written = write_export(
            lambda: (record_rows(chunk) for chunk in query.chunks(tx, _CHUNK_ROWS)),
            path,
            options,
            layer=name,
            max_rows=max_rows,
        )
    return _result(path, options, written, f"{title}_{name}")


def export_analysis(
    store: Store,
    analysis_id: str,
    layer: str,
    path: Path,
    options: ExportOptions,
    *,
    max_rows: int | None = None,
) -> ExportResult:
    """Write one result layer of a finished run: ``gaps``, ``cells``, ``sites`` or ``divisions`` (覆盖率按区划).

    Raises
    ------
    BadRequestError
        An unknown layer (400 naming ``layer``).
    NotFoundError, ConflictError
        No such run (404), or not done yet (409).
    """
    from geoservice.analyses import runs

    require_choice(
        layer,
        ANALYSIS_LAYERS,
        field="layer",
        rule="analysis_layer",
        noun_zh="结果图层",
        noun_en="result layer",
        error=BadRequestError,
    )
    run = runs.get_run(store, analysis_id)
    if layer == "divisions":
        rows, geometries = runs.division_coverage(store, analysis_id)
    else:
        features = runs.result_features(store, analysis_id, layer)
        rows = [runs.result_properties(f) for f in features]
        geometries = [f.geometry for f in features]
    written = write_export(
        lambda: _in_chunks(rows, geometries), path, options, layer=f"{layer}", max_rows=max_rows
    )
    name = str(run.properties.get("name") or analysis_id)
    return _result(path, options, written, f"{name}_{layer}".replace("/", "_").replace(" ", "_"))


def _in_chunks(rows: list[dict[str, Any]], geometries: list[BaseGeometry | None]) -> Iterator[Rows]:
    for start in range(0, len(rows), _CHUNK_ROWS):
        yield rows[start : start + _CHUNK_ROWS], geometries[start : start + _CHUNK_ROWS]


def options_from(params: Mapping[str, str | None], fmt: ExportFormat) -> ExportOptions:
    """:class:`ExportOptions` from request or command-line values ``crs`` and ``encoding``, checked."""
    return ExportOptions(fmt, parse_crs_choice(params.get("crs")), parse_encoding(params.get("encoding")))
