"""Export files written in chunks (分块写出导出文件): GeoPackage, Shapefile (zip), GeoJSON, CSV and KML.

A download of 100,000 records must not become one 100,000-row GeoDataFrame, and records are JSON: their
properties differ from one to the next. So an export is two passes over the records, each in chunks:

1. :class:`FieldSchema` sees every chunk once and settles each property's type (布尔 bool, 整数 int,
   小数 float, 文本 str — mixed or nested values become text, nested ones as JSON) and the geometry types
   and bounds;
2. :class:`ChunkWriter` appends each chunk to the file (GDAL append through pyogrio; CSV by pandas),
   reprojected from CGCS2000 lon/lat (EPSG:4490) to the output CRS.

GeoPackage (地理包): a GDAL append reopens the file, runs one transaction with an fsync, and updates the
spatial index (R-tree) row by row through its triggers — 21 times slower than one ``to_file`` at 100,000 rows.
So the chunks go to a scratch GeoPackage without a spatial index, written without fsync (a scratch file a
crash throws away), and :func:`_stream_copy` streams it into the export in one GDAL write (Arrow batches, one
open dataset, one transaction), which builds the R-tree once at the end. Memory stays one chunk, then one
Arrow batch (GDAL's 65,536 rows).

Shapefile (Shapefile 压缩包): a zip of ``.shp/.shx/.dbf/.prj/.cpg`` in UTF-8 (default) or GBK; a DBF field
name holds at most 10 *bytes* in that encoding, so longer names are shortened by
:func:`shapefile_field_names` (cut on a character boundary, ``_1``, ``_2`` … on a collision) and the zip
carries ``fields.csv`` (``field,original``) mapping each DBF field back to its name. A layer of more than one
geometry family (points and polygons) becomes one Shapefile per family: ``NAME_point``, ``NAME_line``,
``NAME_polygon``. CSV: ``lon``/``lat`` columns when every geometry is a point (``x``/``y`` in a projected
CRS), otherwise ``wkt``; UTF-8 with a byte-order mark (so Excel reads Chinese) or GBK. KML is always WGS84
lon/lat (the KML standard); GDAL's KML writer re-reads the file on every append, so KML chunks are spooled to a
GeoPackage and converted in one write at the end (its memory grows with the layer).
"""

from __future__ import annotations

import json
import math
import shutil
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from layers.crs import CGCS2000, transformer
from layers.errors import LayerError

__all__ = ["ChunkTable", "ChunkWriter", "FieldSchema", "FieldType", "FileFormat", "shapefile_field_names"]

FileFormat = Literal["gpkg", "shp", "geojson", "csv", "kml"]
FieldType = Literal["bool", "int", "float", "str"]
Encoding = Literal["UTF-8", "GBK"]

_DRIVERS: Final[dict[str, str]] = {
    "gpkg": "GPKG",
    "geojson": "GeoJSON",
    "kml": "LIBKML",
    "shp": "ESRI Shapefile",
}
_DBF_NAME_BYTES: Final = 10
#: Shapefile geometry family (几何类别) of each geometry type; a Shapefile holds one.
_SHAPE_FAMILY: Final[dict[str, str]] = {
    "Point": "point",
    "MultiPoint": "multipoint",
    "LineString": "line",
    "MultiLineString": "line",
    "LinearRing": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}
_SHAPE_TYPE: Final = {
    "point": "Point",
    "multipoint": "MultiPoint",
    "line": "MultiLineString",
    "polygon": "MultiPolygon",
}
_PANDAS_DTYPE: Final[dict[FieldType, str]] = {
    "bool": "boolean",
    "int": "Int64",
    "float": "float64",
    "str": "object",
}


def _kind(value: Any) -> FieldType | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, float | np.floating):
        return "float"
    return "str"


def _merge(a: FieldType | None, b: FieldType | None) -> FieldType | None:
    if a is None or a == b:
        return b if a is None else a
    if b is None:
        return a
    return "float" if {a, b} == {"int", "float"} else "str"


