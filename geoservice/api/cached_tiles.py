"""The cached-tile answer (缓存瓦片快速应答): an anonymous GET of a tile the worker holds, answered before the app.

A map page asks for hundreds of tiles, and once the worker has rendered them almost every request is the
same thing: an anonymous ``GET /tiles/{layer}/{z}/{x}/{y}.mvt`` (or ``.png``) of a cached tile. Through the
whole app such a request passes every middleware and FastAPI's router, which tries each route of every area
before it reaches the tiles; :class:`CachedTiles` sits in front of all that (the outermost middleware of
:func:`geoservice.api.app.create_app`) and answers it directly:

1. the worker catches up with every edit committed before the request arrived, by any process on any machine
   (:meth:`geoservice.tiles.feed.ChangeFeed.sync_async`: one database read shared by the requests that came in
   meanwhile, without stopping the event loop) — no stale tile after an edit;
2. the cache is asked for the tile; on a hit the answer is the one the tile routes give
   (:func:`geoservice.api.tiles.tile_status`, :func:`~geoservice.api.tiles.tile_headers`: 200 / 204 / 304,
   ETag, ``Cache-Control``, the open CORS origin) with the request id of every answer (``X-Request-ID``), and it
   is counted in the metrics and written to the access log like any other request
   (:func:`geoservice.operations.access_log.end_request`).

Anything else goes on to the app unchanged, and the tile routes answer it as documented: a miss (rendered
there), a request with a token or to a server requiring one for reads, a ``HEAD``, a request from another
web origin when ``GEOSERVICE_CORS_ORIGINS`` is set (the CORS middleware answers those), a request with a body,
or when the database does not answer (the app's 503).
"""

from __future__ import annotations

import re
import time
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from geoservice.api.tiles import FAST_ROUTES, tile_headers, tile_status
from geoservice.operations.access_log import begin_request, end_request
from geoservice.tiles.cache import TileKey
from geoservice.tiles.state import TileState

__all__ = ["ROUTES", "CachedTiles"]

#: The tile paths it answers, as the tile routes match them (layer: no slash; z, x, y: digits).
TILE_PATH: Final = re.compile(r"/tiles/([^/]+)/([0-9]+)/([0-9]+)/([0-9]+)\.(mvt|png)")
#: The route templates its answers are counted under in the metrics (those of the app's tile routes).
ROUTES: Final = {"mvt": FAST_ROUTES[0].path, "png": FAST_ROUTES[1].path}
#: Longest query string it answers (longer ones get the app's 414).
MAX_QUERY_BYTES: Final = 16_384
#: Request headers that send a request on to the app (a token; a body, which the app limits).
_TO_APP: Final = frozenset({b"authorization", b"content-length", b"transfer-encoding"})


class CachedTiles:
    """ASGI middleware: answers an anonymous GET of a cached tile; passes everything else to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not await self._answered(scope, send):
            await self.app(scope, receive, send)

    async def _answered(self, scope: Scope, send: Send) -> bool:
        """Answer the request when it is an anonymous read of a cached tile; ``False``: the app answers it."""
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        match = TILE_PATH.fullmatch(path) if path.startswith("/tiles/") else None
        if match is None or len(scope["query_string"]) > MAX_QUERY_BYTES:
            return False
        app_state = scope["app"].state
        settings = app_state.settings
        given_id, if_none_match = b"", None
        for name, value in scope["headers"]:
            if name in _TO_APP or (name == b"origin" and settings.cors_origins):
                return False
            if name == b"x-request-id":
                given_id = value
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        state: TileState | None = getattr(app_state, "tile_state", None)
        if state is None or settings.auth_required_for_reads:
            return False
        started = time.perf_counter()
        try:
            await state.feed.sync_async()
        except Exception:  # the database does not answer: the app's own path says so (503)
            return False
        layer, z, x, y, kind = match.groups()
        key: TileKey = (layer, int(z), int(x), int(y), kind)
        entry = state.cache.get(key)
        if entry is None:
            return False
        request_id = begin_request(given_id)
        status = tile_status(entry, if_none_match)
        headers = [(k.lower().encode(), v.encode()) for k, v in tile_headers(entry).items()]
        if status == 200:
            headers += [
                (b"content-length", str(len(entry.body)).encode()),
                (b"content-type", entry.media_type.encode()),
            ]
        headers.append((b"x-request-id", request_id.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body if status == 200 else b""})
        end_request(scope, ROUTES[kind], status, time.perf_counter() - started)
        return True
