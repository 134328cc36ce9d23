"""The query parameters of ``items`` beyond Part 1 (要素查询参数): filtering (Part 3), sorting, property
selection, and the queryables document.

``filter`` with ``filter-lang`` (``cql2-text``, the default, or ``cql2-json``) and ``filter-crs`` (the CRS of
its geometry literals, CRS84 unless told); ``sortby`` (``+name,-updated_at``: queryables, ``-`` descending);
``properties`` (the properties a feature keeps, comma-separated); ``skipGeometry`` (``true`` leaves
``geometry`` null). The filter itself becomes SQL in the store (:mod:`geoservice.store.cql`).

Examples
--------
>>> parse_sortby("+name,-updated_at")
[('name', False), ('updated_at', True)]
>>> parse_sortby(" name")  # a '+' left unencoded in a URL arrives as a space
[('name', False)]
>>> select_fields({"geometry": {"type": "Point"}, "properties": {"a": 1, "b": 2}}, ["b"], True)
{'geometry': None, 'properties': {'b': 2}}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final, cast

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geoservice.errors import BadRequestError
from geoservice.store.cql import FILTER_LANGS, CqlFilter, FilterLang, parse_filter
from geoservice.store.queryables import queryables
from geoservice.tiles.grid import mercator_to_lonlat

__all__ = [
    "EXACT_COUNT_MAX",
    "FILTER_CONFORMANCE",
    "FILTER_PARAMETERS",
    "filter_parameters_openapi",
    "lonlat_from",
    "parse_filter_parameters",
    "parse_properties",
    "parse_skip_geometry",
    "parse_sortby",
    "query_parameter",
    "queryables_schema",
    "select_fields",
]

#: ``numberMatched`` is an exact count up to this many matches and an estimate past it
#: (``numberMatchedEstimated: true`` in the response).
EXACT_COUNT_MAX: Final = 10_000
#: The ``items`` parameters this module reads.
FILTER_PARAMETERS: Final = frozenset(
    {"filter", "filter-lang", "filter-crs", "sortby", "properties", "skipGeometry"}
)
#: The conformance classes of what this module serves (each one tested in tests/geoservice/features).
FILTER_CONFORMANCE: Final = [
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting",
]
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_SORTBY = re.compile(rf"^[+ -]?{_NAME}$")
_PROPERTIES = re.compile(rf"^{_NAME}(,{_NAME})*$")
_GEOMETRY_FORMATS: Final = {
    "Point": "geometry-point",
    "LineString": "geometry-linestring",
    "Polygon": "geometry-polygon",
    "MultiPolygon": "geometry-multipolygon",
}


def lonlat_from(axes: str) -> Callable[[BaseGeometry], BaseGeometry] | None:
    """Geometries in a CRS with these axes (``lonlat``, ``latlon``, ``mercator``) → stored lon/lat."""
    if axes == "lonlat":
        return None
    if axes == "latlon":
        return lambda g: shapely.transform(g, lambda c: c[:, ::-1])
    return lambda g: shapely.transform(g, lambda c: np.column_stack(mercator_to_lonlat(c[:, 0], c[:, 1])))


def parse_filter_parameters(params: Mapping[str, str], axes: str) -> CqlFilter | None:
    """``filter`` / ``filter-lang`` / ``filter-crs`` (its ``axes``) → a parsed filter, or ``None``."""
    lang = params.get("filter-lang", "cql2-text")
    if lang not in FILTER_LANGS:
        raise BadRequestError(
            f"不支持的 filter-lang {lang!r} / unsupported filter-lang {lang!r}; use cql2-text or cql2-json "
            "(cql-text, the draft's name, is read as cql2-text)",
            field="filter-lang",
            value=lang,
            rule="filter_lang",
        )
    if "filter" not in params:
        for given in ("filter-lang", "filter-crs"):
            if given in params:
                raise BadRequestError(
                    f"给了 {given} 却没有 filter / {given} given without filter",
                    field=given,
                    value=params[given],
                    rule="with_filter",
                )
        return None
    return parse_filter(params["filter"], cast(FilterLang, lang), lonlat_from(axes))


def parse_sortby(text: str | None) -> list[tuple[str, bool]]:
    """``sortby`` → (name, descending) pairs; which names are sortable is the store's to say."""
    if text is None:
        return []
    terms = []
    for term in text.split(","):
        if not _SORTBY.match(term):
            raise BadRequestError(
                f"sortby 格式不对 {text!r} / sortby must be comma-separated property names, each optionally "
                f"prefixed with + (ascending) or - (descending), e.g. +name,-updated_at; got {text!r}",
                field="sortby",
                value=text,
                rule="sortby_terms",
            )
        terms.append((term.lstrip("+ -"), term.startswith("-")))
    return terms