class FieldSchema:
    """The fields, geometry types, bounds and row count of a layer, from its chunks (first pass, 第一遍)."""

    def __init__(self) -> None:
        self.types: dict[str, FieldType | None] = {}
        self.geometry_types: set[str] = set()
        self.rows = 0
        self.bounds: tuple[float, float, float, float] | None = None

    def observe(self, rows: Sequence[Mapping[str, Any]], geometries: Sequence[BaseGeometry | None]) -> None:
        """Take one chunk: its property rows and CGCS2000 lon/lat geometries."""
        for row in rows:
            for name, value in row.items():
                self.types[name] = _merge(self.types.get(name), _kind(value))
        self.rows += len(rows)
        array = np.asarray(geometries, dtype=object)
        present = array[~shapely.is_missing(array) & ~shapely.is_empty(array)] if len(array) else array
        if len(present):
            ids = shapely.get_type_id(present)
            self.geometry_types.update(present[np.argmax(ids == t)].geom_type for t in np.unique(ids))
            b = shapely.total_bounds(present)
            if self.bounds is not None:
                b = np.array([*np.minimum(b[:2], self.bounds[:2]), *np.maximum(b[2:], self.bounds[2:])])
            self.bounds = (float(b[0]), float(b[1]), float(b[2]), float(b[3]))

    @property
    def fields(self) -> dict[str, FieldType]:
        """Each field's type (a field never set is text)."""
        return {name: kind or "str" for name, kind in self.types.items()}

    @property
    def points_only(self) -> bool:
        """Every geometry is a point (CSV and XLSX then get coordinate columns instead of WKT)."""
        return self.geometry_types <= {"Point"}


def shapefile_field_names(names: Sequence[str], encoding: str = "UTF-8") -> dict[str, str]:
    """DBF field names of at most 10 bytes in ``encoding`` (字段名映射), unique, for ``names`` in order.

    A name that fits is kept; a longer one is cut on a character boundary, and a collision gets ``_1``,
    ``_2`` … (compared case-insensitively, as DBF readers do).

    Examples
    --------
    >>> shapefile_field_names(["name", "coverage_rate_before", "coverage_rate_after", "行政区划代码"])
    {'name': 'name', 'coverage_rate_before': 'coverage_r', 'coverage_rate_after': 'coverage_1', '行政区划代码': '行政区'}
    >>> shapefile_field_names(["行政区划代码"], "GBK")
    {'行政区划代码': '行政区划代'}
    """
    taken: set[str] = set()
    mapping: dict[str, str] = {}
    for name in names:
        short = _cut(name, encoding, _DBF_NAME_BYTES)
        n = 0
        while short.lower() in taken:
            n += 1
            suffix = f"_{n}"
            short = _cut(name, encoding, _DBF_NAME_BYTES - len(suffix)) + suffix
        taken.add(short.lower())
        mapping[name] = short
    return mapping


def _cut(text: str, encoding: str, max_bytes: int) -> str:
    out = ""
    for ch in text:
        if len((out + ch).encode(encoding, errors="replace")) > max_bytes:
            break
        out += ch
    return out


class ChunkTable:
    """Turns chunks of records into typed tables in the output CRS (分块转换).

    Parameters
    ----------
    schema
        The first pass over the records: fields, geometry types.
    crs
        Output CRS (``EPSG:4490`` or a projected CRS); geometries come in CGCS2000 lon/lat.
    """

    def __init__(self, schema: FieldSchema, crs: str = CGCS2000) -> None:
        self.schema, self.crs, self.fields = schema, crs, schema.fields
        same = pyproj.CRS(crs).equals(pyproj.CRS(CGCS2000), ignore_axis_order=True) or crs == "EPSG:4326"
        self._project = None if same else transformer(CGCS2000, crs)

    def frame(
        self, rows: Sequence[Mapping[str, Any]], geometries: Sequence[BaseGeometry | None]
    ) -> gpd.GeoDataFrame:
        """One chunk as a typed GeoDataFrame in the output CRS."""
        columns = {name: _column([row.get(name) for row in rows], kind) for name, kind in self.fields.items()}
        geoms = np.asarray(geometries, dtype=object)
        if self._project is not None and len(geoms):
            project = self._project
            geoms = shapely.transform(geoms, lambda c: np.column_stack(project.transform(c[:, 0], c[:, 1])))
        return gpd.GeoDataFrame(
            pd.DataFrame(columns, index=range(len(rows))), geometry=list(geoms), crs=self.crs
        )

    def table(
        self, rows: Sequence[Mapping[str, Any]], geometries: Sequence[BaseGeometry | None]
    ) -> pd.DataFrame:
        """One chunk as a plain table (CSV, XLSX): the fields, then ``lon``/``lat`` (``x``/``y``) or ``wkt``."""
        gdf = self.frame(rows, geometries)
        data = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        geoms = gdf.geometry.to_numpy()
        if self.schema.points_only:
            x, y = ("lon", "lat") if pyproj.CRS(self.crs).is_geographic else ("x", "y")
            data[x] = shapely.get_x(geoms)
            data[y] = shapely.get_y(geoms)
        else:
            data["wkt"] = shapely.to_wkt(geoms, rounding_precision=-1)
        return data


