"""Vector layers in and out (矢量数据读写): the files officers are handed, with a validation report.

:func:`read_layer` reads GeoJSON, GeoPackage, Shapefile (also zipped, GBK ``.dbf`` detected), KML, and
``.csv`` / ``.xlsx`` tables with coordinate or WKT columns (:mod:`layers.file_formats`), and always returns
CGCS2000 longitude/latitude (EPSG:4490; EPSG:4326 / CRS84 are taken as equivalent, projected layers are
reprojected, GCJ-02 / BD-09 converted when declared with ``crs=``, :mod:`layers.input_crs`). Before that,
:func:`validate_layer` lists *every* problem at once (invalid or empty geometry, latitude/longitude swapped,
coordinates out of range or outside China, missing or unknown CRS, mixed geometry types), each with the feature,
field, value, rule and a bilingual message. A file that claims WGS84 but sits where GCJ-02 / BD-09 would put
known features gets a warning (:mod:`layers.offset_detection`).

Validation and repair (:func:`validate_layer`, ``repair=True``) are in :mod:`layers.validation`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors
import pyproj

from layers.crs import CGCS2000
from layers.errors import CRSError, LayerReadError, LayerValidationError
from layers.file_formats import (
    format_of,
    open_source,
    read_format,
    read_table_layer,
    read_text_table,
    read_vector,
)
from layers.input_crs import InputCRS, declare_crs, parse_input_crs, zone_prefix_hint
from layers.offset_detection import offset_warnings
from layers.problems import Problem
from layers.validation import (
    GEOGRAPHIC_EQUIVALENTS,
    GEOMETRY_FAMILY,
    ValidationReport,
    china_problems,
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

#: The formats :func:`write_layer` writes (:func:`read_layer` reads more: ``layers.file_formats.READ_FORMATS``).
FORMATS: Final[dict[str, Format]] = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".shp": "shp",
    ".csv": "csv",
}
_DRIVERS: Final[dict[Format, str]] = {"geojson": "GeoJSON", "gpkg": "GPKG", "shp": "ESRI Shapefile"}
_SHAPEFILE_FIELD_CHARS: Final = 10
Bounds = tuple[float, ...]
FrameT = TypeVar("FrameT", pd.DataFrame, gpd.GeoDataFrame)


# --------------------------------------------------------------------------------------------------------------
# Reading (读取)
# --------------------------------------------------------------------------------------------------------------


def _format_of(path: Path) -> Format:
    return format_of(path, FORMATS)


def _mapped(frame: FrameT, columns: Mapping[str, str] | None, path: Path) -> FrameT:
    """Columns renamed as ``--map code=adcode,name=名称`` says (target = source in the file)."""
    if not columns:
        return frame
    missing = {target: source for target, source in columns.items() if source not in frame.columns}
    if missing:
        raise LayerReadError(
            f"文件中没有要映射的列 / {path.name} has no column {sorted(missing.values())} to map "
            f"(--map {','.join(f'{t}={s}' for t, s in missing.items())}); its columns are "
            f"{[c for c in frame.columns if c != getattr(frame, '_geometry_column_name', None)]}"
        )
    clashing = [t for t, s in columns.items() if t in frame.columns and t != s and t not in columns.values()]
    renamed: FrameT = frame.drop(columns=clashing).rename(columns={s: t for t, s in columns.items()})
    return renamed


def _declared(crs: str | InputCRS | None) -> InputCRS | None:
    if crs is None or isinstance(crs, InputCRS):
        return crs
    return parse_input_crs(crs)


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    repair: bool = False,
    crs: str | InputCRS | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    id_column: str | None = None,
    geometry_required: bool = True,
    reference: gpd.GeoSeries | Callable[[Bounds], gpd.GeoSeries] | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector layer (读取矢量图层), validate it and return it in CGCS2000 lon/lat (EPSG:4490).

    Parameters
    ----------
    path : str or Path
        ``.geojson`` / ``.json``, ``.gpkg``, ``.shp``, ``.zip`` (a zipped Shapefile), ``.kml``, ``.csv`` or
        ``.xlsx`` (coordinates in lon/lat columns — also ``lng``, ``longitude``, ``x``, ``经度`` / ``latitude``,
        ``y``, ``纬度`` — or a WKT column).
    layer : str, keyword-only
        Layer name in a GeoPackage (default: its first layer), a Shapefile in a zip, a sheet of a workbook.
    repair : bool, keyword-only
        Fix what can be fixed (see :mod:`layers.validation`) and record it in ``attrs["validation"].repaired``.
    crs : str or InputCRS, keyword-only
        The CRS the coordinates are really in (``--crs``): an EPSG code, a CGCS2000 zone name, ``gcj02`` or
        ``bd09`` (:func:`layers.input_crs.parse_input_crs`). It overrides what the file declares (a GeoJSON
        always claims WGS84). Without it a table of degrees is taken as CGCS2000.
    columns : mapping of str to str, keyword-only
        Columns to rename, target → source in the file (``--map code=adcode``); applied before anything else,
        so ``lon`` / ``lat`` can be mapped too.
    encoding : str, keyword-only
        Text encoding of a ``.dbf`` or ``.csv`` (``--encoding GBK``); default: the ``.cpg``, else detected.
    id_column : str, keyword-only
        Column naming features in problems.
    geometry_required : bool, keyword-only
        When False, features without a geometry (NULL) are kept instead of reported (see :func:`validate_layer`).
    reference : geopandas.GeoSeries or callable, keyword-only
        Known-good CGCS2000 geometries of the same area (e.g. stored divisions), or a function giving them for
        the file's CGCS2000 bounds (minx, miny, maxx, maxy; called only when needed): when the file does not
        declare ``crs`` and its features sit where GCJ-02 / BD-09 would put these, a warning says so.

    Returns
    -------
    geopandas.GeoDataFrame
        Features in EPSG:4490 (lon/lat degrees); ``attrs["validation"]`` holds the :class:`ValidationReport`
        (its ``warnings`` list such doubts).

    Raises
    ------
    LayerReadError
        Unsupported format, missing or broken file (e.g. truncated GeoJSON), missing layer, empty layer, a zip
        without a Shapefile or with several, a mapped column that is not there.
    LayerValidationError
        Problems that remain (all of them, in ``problems``), including a missing or unknown CRS and features
        outside China in the declared CRS (``in_china``).
    CRSError
        A table of projected coordinates without ``crs``; an unknown ``crs``.
    """
    file_path = Path(path)
    fmt = read_format(file_path)
    if not file_path.exists():
        raise LayerReadError(f"找不到文件 / file not found: {file_path}")
    declared = _declared(crs)
    read_problems: list[Problem] = []
    prj_text: str | None = None
    if fmt in ("csv", "xlsx"):
        table = _mapped(read_text_table(file_path, fmt, layer, encoding), columns, file_path)
        gdf, read_problems = read_table_layer(table, file_path, None if declared is None else declared.crs)
    else:
        source = open_source(file_path, fmt, layer, encoding)
        gdf = _mapped(read_vector(file_path, source, all_layers=fmt == "kml"), columns, file_path)
        if gdf.crs is None and source.is_shapefile and declared is None and fmt == "shp":
            prj = file_path.with_suffix(".prj")
            if prj.exists():
                prj_text = prj.read_text(encoding="utf-8", errors="replace").strip() or None
        if declared is not None:
            gdf = gdf.set_crs(declared.crs, allow_override=True)
    if len(gdf) == 0:
        raise LayerReadError(
            f"图层为空 / empty layer: {file_path}{f' layer {layer!r}' if layer else ''} has no features; "
            "expected at least one. Check the export filter or the layer name"
        )
    source_crs = pyproj.CRS.from_user_input(gdf.crs) if gdf.crs is not None else None
    if declared is not None and declared.offset is not None:
        gdf = _to_cgcs2000(gdf, declared)  # lon/lat in, lon/lat out: validate and repair the true shapes
    check = _Check(file_path, read_problems, id_column, prj_text, geometry_required, repair)
    gdf, report = check.run(gdf)
    assert source_crs is not None  # a missing CRS is a problem raised by check.run
    # An easting with a zone number in front (带号) read in a zone without one lands far outside China.
    hint = zone_prefix_hint(float(gdf.total_bounds[0])) if source_crs.is_projected else ""
    reprojected = not _is_cgcs2000(gdf.crs)
    gdf = _to_cgcs2000(gdf)
    ids = list(gdf[id_column]) if id_column in gdf.columns else list(gdf.index)
    report.problems = china_problems(
        gdf.geometry.to_numpy(),
        ids,
        declared=declared.label if declared else f"EPSG:{source_crs.to_epsg()} ({source_crs.name})",
        hint=hint,
    )
    _raise_if_problems(report, file_path)
    if reprojected:
        # a reprojection can turn a just-valid shape (two parts touching at a point) invalid by a hair
        gdf, again = check.run(gdf)
        report.repaired += again.repaired
    if declared is None and source_crs.is_geographic and reference is not None:
        bounds = tuple(float(v) for v in gdf.total_bounds)
        known = reference(bounds) if callable(reference) else reference
        report.warnings += offset_warnings(gdf.geometry, known, source=file_path.name)
    gdf.attrs["validation"] = report
    return gdf


