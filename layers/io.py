"""Vector layers in and out (矢量数据读写): GeoJSON, GeoPackage, Shapefile and CSV, with a validation report.

:func:`read_layer` always returns CGCS2000 longitude/latitude (EPSG:4490; EPSG:4326 / CRS84 are taken as
equivalent, projected layers are reprojected). Before that, :func:`validate_layer` lists *every* problem at
once (invalid or empty geometry, latitude/longitude swapped, coordinates out of range, missing or unknown CRS,
mixed geometry types), each with the feature, field, value, rule and a bilingual message.

Validation and repair (:func:`validate_layer`, ``repair=True``) are in :mod:`layers.validation`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Final, Literal

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
from layers.errors import CRSError, LayerReadError, LayerValidationError
from layers.problems import Problem
from layers.validation import (
    GEOGRAPHIC_EQUIVALENTS,
    GEOMETRY_FAMILY,
    ValidationReport,
    repair_layer,
    validate_layer,
)

__all__ = [
    "FORMATS",
    "Problem",
    "ValidationReport",
    "read_layer",
    "read_table",
    "validate_layer",
    "write_layer",
]

Format = Literal["geojson", "gpkg", "shp", "csv"]

FORMATS: Final[dict[str, Format]] = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".shp": "shp",
    ".csv": "csv",
}
_DRIVERS: Final[dict[Format, str]] = {"geojson": "GeoJSON", "gpkg": "GPKG", "shp": "ESRI Shapefile"}
_LON_NAMES: Final = ("lon", "lng", "long", "longitude", "x", "经度")
_LAT_NAMES: Final = ("lat", "latitude", "y", "纬度")
_WKT_NAMES: Final = ("wkt", "geometry", "geom", "the_geom")
_SHAPEFILE_FIELD_CHARS: Final = 10


# --------------------------------------------------------------------------------------------------------------
# Reading (读取)
# --------------------------------------------------------------------------------------------------------------


def _format_of(path: Path) -> Format:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise LayerReadError(
            f"不支持的文件格式 / unsupported file format: {path} ({path.suffix or 'no extension'}); expected "
            f"one of {', '.join(sorted(FORMATS))}. Convert it (ogr2ogr) or rename it if the extension is wrong"
        )
    return fmt


def _read_csv(path: Path, crs: str | None) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    frame: pd.DataFrame | None = None
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK/GB18030
        try:
            frame = pd.read_csv(path, encoding=encoding, dtype=str, keep_default_na=False)
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise LayerReadError(f"无法读取 CSV / cannot read CSV {path}: {exc}") from exc
    if frame is None:
        raise LayerReadError(f"CSV 编码无法识别 / cannot decode CSV {path}; expected UTF-8 or GB18030 text")
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
        texts = frame[wkt_col].replace("", None)
        try:
            geometry = gpd.GeoSeries.from_wkt(texts, on_invalid="raise").to_numpy()
        except shapely.errors.GEOSException:
            parsed: list[BaseGeometry | None] = []
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
            geometry = np.array(parsed, dtype=object)
        data = frame.drop(columns=[wkt_col])
        b = shapely.bounds(geometry)
        looks_like_degrees = bool(np.nan_to_num(np.abs(b), nan=0).max(initial=0) <= 180)
    else:
        raise LayerReadError(
            f"CSV 中找不到坐标列 / no coordinate columns in {path}: columns are {list(frame.columns)}; expected "
            "lon/lat (lng, longitude, x, 经度 / latitude, y, 纬度) or a WKT column (wkt, geometry)"
        )
    if crs is None and not looks_like_degrees:
        raise CRSError(
            f"CSV 坐标像投影米但未给坐标系 / CSV {path} holds coordinates beyond ±180, so they are not degrees, and "
            "a CSV carries no CRS; pass crs='EPSG:…' (e.g. EPSG:4547 for CGCS2000 zone CM 114°E)"
        )
    layer_crs = crs or CGCS2000  # a CSV of degrees is taken as CGCS2000 lon/lat (documented in read_layer)
    data = pd.DataFrame({name: _infer_column(data[name]) for name in data.columns}, index=data.index)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=layer_crs), problems


def _infer_column(column: pd.Series) -> pd.Series:
    """Numbers where every value is one; codes with leading zeros (区划代码 '010…') and blanks stay text."""
    text = column.astype(str).str.strip()
    if (text == "").any() or (text.str.match(r"^[+-]?0\d")).any():
        return column
    try:
        return pd.to_numeric(text)
    except (ValueError, TypeError):
        return column


def _read_vector(path: Path, layer: str | None) -> tuple[gpd.GeoDataFrame, str | None]:
    try:
        with warnings.catch_warnings():
            # GDAL notes about e.g. a missing .prj are reported through our own CRS problems instead.
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = pyogrio.read_dataframe(path, layer=layer)
    except pyogrio.errors.DataLayerError as exc:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)] if path.exists() else []
        raise LayerReadError(
            f"找不到图层 / no layer {layer!r} in {path}: {exc}; available: {', '.join(layers) or 'none'}"
        ) from exc
    except pyogrio.errors.DataSourceError as exc:
        cause = "file not found" if not path.exists() else str(exc).split(";")[0]
        raise LayerReadError(
            f"无法读取图层文件 / cannot read layer file {path}: {cause}. "
            "Check the file is complete (not truncated) and in the format its extension says"
        ) from exc
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise LayerReadError(
            f"图层没有几何列 / layer {layer or path.name!r} of {path} has no geometry column; expected a spatial "
            "layer. Read an attribute table with layers.io.read_table"
        )
    prj_text = None
    if gdf.crs is None and path.suffix.lower() == ".shp":
        prj = path.with_suffix(".prj")
        if prj.exists():
            prj_text = prj.read_text(encoding="utf-8", errors="replace").strip() or None
    return gdf, prj_text


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    repair: bool = False,
    crs: str | None = None,
    id_column: str | None = None,
    geometry_required: bool = True,
) -> gpd.GeoDataFrame:
    """Read a vector layer (读取矢量图层), validate it and return it in CGCS2000 lon/lat (EPSG:4490).

    Parameters
    ----------
    path : str or Path
        ``.geojson`` / ``.json``, ``.gpkg``, ``.shp`` or ``.csv`` (coordinates in lon/lat columns — also
        ``lng``, ``longitude``, ``x``, ``经度`` / ``latitude``, ``y``, ``纬度`` — or a WKT column).
    layer : str, keyword-only
        Layer name in a GeoPackage (default: its first layer).
    repair : bool, keyword-only
        Fix what can be fixed (see the module docstring) and record it in ``attrs["validation"].repaired``.
    crs : str, keyword-only
        CRS to use when the file declares none. A CSV of degrees without ``crs`` is taken as CGCS2000.
    id_column : str, keyword-only
        Column naming features in problems.
    geometry_required : bool, keyword-only
        When False, features without a geometry (NULL) are kept instead of reported (see :func:`validate_layer`).

    Returns
    -------
    geopandas.GeoDataFrame
        Features in EPSG:4490 (lon/lat degrees); ``attrs["validation"]`` holds the :class:`ValidationReport`.

    Raises
    ------
    LayerReadError
        Unsupported format, missing or broken file (e.g. truncated GeoJSON), missing layer, empty layer.
    LayerValidationError
        Problems that remain (all of them, in ``problems``), including a missing or unknown CRS.
    CRSError
        A CSV of projected coordinates without ``crs``.
    """
    file_path = Path(path)
    fmt = _format_of(file_path)
    if not file_path.exists():
        raise LayerReadError(f"找不到文件 / file not found: {file_path}")
    read_problems: list[Problem] = []
    prj_text: str | None = None
    if fmt == "csv":
        gdf, read_problems = _read_csv(file_path, crs)
    else:
        gdf, prj_text = _read_vector(file_path, layer)
        if gdf.crs is None and crs is not None:
            gdf = gdf.set_crs(crs)
            prj_text = None
    if len(gdf) == 0:
        raise LayerReadError(
            f"图层为空 / empty layer: {file_path}{f' layer {layer!r}' if layer else ''} has no features; "
            "expected at least one. Check the export filter or the layer name"
        )
    report = validate_layer(gdf, id_column=id_column, prj_text=prj_text, geometry_required=geometry_required)
    unparsed = {p.index for p in read_problems}  # their empty geometry is the same problem, said once
    report.problems = sorted(
        read_problems + [p for p in report.problems if not (p.rule == "non_empty" and p.index in unparsed)],
        key=lambda p: -1 if p.index is None else p.index,
    )
    if repair and any(p.repairable for p in report.problems):
        gdf, repaired = repair_layer(gdf, report)
        again = validate_layer(
            gdf, id_column=id_column, prj_text=prj_text, geometry_required=geometry_required
        )
        remaining = [p for p in again.problems if not (p.rule == "non_empty" and p.index in unparsed)]
        report = ValidationReport(problems=read_problems + remaining, repaired=repaired)
    if report.problems:
        raise LayerValidationError(
            f"图层校验未通过 / layer {file_path} failed validation:\n{report.summary()}",
            problems=[p.as_dict() for p in report.problems],
        )
    gdf = _to_cgcs2000(gdf)
    gdf.attrs["validation"] = report
    return gdf


def read_table(path: str | Path, *, layer: str | None = None) -> pd.DataFrame:
    """Read an attribute table (属性表) with no geometry: a non-spatial GeoPackage layer or a CSV.

    Raises
    ------
    LayerReadError
        Unsupported format, missing or broken file, missing layer, empty table.
    """
    file_path = Path(path)
    _format_of(file_path)
    if not file_path.exists():
        raise LayerReadError(f"找不到文件 / file not found: {file_path}")
    try:
        frame = pd.DataFrame(pyogrio.read_dataframe(file_path, layer=layer, read_geometry=False))
    except (pyogrio.errors.DataLayerError, pyogrio.errors.DataSourceError) as exc:
        raise LayerReadError(
            f"无法读取表 / cannot read table {layer or ''} of {file_path}: {str(exc).split(';')[0]}"
        ) from exc
    if len(frame) == 0:
        raise LayerReadError(
            f"表为空 / empty table: {file_path}{f' layer {layer!r}' if layer else ''} has no rows; "
            "expected at least one"
        )
    return frame


def _to_cgcs2000(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    crs = pyproj.CRS.from_user_input(gdf.crs)
    if crs.to_epsg() in GEOGRAPHIC_EQUIVALENTS or crs.equals("OGC:CRS84", ignore_axis_order=True):
        # WGS84 and CGCS2000 agree within centimetres (docs/DESIGN.md: stored as CGCS2000, treated as WGS84).
        return gdf.set_crs(CGCS2000, allow_override=True)
    return gdf.to_crs(CGCS2000)


# --------------------------------------------------------------------------------------------------------------
# Writing (写出)
# --------------------------------------------------------------------------------------------------------------


def write_layer(gdf: gpd.GeoDataFrame, path: str | Path, *, layer: str | None = None) -> Path:
    """Write a layer (写出图层) as GeoJSON, GeoPackage, Shapefile or CSV, chosen by the extension.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features with a CRS. GeoJSON and CSV are written in CGCS2000 lon/lat (EPSG:4490; GeoJSON per RFC 7946
        order); GeoPackage and Shapefile keep the layer's CRS.
    path : str or Path
        Target file; an existing GeoJSON / Shapefile / CSV is replaced, a GeoPackage gains or replaces
        ``layer``.
    layer : str, keyword-only
        Layer name in a GeoPackage (default: the file stem).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    CRSError
        If the layer has no CRS.
    LayerValidationError
        Shapefile limits: field names over 10 characters, or mixed geometry types.
    LayerReadError
        Unsupported extension.
    """
    file_path = Path(path)
    fmt = _format_of(file_path)
    if gdf.crs is None:
        raise CRSError(
            f"图层缺少坐标系，无法写出 / layer has no CRS, not writing {file_path}; "
            "set it with gdf.set_crs('EPSG:4490') (only if that is the true CRS)"
        )
    if fmt in ("geojson", "csv"):
        gdf = _to_cgcs2000(gdf)
    if fmt == "csv":
        _write_csv(gdf, file_path)
        return file_path
    if fmt == "shp":
        _check_shapefile(gdf, file_path)
        # Shapefile has no layer names and only the DBF; write UTF-8 and say so in the .cpg.
        pyogrio.write_dataframe(gdf, file_path, driver=_DRIVERS[fmt], encoding="UTF-8")
        return file_path
    if fmt == "geojson" and file_path.exists():
        file_path.unlink()
    pyogrio.write_dataframe(
        gdf, file_path, driver=_DRIVERS[fmt], layer=layer or file_path.stem if fmt == "gpkg" else None
    )
    return file_path


def _check_shapefile(gdf: gpd.GeoDataFrame, path: Path) -> None:
    long_names = [
        str(c) for c in gdf.columns if c != gdf.geometry.name and len(str(c)) > _SHAPEFILE_FIELD_CHARS
    ]
    families = {GEOMETRY_FAMILY.get(t) for t in gdf.geometry.dropna().geom_type}
    problems: list[dict[str, Any]] = [
        {
            "field": name,
            "value": name,
            "rule": "shapefile_field_name",
            "message": "字段名超过 10 字符 / over 10 characters",
        }
        for name in long_names
    ]
    if len(families) > 1:
        problems.append(
            {
                "field": "geometry",
                "value": sorted(map(str, families)),
                "rule": "single_geometry_type",
                "message": "",
            }
        )
    if problems:
        raise LayerValidationError(
            f"Shapefile 限制 / cannot write {path} as Shapefile: field names over 10 characters {long_names} "
            f"(GDAL would truncate them) or mixed geometry types {sorted(map(str, families))}; rename the fields "
            "(gdf.rename(columns=…)) or write a GeoPackage (.gpkg) instead",
            problems=problems,
        )


def _write_csv(gdf: gpd.GeoDataFrame, path: Path) -> None:
    data = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    geoms = gdf.geometry
    if geoms.dropna().geom_type.isin(["Point"]).all():
        data["lon"] = geoms.x.to_numpy()
        data["lat"] = geoms.y.to_numpy()
    else:
        data["wkt"] = geoms.to_wkt().to_numpy()
    data.to_csv(path, index=False, encoding="utf-8")