class ChunkWriter:
    """Appends chunks of records to one export file (second pass, 第二遍); a context manager.

    Parameters
    ----------
    path
        The file to write (``.gpkg``, ``.shp.zip``, ``.geojson``, ``.csv``, ``.kml``); replaced if it exists.
    fmt
        The format.
    schema
        The first pass over the same records: fields, geometry types.
    crs
        Output CRS (``EPSG:4490`` or a projected CRS; KML is always EPSG:4326).
    layer
        Layer name (GeoPackage layer, Shapefile name inside the zip, KML folder).
    encoding
        Text encoding of a Shapefile's DBF and of CSV.
    """

    def __init__(
        self,
        path: Path,
        fmt: FileFormat,
        schema: FieldSchema,
        *,
        crs: str = CGCS2000,
        layer: str = "layer",
        encoding: Encoding = "UTF-8",
    ) -> None:
        self.path, self.fmt, self.schema, self.layer, self.encoding = path, fmt, schema, layer, encoding
        self.convert = ChunkTable(schema, "EPSG:4326" if fmt == "kml" else crs)
        self.crs = self.convert.crs
        self.field_names = shapefile_field_names(list(schema.fields), encoding) if fmt == "shp" else {}
        self._parts = path.with_name(path.name + ".parts")
        self._spool = self._parts / "spool.gpkg"
        self._started: set[str] = set()
        self._geometry_type = (
            next(iter(schema.geometry_types)) if len(schema.geometry_types) == 1 else "Unknown"
        )

    def __enter__(self) -> ChunkWriter:
        self.path.unlink(missing_ok=True)
        if self.fmt in ("shp", "kml", "gpkg"):
            shutil.rmtree(self._parts, ignore_errors=True)
            self._parts.mkdir(parents=True)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if kind is None:
                self.close()
        finally:
            shutil.rmtree(self._parts, ignore_errors=True)

    def write(self, rows: Sequence[Mapping[str, Any]], geometries: Sequence[BaseGeometry | None]) -> None:
        """Append one chunk (property rows and CGCS2000 lon/lat geometries, same length)."""
        if not rows:
            return
        if self.fmt == "csv":
            self._write_csv(self.convert.table(rows, geometries))
        elif self.fmt == "geojson":
            self._write_geojson(self.convert.frame(rows, geometries))
        elif self.fmt in ("kml", "gpkg"):  # spooled, written on close (LIBKML re-reads the file on append)
            with _unsynced_sqlite():
                self._append(
                    self.convert.frame(rows, geometries),
                    self._spool,
                    self._geometry_type,
                    driver="GPKG",
                    layer=self.layer,
                    layer_options={"SPATIAL_INDEX": "NO"},
                )
        else:
            self._write_shapefiles(self.convert.frame(rows, geometries))

    def _append(self, gdf: gpd.GeoDataFrame, path: Path, geometry_type: str, **options: Any) -> None:
        key = str(path)
        options.setdefault("driver", _DRIVERS[self.fmt])
        if key in self._started:  # creation options apply to the first write only
            options.pop("layer_options", None)
        pyogrio.write_dataframe(
            gdf,
            path,
            append=key in self._started,
            geometry_type=geometry_type,
            promote_to_multi=False,
            **options,
        )
        self._started.add(key)

    def _write_shapefiles(self, gdf: gpd.GeoDataFrame) -> None:
        gdf = gdf.rename(columns=self.field_names)
        types = gdf.geometry.geom_type
        if (types == "GeometryCollection").any():
            raise LayerError(
                "Shapefile 不能保存几何集合 / a Shapefile cannot hold a GeometryCollection; export a GeoPackage "
                "(gpkg) or GeoJSON instead"
            )
        known = sorted({_SHAPE_FAMILY[t] for t in self.schema.geometry_types if t in _SHAPE_FAMILY})
        # a record without geometry goes with the first family
        families = types.map(_SHAPE_FAMILY).fillna(known[0] if known else "point")
        for family, part in gdf.groupby(families, sort=True):
            name = self.layer if len(known) <= 1 else f"{self.layer}_{family}"
            self._append(part, self._parts / f"{name}.shp", _SHAPE_TYPE[str(family)], encoding=self.encoding)

    def _write_geojson(self, gdf: gpd.GeoDataFrame) -> None:
        """Features appended as text (GDAL's GeoJSON append re-reads the whole file on every chunk)."""
        first = str(self.path) not in self._started
        epsg = pyproj.CRS(self.crs).to_epsg()
        table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object)
        rows = table.where(table.notna(), None).to_dict("records")
        shapes = shapely.to_geojson(gdf.geometry.to_numpy())
        with self.path.open("w" if first else "a", encoding="utf-8") as out:
            if first:
                crs = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}}
                out.write(
                    f'{{"type": "FeatureCollection", "name": {json.dumps(self.layer)}, "crs": {json.dumps(crs)}'
                )
                out.write(',\n"features": [\n')
            for i, (row, shape) in enumerate(zip(rows, shapes, strict=True)):
                props = json.dumps(row, ensure_ascii=False, default=str)
                comma = "" if first and i == 0 else ",\n"
                out.write(
                    f'{comma}{{"type": "Feature", "properties": {props}, "geometry": {shape or "null"}}}'
                )
        self._started.add(str(self.path))

    def _write_csv(self, data: pd.DataFrame) -> None:
        first = str(self.path) not in self._started
        data.to_csv(
            self.path,
            mode="w" if first else "a",
            header=first,
            index=False,
            encoding=("utf-8-sig" if first else "utf-8") if self.encoding == "UTF-8" else "gbk",
            float_format="%.10g",
        )
        self._started.add(str(self.path))

    def close(self) -> None:
        """Finish the file (an empty layer is still written); a Shapefile's parts go into the zip with ``fields.csv``."""
        if self.fmt == "csv" and not self._started:
            self._write_csv(self.convert.table([], []))
        elif self.fmt == "shp" and not self._started:
            empty = self.convert.frame([], []).rename(columns=self.field_names)
            self._append(empty, self._parts / f"{self.layer}.shp", "Point", encoding=self.encoding)
        elif self.fmt == "kml":
            spooled = pyogrio.read_dataframe(self._spool) if self._started else self.convert.frame([], [])
            pyogrio.write_dataframe(spooled, self.path, driver="LIBKML", layer=self.layer)
        elif self.fmt == "geojson" and not self._started:
            self._write_geojson(self.convert.frame([], []))
        elif self.fmt == "gpkg" and self._started:
            _stream_copy(self._spool, self.path, self.layer, self._geometry_type)
        elif not self._started:
            self._append(self.convert.frame([], []), self.path, self._geometry_type, layer=self.layer)
        if self.fmt == "geojson":
            with self.path.open("a", encoding="utf-8") as out:
                out.write("\n]}\n")
        if self.fmt != "shp":
            return
        mapping = "field,original\n" + "".join(
            f"{short},{json.dumps(name, ensure_ascii=False) if ',' in name else name}\n"
            for name, short in self.field_names.items()
        )
        with zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(self._parts.iterdir()):
                archive.write(part, part.name)
            archive.writestr("fields.csv", "\ufeff" + mapping)