def parse_properties(text: str | None) -> list[str] | None:
    """``properties`` → the property names a feature keeps (``None``: all)."""
    if text is None:
        return None
    if not _PROPERTIES.match(text):
        raise BadRequestError(
            f"properties 格式不对 {text!r} / properties must be comma-separated property names, e.g. "
            f"name,code; got {text!r}",
            field="properties",
            value=text,
            rule="property_names",
        )
    return text.split(",")


def parse_skip_geometry(text: str | None) -> bool:
    """``skipGeometry``: ``true`` or ``false`` (default)."""
    if text is None or text == "false":
        return False
    if text == "true":
        return True
    raise BadRequestError(
        f"skipGeometry 只能是 true 或 false / skipGeometry must be true or false, got {text!r}",
        field="skipGeometry",
        value=text,
        rule="boolean",
    )


def select_fields(body: dict[str, Any], properties: list[str] | None, skip_geometry: bool) -> dict[str, Any]:
    """A GeoJSON feature keeping only ``properties`` (all if ``None``) and, with ``skip_geometry``, no geometry."""
    if properties is not None:
        body["properties"] = {k: v for k, v in body["properties"].items() if k in properties}
    if skip_geometry:
        body["geometry"] = None
    return body


def queryables_schema(collection: str) -> dict[str, dict[str, Any]]:
    """The JSON Schema of each queryable (类型): string, integer, number, date-time, the geometry's type."""
    out: dict[str, dict[str, Any]] = {}
    for name, queryable in queryables(collection).items():
        if queryable.type == "geometry":
            fmt = _GEOMETRY_FORMATS.get(queryable.geometry_type or "", "geometry-any")
            out[name] = {"title": name, "format": fmt, "x-ogc-role": "primary-geometry"}
        elif queryable.type == "date-time":
            out[name] = {"title": name, "type": "string", "format": "date-time"}
        else:
            out[name] = {"title": name, "type": queryable.type}
    return out


def query_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An optional query parameter (查询参数) of the OpenAPI document, read by the route itself."""
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def filter_parameters_openapi(crs_uris: list[str]) -> list[dict[str, Any]]:
    """The OpenAPI description of this module's ``items`` parameters, with their enums and patterns."""
    return [
        query_parameter(
            "filter",
            "CQL2 filter on the collection's queryables (see /collections/{collectionId}/queryables)",
            {"type": "string"},
        ),
        query_parameter(
            "filter-lang",
            "encoding of filter (default cql2-text)",
            {"type": "string", "enum": list(FILTER_LANGS), "default": "cql2-text"},
        ),
        query_parameter(
            "filter-crs",
            "CRS of the geometries in filter (default CRS84)",
            {"type": "string", "enum": crs_uris},
        ),
        query_parameter(
            "sortby",
            "queryables to sort by, comma-separated, each prefixed + (ascending) or - (descending)",
            {"type": "string", "pattern": rf"^[+ -]?{_NAME}(,[+ -]?{_NAME})*$"},
        ),
        query_parameter(
            "properties",
            "properties each feature keeps, comma-separated",
            {"type": "string", "pattern": _PROPERTIES.pattern},
        ),
        query_parameter(
            "skipGeometry", "true: features without geometry", {"type": "boolean", "default": False}
        ),
    ]
