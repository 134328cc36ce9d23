"""Prometheus metrics (监控指标) of the service, served at ``GET /metrics``.

=================================================== ==========================================================
metric                                              meaning
=================================================== ==========================================================
``geoservice_http_requests_total``                  requests by method, route template and status
``geoservice_http_request_duration_seconds``        latency histogram by method and route template
``geoservice_tile_cache_requests_total``            tile cache look-ups, ``result`` = ``hit`` | ``miss``
``geoservice_analysis_duration_seconds``            siting analysis runs by outcome (``done`` | ``failed``)
``geoservice_analyses``                             stored runs by status (``queued``, ``running``): the queue
``geoservice_db_pool_connections``                  database connections by ``state`` (``size``,
                                                    ``available``, ``waiting`` requests) of the answering worker
``geoservice_schema_version``                       the database's schema version
=================================================== ==========================================================

Several uvicorn workers: ``geoservice serve --workers N`` points ``PROMETHEUS_MULTIPROC_DIR`` at an empty
folder before the workers start, so counters and histograms are summed over all workers by
prometheus-client's multiprocess mode. The gauges read at scrape time (queue, pool, schema) come from the
database or from the worker that answers the scrape: the queue is the same for every worker, the pool is
that worker's own (see ``docs/operations.md``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "geoservice_http_requests",
    "HTTP requests by method, route template and status / 按路由与状态统计的请求数",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "geoservice_http_request_duration_seconds",
    "HTTP request latency by method and route template / 请求耗时",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
TILE_CACHE = Counter(
    "geoservice_tile_cache_requests",
    "Tile cache look-ups by result (hit | miss) / 瓦片缓存命中",
    ["result"],
)
ANALYSIS_SECONDS = Histogram(
    "geoservice_analysis_duration_seconds",
    "Siting analysis run time by outcome (done | failed) / 选址分析耗时",
    ["outcome"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)

#: The label of a request no route matched (404s): unmatched paths never become label values.
UNMATCHED = "<unmatched>"


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its latency."""
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


class StoreCollector(Collector):
    """Gauges read from the app's store at scrape time: analysis queue, connection pool, schema version."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        store = getattr(self.app.state, "store", None)
        if store is None:
            return
        queue = GaugeMetricFamily(
            "geoservice_analyses", "Stored analysis runs by status / 分析队列", labels=["status"]
        )
        with store.transaction(readonly=True) as tx:
            for status in ("queued", "running"):
                queue.add_metric([status], tx.count("analyses", filters={"status": status}))
        yield queue
        pool = GaugeMetricFamily(
            "geoservice_db_pool_connections",
            "Database connections of this worker / 数据库连接池",
            labels=["state"],
        )
        for state, value in pool_state(store).items():
            pool.add_metric([state], value)
        yield pool
        yield GaugeMetricFamily(
            "geoservice_schema_version",
            "Database schema version / 数据库结构版本",
            value=store.schema_version(),
        )


def pool_state(store: Any) -> dict[str, int]:
    """Connections of ``store``: a PostgreSQL pool's size, idle ones and waiting requests; SQLite's open ones."""
    pool = getattr(store, "pool", None)
    if pool is not None:
        stats = pool.get_stats()
        return {
            "size": int(stats.get("pool_size", 0)),
            "available": int(stats.get("pool_available", 0)),
            "waiting": int(stats.get("requests_waiting", 0)),
            "max": int(getattr(pool, "max_size", 0)),
        }
    return {"size": len(getattr(store, "_all", [])) or 1}


def prepare_multiprocess() -> Path:
    """Point ``PROMETHEUS_MULTIPROC_DIR`` at an empty folder before uvicorn starts its workers.

    An operator's folder (systemd's ``RuntimeDirectory``) is used and emptied of a previous run's files;
    otherwise a new temporary one is made.
    """
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="geoservice-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


def render(app: Any) -> tuple[bytes, str]:
    """The scrape body and its content type: every worker's counters plus this worker's gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in (REQUESTS, LATENCY, TILE_CACHE, ANALYSIS_SECONDS):
            registry.register(metric)
    registry.register(StoreCollector(app))
    return generate_latest(registry), CONTENT_TYPE_LATEST
