"""The coordinate system an input file is really in (输入坐标系): ``--crs`` parsing and conversion to CGCS2000.

Officers are handed files in many systems: CGCS2000 / WGS84 lon/lat, a CGCS2000 Gauss–Krüger zone
(EPSG:4491–4554, with or without zone prefix), or the offset systems of consumer web maps, GCJ-02 (国测局坐标,
AMap / Tencent) and BD-09 (百度坐标). A file's own declaration is often wrong: a GeoJSON always claims WGS84,
even when it was digitised on a GCJ-02 web map. :func:`parse_input_crs` reads what a user declares with
``--crs``; :func:`geometries_to_cgcs2000` converts GCJ-02 / BD-09 geometries with the conversions of
:mod:`layers.crs` (the one place for them).

Accepted spellings (case-insensitive): ``EPSG:4547``, ``4547``, ``epsg4547``, ``CGCS2000``, ``WGS84``,
``CRS84``, ``gcj02`` / ``GCJ-02`` / ``火星坐标``, ``bd09`` / ``BD-09`` / ``百度坐标``, and the EPSG names of the
CGCS2000 zones such as ``CGCS2000 / 3-degree Gauss-Kruger CM 114E`` or ``… zone 38`` (Krüger or Kruger).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from layers.crs import CGCS2000
from layers.errors import CRSError
from layers.offset_coords import bd09_to_wgs84, gcj02_to_wgs84

__all__ = ["InputCRS", "declare_crs", "geometries_to_cgcs2000", "parse_input_crs", "zone_prefix_hint"]

OffsetKind = Literal["gcj02", "bd09"]

_OFFSET_NAMES: Final[dict[str, OffsetKind]] = {
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "火星坐标": "gcj02",
    "国测局坐标": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd09ll": "bd09",
    "baidu": "bd09",
    "百度坐标": "bd09",
}
_GEOGRAPHIC_NAMES: Final = frozenset({"cgcs2000", "wgs84", "wgs-84", "crs84", "ogc:crs84", "4490", "4326"})
# CGCS2000 Gauss–Krüger zones in the EPSG registry: 6-degree 4491–4512, 3-degree 4513–4554.
_GK_FIRST_EPSG, _GK_LAST_EPSG = 4491, 4554
_PREFIXED_3DEG_FIRST_EPSG, _PREFIXED_3DEG_FIRST_ZONE = 4513, 25
_PREFIXED_6DEG_FIRST_EPSG, _PREFIXED_6DEG_FIRST_ZONE = 4491, 13


@dataclass(frozen=True)
class InputCRS:
    """A declared input coordinate system (声明的输入坐标系).

    Attributes
    ----------
    text : str
        What the user typed.
    crs : pyproj.CRS
        The CRS of the coordinates as stored in the file: for GCJ-02 / BD-09, CGCS2000 lon/lat (they are
        lon/lat degrees, shifted by an algorithm that has no EPSG code).
    offset : {"gcj02", "bd09"} or None
        The web-map offset to remove after reading, if any.
    """

    text: str
    crs: pyproj.CRS
    offset: OffsetKind | None = None

    @property
    def label(self) -> str:
        """A short name for messages: ``GCJ-02``, ``BD-09`` or ``EPSG:4547 (CGCS2000 / …)``."""
        if self.offset is not None:
            return {"gcj02": "GCJ-02", "bd09": "BD-09"}[self.offset]
        code = self.crs.to_epsg()
        return f"EPSG:{code} ({self.crs.name})" if code else self.crs.name


def _normalised(text: str) -> str:
    folded = text.strip().lower().replace("ü", "u").replace("–", "-").replace("_", " ")
    return re.sub(r"\s+", " ", folded)


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, int]:
    """Normalised EPSG names of the CGCS2000 Gauss–Krüger zones → their code (from PROJ's database)."""
    from pyproj.database import query_crs_info
    from pyproj.enums import PJType

    return {
        _normalised(info.name): int(info.code)
        for info in query_crs_info(auth_name="EPSG", pj_types=[PJType.PROJECTED_CRS])
        if info.code.isdigit() and _GK_FIRST_EPSG <= int(info.code) <= _GK_LAST_EPSG
    }


def parse_input_crs(text: str) -> InputCRS:
    """Read a declared input CRS (解析 ``--crs``).

    Parameters
    ----------
    text : str
        See the module docstring for the spellings.

    Returns
    -------
    InputCRS

    Raises
    ------
    CRSError
        For anything else, naming the value and the accepted spellings.

    Examples
    --------
    >>> parse_input_crs("gcj02").label
    'GCJ-02'
    >>> parse_input_crs("CGCS2000 / 3-degree Gauss-Krüger CM 114E").crs.to_epsg()
    4547
    >>> parse_input_crs("4547").crs.to_epsg(), parse_input_crs("EPSG:4526").crs.to_epsg()
    (4547, 4526)
    """
    name = _normalised(str(text))
    if name in _OFFSET_NAMES:
        return InputCRS(str(text), pyproj.CRS.from_user_input(CGCS2000), _OFFSET_NAMES[name])
    if name in _GEOGRAPHIC_NAMES:
        code = "EPSG:4326" if name in ("wgs84", "wgs-84", "4326") else CGCS2000
        return InputCRS(str(text), pyproj.CRS.from_user_input("OGC:CRS84" if "crs84" in name else code))
    match = re.fullmatch(r"(?:epsg)?\s*:?\s*(\d{4,6})", name)
    if match:
        name = f"epsg:{match.group(1)}"
    zone_code = _zone_names().get(name)
    if zone_code is not None:
        name = f"epsg:{zone_code}"
    try:
        crs = pyproj.CRS.from_user_input(name if name.startswith("epsg:") else str(text).strip())
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(
            f"无法识别的坐标系 --crs {text!r} / unknown CRS --crs {text!r}; expected an EPSG code (EPSG:4490, "
            "EPSG:4547), a CGCS2000 zone name ('CGCS2000 / 3-degree Gauss-Kruger CM 114E'), gcj02 or bd09"
        ) from exc
    if not (crs.is_geographic or crs.is_projected):
        raise CRSError(
            f"坐标系不能定位 --crs {text!r} / --crs {text!r} is a {crs.type_name}, which cannot place features "
            "on the earth; expected a geographic or projected CRS such as EPSG:4490 or EPSG:4547"
        )
    return InputCRS(str(text), crs)


def geometries_to_cgcs2000(geometries: NDArray[np.object_], offset: OffsetKind) -> NDArray[np.object_]:
    """Geometries in GCJ-02 or BD-09 lon/lat converted to CGCS2000 lon/lat (去偏移), vertex by vertex.

    The inverse of the published forward algorithm, solved by iteration to well under 1 cm
    (:func:`layers.offset_coords.gcj02_to_wgs84`, :func:`layers.offset_coords.bd09_to_wgs84`); WGS84 is taken as CGCS2000.
    """
    convert = gcj02_to_wgs84 if offset == "gcj02" else bd09_to_wgs84

    def shift(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = convert(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(geometries, shift), dtype=object)


def declare_crs(gdf: gpd.GeoDataFrame, crs: str | InputCRS) -> gpd.GeoDataFrame:
    """A layer whose coordinates are taken as being in ``crs`` (whatever it declared), in CGCS2000 lon/lat.

    GCJ-02 / BD-09 are converted vertex by vertex (:func:`geometries_to_cgcs2000`), other systems reprojected.
    """
    declared = crs if isinstance(crs, InputCRS) else parse_input_crs(crs)
    layer = gdf.set_crs(declared.crs, allow_override=True)
    if declared.offset is None:
        return layer.to_crs(CGCS2000)
    result = layer.copy()
    converted = geometries_to_cgcs2000(layer.geometry.to_numpy(), declared.offset)
    result[layer.geometry.name] = gpd.GeoSeries(converted, index=layer.index, crs=CGCS2000)
    return result


def zone_prefix_hint(easting_m: float) -> str:
    """Which ``--crs`` a Gauss–Krüger easting with a zone prefix (带号) needs, or ``""``.

    An easting of 38 500 000 m carries zone 38 (3-degree, EPSG:4526); 20 500 000 m zone 20 (6-degree, EPSG:4498).

    Examples
    --------
    >>> zone_prefix_hint(38529000.0)
    ' The easting carries zone prefix 38: try --crs EPSG:4526 (3-degree zone 38).'
    """
    zone = int(easting_m // 1_000_000)
    first3, first6 = _PREFIXED_3DEG_FIRST_ZONE, _PREFIXED_6DEG_FIRST_ZONE
    if first3 <= zone <= first3 + 20:
        code, kind = _PREFIXED_3DEG_FIRST_EPSG + zone - first3, "3-degree"
    elif first6 <= zone <= first6 + 10:
        code, kind = _PREFIXED_6DEG_FIRST_EPSG + zone - first6, "6-degree"
    else:
        return ""
    return f" The easting carries zone prefix {zone}: try --crs EPSG:{code} ({kind} zone {zone})."
