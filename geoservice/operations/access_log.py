"""Request ids and JSON logs (请求编号与结构化日志).

Every request gets an id: the caller's ``X-Request-ID`` when it is a sane token (a proxy's, so one id follows
the request through nginx and the service), otherwise a new one. The id is

* returned in the ``X-Request-ID`` response header,
* put into every error body (``request_id``, see :func:`current_request_id`),
* written in every log line made while the request runs, and in its access log line.

:class:`RequestContext` is the outermost middleware: it times the request, logs one JSON access line
(``geoservice.access``) and counts it in the metrics by route *template* (``/names/{id}``), so ids in paths
never become label values. :func:`configure_logging` makes the ``geoservice`` loggers write one JSON object
per line to stderr (journald / a log collector read it as it is).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geoservice.operations.metrics import UNMATCHED, observe_request

_REQUEST_ID: ContextVar[str | None] = ContextVar("geoservice_request_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
access_log = logging.getLogger("geoservice.access")


def current_request_id() -> str | None:
    """The id of the request being answered in this context (None outside a request)."""
    return _REQUEST_ID.get()


def begin_request(given: bytes) -> str:
    """The id of a request arriving now: the caller's ``X-Request-ID`` (``given``) when sane, else a new one.

    It becomes :func:`current_request_id` for the request's log lines and error bodies.
    """
    text = given.decode("latin-1")
    request_id = text if _SANE_ID.match(text) else uuid.uuid4().hex
    _REQUEST_ID.set(request_id)  # stays visible to the error handler outside the middleware
    return request_id


def end_request(scope: Scope, route: str, status: int, seconds: float) -> None:
    """One answered request: counted in the metrics by route template and written as one access log line."""
    observe_request(scope["method"], route, status, seconds)
    if not access_log.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    access_log.info(
        "%s %s %s",
        scope["method"],
        scope["path"],
        status,
        extra={
            "fields": {
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "client": client[0] if client else None,
            }
        },
    )


class RequestContext:
    """ASGI middleware: request id, ``X-Request-ID`` header, JSON access log line, request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = begin_request(dict(scope.get("headers", [])).get(b"x-request-id", b""))
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            end_request(scope, route, status, time.perf_counter() - started)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            line["request_id"] = request_id
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(level: str = "info", log_format: str = "json") -> None:
    """Send the ``geoservice`` loggers to stderr, one JSON object (or one plain line) per record.

    Idempotent: a second call replaces the handler it installed, never adds another.
    """
    logger = logging.getLogger("geoservice")
    for handler in [h for h in logger.handlers if getattr(h, "_geoservice", False)]:
        logger.removeHandler(handler)
    handler = _StderrHandler()
    handler._geoservice = True  # type: ignore[attr-defined]
    plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    handler.setFormatter(JsonFormatter() if log_format == "json" else plain)
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