@dataclass(frozen=True)
class _Check:
    """Validate a layer, repair it when asked, and raise every problem left (one step of :func:`read_layer`)."""

    path: Path
    read_problems: list[Problem]
    id_column: str | None
    prj_text: str | None
    geometry_required: bool
    repair: bool

    def _validate(self, gdf: gpd.GeoDataFrame) -> list[Problem]:
        found = validate_layer(
            gdf, id_column=self.id_column, prj_text=self.prj_text, geometry_required=self.geometry_required
        ).problems
        unparsed = {
            p.index for p in self.read_problems
        }  # their empty geometry is the same problem, said once
        return sorted(
            self.read_problems + [p for p in found if not (p.rule == "non_empty" and p.index in unparsed)],
            key=lambda p: -1 if p.index is None else p.index,
        )

    def run(self, gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, ValidationReport]:
        report = ValidationReport(problems=self._validate(gdf))
        if self.repair and any(p.repairable for p in report.problems):
            gdf, repaired = repair_layer(gdf, report)
            report = ValidationReport(problems=self._validate(gdf), repaired=repaired)
        _raise_if_problems(report, self.path)
        return gdf, report


def _raise_if_problems(report: ValidationReport, file_path: Path) -> None:
    if report.problems:
        raise LayerValidationError(
            f"图层校验未通过 / layer {file_path} failed validation:\n{report.summary()}",
            problems=[p.as_dict() for p in report.problems],
        )


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


def _is_cgcs2000(crs: Any) -> bool:
    """CGCS2000 lon/lat, or WGS84 / CRS84 (equal within centimetres)."""
    parsed = pyproj.CRS.from_user_input(crs)
    return parsed.to_epsg() in GEOGRAPHIC_EQUIVALENTS or parsed.equals("OGC:CRS84", ignore_axis_order=True)


def _to_cgcs2000(gdf: gpd.GeoDataFrame, declared: InputCRS | None = None) -> gpd.GeoDataFrame:
    if declared is not None and declared.offset is not None:
        return declare_crs(gdf, declared)
    if _is_cgcs2000(gdf.crs):
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
