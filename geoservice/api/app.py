"""The app factory (应用工厂): ``create_app(settings)`` builds storage once and mounts every router.

Errors are turned into JSON in one place (:func:`install_error_handlers`): a domain error keeps its
message and details; a request that FastAPI cannot validate names the field; anything unexpected
is a 500 whose body carries a reference id and no internals (the detail goes to the log).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geoservice import __version__
from geoservice.analyses.executor import AnalysisExecutor
from geoservice.api.address_batch import open_batch_jobs
from geoservice.api.cached_tiles import CachedTiles
from geoservice.api.openapi_contract import allowed_methods, install_contract
from geoservice.api.tiles import start_tiles, stop_tiles
from geoservice.errors import (
    AuthenticationError,
    GeoserviceError,
    MethodNotAllowedError,
    PayloadTooLargeError,
    UnavailableError,
    from_library_error,
    status_for,
)
from geoservice.operations.access_log import RequestContext, configure_logging, current_request_id
from geoservice.settings import Settings, get_settings
from geoservice.store import Store, open_store

log = logging.getLogger("geoservice")


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings
        Defaults to :func:`geoservice.settings.get_settings` (the ``GEOSERVICE_*`` environment).
    store
        An open store to use instead of opening ``settings.database_url`` (tests, notebooks).
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        app.state.store = store if store is not None else open_store(settings.database_url)
        # the analysis pool lives as long as the app: stale runs of a dead process marked first
        app.state.analyses = AnalysisExecutor(app.state.store)
        app.state.analyses.recover()
        app.state.address_batches = open_batch_jobs(settings, app.state.store)
        if settings.warm_indexes:
            warm_indexes(app.state.store)
            app.state.indexes_warm = True
        await start_tiles(app, app.state.store)
        await warm_routes(app)
        try:
            yield
        finally:
            await asyncio.to_thread(app.state.analyses.shutdown)
            await asyncio.to_thread(app.state.address_batches.shutdown)
            await stop_tiles(app)
            if own:
                app.state.store.close()

    app = FastAPI(
        title="geoservice 地名·界线·选址服务",
        version=__version__,
        description=(
            "地名管理、行政区域界线与界桩巡检、民政设施覆盖与选址。"
            " Place names, boundary markers and facility siting for civil-affairs map work."
        ),
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc from local files: geoservice/web/api_docs.py
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.indexes_warm = False
    configure_logging(settings.log_level, settings.log_format)
    if store is not None:  # usable before the lifespan runs (TestClient without a with-block)
        app.state.store = store
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_request_bytes,
        upload_max_bytes=settings.max_upload_bytes,
    )
    if settings.cors_origins:  # GEOSERVICE_CORS_ORIGINS='["https://map.example.gov.cn"]': pages elsewhere
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match"],
            expose_headers=["ETag", "Location", "Retry-After", "Content-Disposition"],
        )
    app.add_middleware(RequestContext)  # every answer the app gives gets its request id
    # outermost: an anonymous read of a cached tile is answered before the rest (with its request id too)
    app.add_middleware(CachedTiles)
    install_error_handlers(app)

    from geoservice import web
    from geoservice.api import (
        address_batch,
        addresses,
        boundaries,
        cleanup,
        downloads,
        feature_collections,
        feature_edits,
        features,
        health,
        imports,
        names,
        ogc_tiles,
        operations,
        signs,
        siting,
        tiles,
    )
    from geoservice.web import api_docs, division_picker

    modules = (
        health,
        operations,
        boundaries,
        siting,
        downloads,
        addresses,
        address_batch,
        names,
        cleanup,
        signs,
        imports,
        feature_collections,
        features,
        feature_edits,
        ogc_tiles,
        tiles,
        division_picker,
        api_docs,  # before web: its /static/vendor/apidocs/ precedes /static/{path}
        web,
    )
    install_contract(app, [module.router for module in modules])
    for module in modules:
        app.include_router(module.router)
    return app


def warm_indexes(store: Store) -> None:
    """Build the division tree before the first request and say whether the persisted name index is usable.

    The name check and search read their tables directly (nothing to build); a database whose name index is
    missing or stale is logged here, and the check and search answer 503 naming ``geoservice names reindex``.
    """
    from geoservice.gazetteer.divisions import tree_for_store
    from geoservice.gazetteer.stored_names import require_ready

    tree_for_store(store)
    with store.transaction(readonly=True) as tx:
        try:
            require_ready(tx)
        except UnavailableError as exc:
            log.error("%s", exc)


#: A path no route serves: the warm-up request of :func:`warm_routes`.
WARM_UP_PATH = "/.geoservice-warm-up"


async def warm_routes(app: FastAPI) -> None:
    """Prepare every route before the first request (预热路由).

    FastAPI builds the request handling of an included router's routes (their parameters' and bodies' models)
    on the first request matched through that router: 0.2–0.9 s of CPU on this machine under load, paid by the
    first request each worker serves — its first tile. One request for :data:`WARM_UP_PATH`, which no route
    serves, walks every route and builds them all. It goes to the router directly, not through the middleware:
    no access log line, no request counted in ``/metrics``.
    """
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": WARM_UP_PATH,
        "raw_path": WARM_UP_PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": None,
        "server": None,
    }
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))

    await app.router(scope, receive, send)
    if statuses != [404]:  # a route took the warm-up path: a route added later may still be built lazily
        log.warning("warm-up request %s answered %s, not 404", WARM_UP_PATH, statuses)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The JSON error body of docs/DESIGN.md, with the request id (also in ``X-Request-ID`` and the logs)."""
    body: dict[str, Any] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    request_id = current_request_id()
    if request_id is not None:
        body["request_id"] = request_id
    return body


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to a JSON body and a status code (the only place that does)."""

    @app.exception_handler(GeoserviceError)
    async def domain_error(request: Request, exc: GeoserviceError) -> JSONResponse:
        status = status_for(exc)
        retry_after_s = getattr(exc, "retry_after_s", None)
        headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else {}
        if isinstance(exc, MethodNotAllowedError):
            headers["Allow"] = ", ".join(exc.allow)
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        status = 422
        for err in exc.errors():
            location = [str(p) for p in err.get("loc", ())]
            if not location or location[0] != "body" or err.get("type") == "json_invalid":
                status = 400
            problems.append(
                {
                    "field": ".".join(location[1:]) or ".".join(location),
                    "in": location[0] if location else "request",
                    "value": _jsonable(err.get("input")),
                    "rule": err.get("type"),
                    "message": err.get("msg"),
                }
            )
        first = problems[0] if problems else {"field": "?", "message": "invalid"}
        message = f"请求参数不合规:{first['field']}: {first['message']} / invalid request: {first['field']}: {first['message']}"
        return JSONResponse(
            error_body("invalid_request", message, {"problems": problems}), status_code=status
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 404:
            message = f"没有这个地址 {request.url.path} / no such resource {request.url.path}"
        elif exc.status_code == 405:  # every method of the path, not only those of the first route matched
            allow = ", ".join(allowed_methods(request.app, request.scope))
            headers["Allow"] = allow
            message = (
                f"{request.url.path} 不支持 {request.method},可用:{allow} / "
                f"{request.method} is not allowed on {request.url.path}; allowed: {allow}"
            )
        else:
            message = str(exc.detail)
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        mapped = from_library_error(exc)
        if mapped is not None:
            return await domain_error(request, mapped)
        reference = current_request_id() or uuid.uuid4().hex
        log.exception("unhandled error %s on %s %s", reference, request.method, request.url.path)
        return JSONResponse(
            error_body(
                "internal_error",
                f"服务器内部错误,参考编号 {reference} / internal error, reference {reference}",
            ),
            status_code=500,
            headers={"X-Request-ID": reference},
        )


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value if not isinstance(value, str) or len(value) <= 200 else value[:200] + "…"
    return repr(value)[:200]


#: Routes that take files (field packages, inspection photos): a larger body limit, their own checks.
UPLOAD_PATHS = re.compile(r"^(/boundaries/(field-package|inspections/[^/]+/photos)|/addresses/batch)$")


class BodySizeLimit:
    """413 for a request body over ``max_bytes`` (by Content-Length, or counted while streaming, chunked too).

    Upload routes (:data:`UPLOAD_PATHS`) get ``upload_max_bytes`` here and check their own finer limit
    (a photo's ``max_photo_bytes``) while reading, so their 413 names that limit. Their bearer token is
    checked *before* the body is read: an upload without a valid token is a 401 at once, not after
    150 MB have come in (the role is checked by the route as usual).
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, upload_max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > 16_384:
            await self._reject(send, "query", len(scope["query_string"]), 16_384, 414)
            return
        upload = bool(UPLOAD_PATHS.match(scope.get("path", "")))
        limit = self.upload_max_bytes if upload else self.max_bytes
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._reject(send, "body", int(length), limit, 413)
            return
        if upload and scope.get("method") == "POST":
            refusal = await _token_refusal(scope, headers.get(b"authorization", b"").decode("latin-1"))
            if refusal is not None:
                await _send_json(send, 401, error_body(refusal.code, refusal.message, refusal.details))
                return
        received = 0
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # answered here: the app's own body parser would call it a 400
                    refused = True
                    await self._reject(send, "body", received, limit, 413)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:  # after a 413 the app's own answer (to a cut-off body) is dropped
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except (PayloadTooLargeError, ClientDisconnect):
            if not refused:
                raise

    @staticmethod
    async def _reject(send: Send, part: str, size: int, limit: int, status: int) -> None:
        what = "请求体" if part == "body" else "查询字符串"
        body = error_body(
            "too_large",
            f"{what}过大({size} 字节,上限 {limit})/ request {part} too large ({size} bytes, limit {limit})",
            {"field": part, "value": size, "rule": "max_size", "limit": limit},
        )
        await _send_json(send, status, body)


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    """A JSON error answer sent straight from the ASGI layer (before the app has run)."""
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _token_refusal(scope: Scope, header: str) -> GeoserviceError | None:
    """Why the bearer token of an upload is not acceptable (``None``: it is a user's token)."""
    from anyio import to_thread

    from geoservice.users import authenticate

    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return AuthenticationError(
            "上传须带登录令牌 'Authorization: Bearer <令牌>' / an upload needs 'Authorization: Bearer <token>'",
            field="Authorization",
            value=scheme or None,
        )
    try:
        await to_thread.run_sync(authenticate, scope["app"].state.store, token.strip())
    except AuthenticationError as exc:
        return exc
    return None