@contextmanager
def _unsynced_sqlite() -> Iterator[None]:
    """GDAL's SQLite writes without fsync (``OGR_SQLITE_SYNCHRONOUS=OFF``) while the block runs.

    GDAL's configuration is the process's: a GeoPackage another thread writes meanwhile is unsynced too. Every
    GeoPackage GDAL writes here is a generated file (exports, field packages) that a crash leaves unfinished
    anyway; the service's own database is not written through GDAL.
    """
    before = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": before})


def _stream_copy(source: Path, target: Path, layer: str, geometry_type: str) -> None:
    """``layer`` of GeoPackage ``source`` written to GeoPackage ``target`` in one GDAL write, batch by batch.

    One open dataset and one transaction: the spatial index (R-tree) is built once when the file closes.
    """
    with pyogrio.raw.open_arrow(source, layer=layer) as (meta, stream):
        pyogrio.raw.write_arrow(
            stream, target, layer=layer, driver="GPKG", geometry_type=geometry_type, crs=meta["crs"]
        )


def _column(values: list[Any], kind: FieldType) -> Any:
    if kind == "str":
        return np.array(
            [
                None
                if v is None
                else v
                if isinstance(v, str)
                else json.dumps(v, ensure_ascii=False, default=str)
                if isinstance(v, dict | list | tuple)
                else str(v)
                for v in values
            ],
            dtype=object,
        )
    if kind == "float":
        return np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
    return pd.array(values, dtype=_PANDAS_DTYPE[kind])  # type: ignore[call-overload]
