"""The OpenAPI document tells what the server does (接口说明与实际一致).

Three things FastAPI cannot know by itself, done here in one place for every route:

- the error answers (:data:`ERROR_STATUSES`, all with the body of docs/DESIGN.md ``{"error", "message",
  "details"}``), documented on each route by what it can meet: every route can be given a bad request, a
  missing resource, a body or query over the limits or meet a database that is down; a route that reads a
  token can answer 401, one that needs a role 403; a write can conflict (409) or name a stale version (412);
  an update that requires ``If-Match`` answers 428 without it (:func:`install_contract`);
- ``If-Match`` is *required* on those updates (FastAPI lists it as optional, since the route answers its
  absence with 428 rather than a validation error) (:func:`install_contract`);
- the ``Allow`` header of a 405 lists every method of the path, not only those of the first route that
  matched it (:func:`allowed_methods`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from geoservice.api.deps import IF_MATCH_VERSION_PATTERN, optional_user, required_version

#: Error statuses (错误状态码) and what each means here.
ERROR_STATUSES: dict[int, str] = {
    400: "请求不合规 / bad request: a parameter, header or body that cannot be read (names the field)",
    401: "缺少或无效的令牌 / missing or unknown bearer token",
    403: "角色无权 / the token's role may not do this",
    404: "没有该资源 / no such resource",
    409: "冲突 / conflict with the current state (a duplicate name, a state that does not allow this)",
    412: "版本已变更 / If-Match names a version that is no longer current",
    413: "请求体过大 / request body or uploaded file over its limit",
    414: "查询字符串过长 / query string over 16 KiB",
    422: "内容不合规 / valid JSON whose content breaks a rule (names the field, the value and the rule)",
    428: "须带 If-Match / an update of a versioned record needs If-Match",
    500: "服务器内部错误 / internal error (the body carries a reference id only)",
    503: "暂不可用 / a dependency (the database) is down; see Retry-After",
}
#: Statuses every route can answer.
COMMON_STATUSES = (400, 404, 413, 414, 422, 500, 503)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ErrorPublic(BaseModel):
    """The error body (错误响应) of docs/DESIGN.md; ``request_id`` is also the ``X-Request-ID`` header."""

    error: str
    message: str
    details: Any = None
    request_id: str | None = None


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    """Every dependency callable of a route, nested ones too."""
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _needs_role(call: Callable[..., Any]) -> bool:
    return getattr(call, "__qualname__", "").startswith("require_role.")


def statuses_of(route: APIRoute) -> list[int]:
    """The error statuses ``route`` can answer, by its methods and its dependencies."""
    calls = list(_calls(route.dependant))
    statuses = set(COMMON_STATUSES)
    if optional_user in calls:
        statuses.add(401)
    if any(_needs_role(c) for c in calls):
        statuses.add(403)
    if set(route.methods or ()) & WRITE_METHODS:
        statuses |= {409, 412}
    if required_version in calls:
        statuses.add(428)
    return sorted(statuses)


def install_contract(app: FastAPI, routers: list[APIRouter]) -> None:
    """Document every route's errors, mark required ``If-Match``, keep the routes for ``Allow``.

    Call it with the routers before they are included in ``app`` (an included router's routes are
    copied by FastAPI when the app first routes a request).
    """
    routes = [route for router in routers for route in router.routes]
    for route in routes:
        if isinstance(route, APIRoute):
            for status in statuses_of(route):
                route.responses.setdefault(
                    status, {"model": ErrorPublic, "description": ERROR_STATUSES[status]}
                )
    app.state.api_routes = routes
    app.openapi = _contract_openapi(app, routes)  # type: ignore[method-assign]


def _contract_openapi(app: FastAPI, routes: list[BaseRoute]) -> Callable[[], dict[str, Any]]:
    """``app.openapi``: FastAPI's document with ``If-Match`` required where :func:`required_version` is used."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for operation in (op for path in schema["paths"].values() for op in path.values()):
            _json_errors(operation)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header":  # a header is text or absent, never JSON null
                    variants = parameter["schema"].pop("anyOf", None)
                    if variants:
                        parameter["schema"].update(next(v for v in variants if v.get("type") != "null"))
        for route in routes:
            if isinstance(route, APIRoute) and required_version in list(_calls(route.dependant)):
                for method in route.methods or ():
                    operation = schema["paths"][route.path_format][method.lower()]
                    for parameter in operation.get("parameters", []):
                        if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
                            parameter["required"] = True
                            parameter["schema"] = {"type": "string", "pattern": IF_MATCH_VERSION_PATTERN}
        app.openapi_schema = schema
        return schema

    return openapi


