"""Benchmark: ``items`` at national size (要素分页), page 1 against page 1,000 by ``offset`` and by ``cursor``, and
``bbox`` + ``limit=100`` p95 (issue 17).

Needs the store of ``bench national_data`` (10,000,000 place names in the schema ``bench_national`` of the test
PostGIS server; another schema built by :func:`bench.national_data.build` may be named). Our server runs as 2
uvicorn workers on a free loopback port, as in ``bench national_scale``, and is asked one request at a time:

- items bbox: ``…/items?limit=100&bbox=…`` for ``QUERIES`` boxes of 1–5 km around seats (the boxes of
  ``national_scale``): p50 / p95;
- paging, for the whole layer (what QGIS and GDAL walk) and inside a province's box (湖北, about 5 % of the names):
  page 1, then page 1,000 of 100 by ``offset=99900`` and by the ``cursor`` of page 999's ``next`` link, each asked
  ``REPEATS`` times in turn: p50 / p95, and the ratio offset / cursor at page 1,000 (the baseline is the offset
  page of the same run) and cursor page 1,000 / page 1.

Run: ``.venv/bin/python -m bench items_paging [QUERIES] [REPEATS] [SCHEMA]`` (defaults 200, 20, bench_national).
"""

from __future__ import annotations

import os
import time

import httpx

from bench._stats import p50_p95
from bench.national_data import SCHEMA, exists, schema_url
from bench.national_scale import _bbox, boxes
from bench.tiles import free_port
from bench.tiles_vs_tipg import start, stop, uvicorn

PAGE = 100
DEEP_PAGE = 1_000
HUBEI = (108.35, 29.03, 116.13, 33.28)  # lon/lat box of Hubei (湖北省)


def timed(client: httpx.Client, url: str) -> tuple[float, dict[str, object]]:
    """Seconds for one GET of ``url`` (its body read and decoded), and the body."""
    began = time.perf_counter()
    answer = client.get(url)
    body = answer.json()
    seconds = time.perf_counter() - began
    if answer.status_code != 200 or body.get("numberReturned") != PAGE:
        raise RuntimeError(f"{url}: {answer.status_code} {str(body)[:300]}")
    return seconds, body


def next_link(body: dict[str, object]) -> str:
    links = body["links"]
    assert isinstance(links, list)
    return str(next(link["href"] for link in links if link["rel"] == "next"))


def paging(client: httpx.Client, label: str, base: str, repeats: int) -> None:
    """Page 1, and page 1,000 by offset and by cursor, ``repeats`` times each in turn; p50 / p95 and ratios."""
    first = f"{base}&limit={PAGE}"
    deep_offset = f"{first}&offset={(DEEP_PAGE - 1) * PAGE}"
    probe = client.get(f"{first}&offset={(DEEP_PAGE - 2) * PAGE}").json()
    if probe.get("numberReturned") != PAGE:
        print(f"{label}: skipped — fewer than {DEEP_PAGE:,} pages of {PAGE}")
        return
    before, page_before = timed(client, f"{first}&offset={(DEEP_PAGE - 2) * PAGE}")
    deep_cursor = next_link(page_before)
    print(
        f"{label}: page {DEEP_PAGE - 1} by offset (to get its next link) {before * 1000:.1f} ms", flush=True
    )
    _, by_offset = timed(client, deep_offset)
    _, by_cursor = timed(client, deep_cursor)
    same = [f["id"] for f in by_offset["features"]] == [f["id"] for f in by_cursor["features"]]  # type: ignore[attr-defined,index]
    samples: dict[str, list[float]] = {"page 1": [], "offset": [], "cursor": []}
    for _ in range(repeats):
        samples["page 1"].append(timed(client, first)[0])
        samples["offset"].append(timed(client, deep_offset)[0])
        samples["cursor"].append(timed(client, deep_cursor)[0])
    figures = {key: p50_p95(values) for key, values in samples.items()}
    for key, (p50, p95) in figures.items():
        name = "page 1" if key == "page 1" else f"page {DEEP_PAGE:,} by {key}"
        print(f"{label}: {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms", flush=True)
    print(
        f"{label}: page {DEEP_PAGE:,} offset / cursor (p50) = "
        f"{figures['offset'][0] / figures['cursor'][0]:.1f}; cursor page {DEEP_PAGE:,} / page 1 (p50) = "
        f"{figures['cursor'][0] / figures['page 1'][0]:.2f}; same features by both: {same}",
        flush=True,
    )


def main(queries_text: str = "200", repeats_text: str = "20", schema: str = SCHEMA) -> None:
    queries, repeats = int(queries_text), int(repeats_text)
    names = exists(schema)
    if names == 0:
        print(f"items_paging: skipped — no {schema}; build it first: nice -n 5 python -m bench national_data")
        return
    print(f"{names:,.0f} place names in {schema}; load average {os.getloadavg()}", flush=True)
    port = free_port()
    env = {
        "GEOSERVICE_DATABASE_URL": schema_url(schema),
        "GEOSERVICE_WARM_INDEXES": "false",
        "GEOSERVICE_LOG_LEVEL": "warning",
    }
    process = start(
        uvicorn("geoservice.api:create_app", port, "--factory"), env, f"http://127.0.0.1:{port}/health"
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            urls = [f"/collections/place_names/items?limit={PAGE}&bbox={_bbox(b)}" for b in boxes(queries)]
            for url in urls[:10]:  # each worker's first requests
                client.get(url)
            seconds = []
            for url in urls:
                began = time.perf_counter()
                client.get(url).raise_for_status()
                seconds.append(time.perf_counter() - began)
            p50, p95 = p50_p95(seconds)
            print(
                f"items bbox + limit {PAGE}: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({queries} boxes)", flush=True
            )
            paging(client, "whole layer", "/collections/place_names/items?f=json", repeats)
            paging(client, "Hubei box", f"/collections/place_names/items?bbox={_bbox(HUBEI)}", repeats)
    finally:
        stop(process)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    import sys

    main(*sys.argv[1:])
