"""The files officers are handed (输入文件格式): what :func:`layers.io.read_layer` opens, and how.

- GeoJSON, GeoPackage, Shapefile (``.shp`` with ``.dbf``; a GBK ``.dbf`` without ``.cpg`` is detected), KML;
- a zipped Shapefile (``.zip``; with several layers, ``layer=`` picks one and the error names them);
- tables with coordinates: ``.csv`` (UTF-8 or GBK/GB18030) and ``.xlsx`` (first sheet, or ``layer=`` the
  sheet name), with lon/lat columns (``lon``, ``lng``, ``longitude``, ``x``, ``经度`` / ``lat``, ``latitude``,
  ``y``, ``纬度``) or a WKT column (``wkt``, ``geometry``, ``geom``, ``the_geom``).

Every function here returns the raw layer in the file's own coordinates; validation, repair and conversion to
CGCS2000 happen in :func:`layers.io.read_layer`.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import pyproj
import shapely
import shapely.errors
from shapely.geometry.base import BaseGeometry

from layers.crs import CGCS2000
from layers.errors import CRSError, LayerReadError
from layers.problems import Problem

__all__ = ["READ_FORMATS", "ReadFormat", "open_source", "read_table_layer"]

ReadFormat = Literal["geojson", "gpkg", "shp", "csv", "xlsx", "zip", "kml"]

READ_FORMATS: Final[dict[str, ReadFormat]] = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".shp": "shp",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".zip": "zip",
    ".kml": "kml",
}
FormatT = TypeVar("FormatT", bound=str)
_LON_NAMES: Final = ("lon", "lng", "long", "longitude", "x", "经度")
_LAT_NAMES: Final = ("lat", "latitude", "y", "纬度")
_WKT_NAMES: Final = ("wkt", "geometry", "geom", "the_geom")
_TABLE_ENCODINGS: Final = ("utf-8-sig", "gb18030")  # Excel in China saves CSV as GBK/GB18030


def format_of(path: Path, formats: Mapping[str, FormatT]) -> FormatT:
    """The format of a file by its extension among ``formats``; :class:`LayerReadError` for another one."""
    fmt = formats.get(path.suffix.lower())
    if fmt is None:
        raise LayerReadError(
            f"不支持的文件格式 / unsupported file format: {path} ({path.suffix or 'no extension'}); expected "
            f"one of {', '.join(sorted(formats))}. Convert it (ogr2ogr) or rename it if the extension is wrong"
        )
    return fmt


def read_format(path: Path) -> ReadFormat:
    """The format of an input file by its extension; :class:`LayerReadError` for one we cannot read."""
    return format_of(path, READ_FORMATS)


# --------------------------------------------------------------------------------------------------------------
# Vector sources: Shapefile encodings, zips, KML (矢量文件)
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """What GDAL opens for a file: its path (``/vsizip/…`` inside a zip), layer and text encoding."""

    gdal_path: str
    layer: str | None
    encoding: str | None
    is_shapefile: bool


def _dbf_encoding(dbf: bytes | None, has_cpg: bool, encoding: str | None) -> str | None:
    """The encoding to read a ``.dbf`` with: the caller's, else GDAL's own (a ``.cpg``), else UTF-8 or GB18030.

    Without a ``.cpg`` GDAL assumes ISO-8859-1 and Chinese names come out garbled; a ``.dbf`` that is not valid
    UTF-8 is taken as GBK/GB18030 (the encoding of Chinese desktop GIS).
    """
    if encoding or has_cpg or dbf is None:
        return encoding
    try:
        dbf.decode("utf-8")
    except UnicodeDecodeError:
        return "GB18030"
    return "UTF-8"


def _zip_source(path: Path, layer: str | None, encoding: str | None) -> Source:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            shapes = sorted(n for n in names if n.lower().endswith(".shp") and not n.startswith("__MACOSX"))
            if not shapes:
                raise LayerReadError(
                    f"压缩包中没有 .shp / no .shp in the zip {path.name}: it holds {names[:10]}; expected a zipped "
                    "Shapefile (.shp with its .shx, .dbf, .prj, .cpg). Zip the whole Shapefile, or unzip and "
                    "import the file itself"
                )
            stems = {Path(n).stem: n for n in shapes}
            if layer is None and len(shapes) > 1:
                raise LayerReadError(
                    f"压缩包中有多个图层 / the zip {path.name} holds {len(shapes)} layers: "
                    f"{', '.join(stems)}; choose one with --layer NAME (Python: layer='NAME')"
                )
            if layer is not None and layer not in stems:
                raise LayerReadError(
                    f"压缩包中没有图层 {layer!r} / no layer {layer!r} in the zip {path.name}; available: "
                    f"{', '.join(stems)}"
                )
            member = stems[layer] if layer is not None else shapes[0]
            base = member[: -len(".shp")]
            lower = {n.lower(): n for n in names}
            dbf_name = lower.get(base.lower() + ".dbf")
            dbf = archive.read(dbf_name) if dbf_name else None
            has_cpg = base.lower() + ".cpg" in lower
    except zipfile.BadZipFile as exc:
        raise LayerReadError(
            f"无法读取压缩包 / cannot read the zip {path.name}: {exc}; check the file is complete"
        ) from exc
    return Source(f"/vsizip/{path.resolve()}/{member}", None, _dbf_encoding(dbf, has_cpg, encoding), True)


def open_source(path: Path, fmt: ReadFormat, layer: str | None, encoding: str | None) -> Source:
    """Where GDAL reads a vector file from, with which encoding (see :func:`_dbf_encoding`)."""
    if fmt == "zip":
        return _zip_source(path, layer, encoding)
    if fmt == "shp":
        dbf = path.with_suffix(".dbf")
        data = dbf.read_bytes() if dbf.exists() else None
        return Source(
            str(path), layer, _dbf_encoding(data, path.with_suffix(".cpg").exists(), encoding), True
        )
    return Source(str(path), layer, encoding, False)


def read_vector(path: Path, source: Source, *, all_layers: bool = False) -> gpd.GeoDataFrame:
    """Read a vector source with GDAL; ``all_layers`` joins every layer (KML folders are groupings)."""
    layers = [source.layer]
    if all_layers and source.layer is None:
        layers = [str(name) for name, _ in pyogrio.list_layers(source.gdal_path)] or [None]
    try:
        with warnings.catch_warnings():
            # GDAL notes about e.g. a missing .prj are reported through our own CRS problems instead.
            warnings.simplefilter("ignore", RuntimeWarning)
            frames = [
                pyogrio.read_dataframe(source.gdal_path, layer=name, encoding=source.encoding)
                for name in layers
            ]
    except pyogrio.errors.DataLayerError as exc:
        available = [str(name) for name, _ in pyogrio.list_layers(source.gdal_path)] if path.exists() else []
        raise LayerReadError(
            f"找不到图层 / no layer {source.layer!r} in {path}: {exc}; available: {', '.join(available) or 'none'}"
        ) from exc
    except pyogrio.errors.DataSourceError as exc:
        cause = "file not found" if not path.exists() else str(exc).split(";")[0]
        raise LayerReadError(
            f"无法读取图层文件 / cannot read layer file {path}: {cause}. "
            "Check the file is complete (not truncated) and in the format its extension says"
        ) from exc
    if any(not isinstance(f, gpd.GeoDataFrame) for f in frames):
        raise LayerReadError(
            f"图层没有几何列 / layer {source.layer or path.name!r} of {path} has no geometry column; expected a "
            "spatial layer. Read an attribute table with layers.io.read_table"
        )
    if len(frames) == 1:
        return frames[0]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


# --------------------------------------------------------------------------------------------------------------
# Tables with coordinates: CSV, XLSX (带坐标的表格)
# --------------------------------------------------------------------------------------------------------------


def read_text_table(path: Path, fmt: ReadFormat, sheet: str | None, encoding: str | None) -> pd.DataFrame:
    """A CSV (UTF-8 or GB18030, or ``encoding``) or an XLSX sheet as text columns."""
    if fmt == "xlsx":
        try:
            frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, keep_default_na=False)
        except ValueError as exc:  # a missing sheet, or not an xlsx at all
            raise LayerReadError(f"无法读取 Excel / cannot read the workbook {path}: {exc}") from exc
        except (OSError, zipfile.BadZipFile) as exc:
            raise LayerReadError(f"无法读取 Excel / cannot read the workbook {path}: {exc}") from exc
        return pd.DataFrame(frame)
    for candidate in (encoding,) if encoding else _TABLE_ENCODINGS:
        try:
            return pd.read_csv(path, encoding=candidate, dtype=str, keep_default_na=False)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise LayerReadError(f"无法读取 CSV / cannot read CSV {path}: {exc}") from exc
        except LookupError as exc:
            raise LayerReadError(f"未知编码 / unknown encoding --encoding {encoding!r}: {exc}") from exc
    raise LayerReadError(
        f"CSV 编码无法识别 / cannot decode CSV {path}; expected UTF-8 or GB18030 text, or give --encoding"
    )


def read_table_layer(
    frame: pd.DataFrame, path: Path, crs: str | pyproj.CRS | None
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """A layer from a table of coordinate columns or WKT (坐标列 / WKT 列), and the cells that are unreadable."""
    lowered = {str(c).strip().lower(): c for c in frame.columns}
    lon_col = next((lowered[n] for n in _LON_NAMES if n in lowered), None)
    lat_col = next((lowered[n] for n in _LAT_NAMES if n in lowered), None)
    wkt_col = next((lowered[n] for n in _WKT_NAMES if n in lowered), None)
    problems: list[Problem] = []
    if lon_col is not None and lat_col is not None:
        lon = pd.to_numeric(frame[lon_col].str.strip(), errors="coerce")
        lat = pd.to_numeric(frame[lat_col].str.strip(), errors="coerce")
        bad = np.flatnonzero((lon.isna() | lat.isna()).to_numpy())
        for i in map(int, bad):
            problems.append(
                Problem(
                    int(i),
                    frame.index[i],
                    f"{lon_col},{lat_col}",
                    f"{frame.at[frame.index[i], lon_col]!r}, {frame.at[frame.index[i], lat_col]!r}",
                    "coordinate_number",
                    "坐标不是数字 / coordinates are not numbers; expected decimal degrees or metres, e.g. 114.305",
                )
            )
        geometry = gpd.points_from_xy(lon, lat)
        geometry[bad] = None
        data = frame.drop(columns=[lon_col, lat_col])
        known = lon.notna() & lat.notna()
        # ≤ 180 on both axes, so a file with latitude and longitude swapped is still read and then reported.
        looks_like_degrees = bool(((lon[known].abs() <= 180) & (lat[known].abs() <= 180)).all())
    elif wkt_col is not None:
        geometry, problems = _parse_wkt(frame, wkt_col)
        data = frame.drop(columns=[wkt_col])
        b = shapely.bounds(geometry)
        looks_like_degrees = bool(np.nan_to_num(np.abs(b), nan=0).max(initial=0) <= 180)
    else:
        raise LayerReadError(
            f"表中找不到坐标列 / no coordinate columns in {path}: columns are {list(frame.columns)}; expected "
            "lon/lat (lng, longitude, x, 经度 / latitude, y, 纬度) or a WKT column (wkt, geometry). Rename the "
            "columns, or map them: --map lon=东经,lat=北纬"
        )
    if crs is None and not looks_like_degrees:
        raise CRSError(
            f"表格坐标像投影米但未给坐标系 / {path} holds coordinates beyond ±180, so they are not degrees, and "
            "a table carries no CRS; add --crs EPSG:… (Python: crs='EPSG:…'), e.g. EPSG:4547 for CGCS2000 "
            "zone CM 114°E"
        )
    layer_crs = crs or CGCS2000  # a table of degrees is taken as CGCS2000 lon/lat (documented in read_layer)
    data = pd.DataFrame({name: _infer_column(data[name]) for name in data.columns}, index=data.index)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=layer_crs), problems


def _parse_wkt(frame: pd.DataFrame, wkt_col: str) -> tuple[np.ndarray, list[Problem]]:
    texts = frame[wkt_col].replace("", None)
    try:
        return gpd.GeoSeries.from_wkt(texts, on_invalid="raise").to_numpy(), []
    except shapely.errors.GEOSException:
        pass
    parsed: list[BaseGeometry | None] = []
    problems: list[Problem] = []
    for i, text in enumerate(texts):
        try:
            parsed.append(shapely.from_wkt(text) if text is not None else None)
        except shapely.errors.GEOSException:
            parsed.append(None)
            problems.append(
                Problem(
                    i,
                    frame.index[i],
                    wkt_col,
                    str(text)[:80],
                    "coordinate_number",
                    "WKT 无法解析 / unreadable WKT; expected e.g. 'POINT (114.305 30.593)'",
                )
            )
    return np.array(parsed, dtype=object), problems


def _infer_column(column: pd.Series) -> pd.Series:
    """Numbers where every value is one; codes with leading zeros (区划代码 '010…') and blanks stay text."""
    text = column.astype(str).str.strip()
    if (text == "").any() or (text.str.match(r"^[+-]?0\d")).any():
        return column
    try:
        return pd.to_numeric(text)
    except (ValueError, TypeError):
        return column