def _json_errors(operation: dict[str, Any]) -> None:
    """Error answers are JSON even where the route's own answer is HTML, a PDF or a tile."""
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        if status.startswith(("4", "5")) and content and "application/json" not in content:
            schema = next((c["schema"] for c in content.values() if "schema" in c), None)
            response["content"] = {"application/json": {"schema": schema}} if schema else {}


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """The methods of the path template that routes the request (for ``Allow`` on a 405).

    The first route whose path matches decides the template, as routing does (``/names/check`` is its
    own resource, not ``/names/{id}``); every route of that template adds its methods.
    """
    matching = [
        route
        for route in app.state.api_routes
        if getattr(route, "methods", None) and route.matches(scope)[0] != Match.NONE
    ]
    if not matching:
        return []
    template = matching[0].path_format
    return sorted({m for route in matching if route.path_format == template for m in route.methods})


# -- what the routes' own checks enforce, said in the schema (documentation only: the checks and their messages stay)
_TEXT_CHAR = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
#: Text with a visible character (the routes refuse "" and blanks with their own message).
NON_BLANK: Final[dict[str, Any]] = {"pattern": r"\S"}
#: Text without control characters (tab and line breaks allowed), refused by geoservice.gazetteer.text.
NO_CONTROLS: Final[dict[str, Any]] = {"pattern": rf"^{_TEXT_CHAR}*$"}
#: Both: a name or an address as typed.
VISIBLE_TEXT: Final[dict[str, Any]] = {"pattern": rf"^{_TEXT_CHAR}*[^\s\x00-\x1f\x7f-\x9f]{_TEXT_CHAR}*$"}
_NUMBER = r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*"
#: ``minlon,minlat,maxlon,maxlat`` (and, where heights are taken, six numbers).
BBOX_4: Final[dict[str, Any]] = {"pattern": rf"^{_NUMBER}(,{_NUMBER}){{3}}$"}
BBOX_4_OR_6: Final[dict[str, Any]] = {"pattern": rf"^{_NUMBER}(,{_NUMBER}){{3}}((,{_NUMBER}){{2}})?$"}


def enum_of(
    values: Callable[[], Iterable[str]], *, nullable: bool = False
) -> Callable[[dict[str, Any]], None]:
    """``json_schema_extra`` listing the values a route accepts (read when the document is built)."""

    def extra(schema: dict[str, Any]) -> None:
        schema["enum"] = [*values(), *([None] if nullable else [])]

    return extra


_LON: Final = {"type": "number", "minimum": -180, "maximum": 180}
_LAT: Final = {"type": "number", "minimum": -90, "maximum": 90}
_POSITION: Final = {
    "type": "array",
    "prefixItems": [_LON, _LAT],
    "items": {"type": "number"},
    "minItems": 2,
    "maxItems": 3,
}
_LINE: Final = {"type": "array", "items": _POSITION, "minItems": 2}
_RING: Final = {"type": "array", "items": _POSITION, "minItems": 4}


def _geometry_of(kind: str, coordinates: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {"type": {"const": kind}, "coordinates": coordinates},
    }


#: A GeoJSON geometry in CGCS2000 lon/lat (RFC 7946 shapes, longitude first).
GEOJSON_GEOMETRY: Final[dict[str, Any]] = {
    "oneOf": [
        _geometry_of("Point", _POSITION),
        _geometry_of("LineString", _LINE),
        _geometry_of("Polygon", {"type": "array", "items": _RING, "minItems": 1}),
        _geometry_of("MultiPoint", {"type": "array", "items": _POSITION, "minItems": 1}),
        _geometry_of("MultiLineString", {"type": "array", "items": _LINE, "minItems": 1}),
        _geometry_of(
            "MultiPolygon",
            {"type": "array", "items": {"type": "array", "items": _RING, "minItems": 1}, "minItems": 1},
        ),
    ]
}


def geometry_schema(schema: dict[str, Any]) -> None:
    """``json_schema_extra`` of a GeoJSON geometry field (or ``null`` where the field allows it)."""
    nullable = any(s.get("type") == "null" for s in schema.get("anyOf", []))
    schema.clear()
    schema.update({"anyOf": [GEOJSON_GEOMETRY, {"type": "null"}]} if nullable else GEOJSON_GEOMETRY)
