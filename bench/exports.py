"""Benchmark: export 100,000 features to every format (数据导出) against ``GeoDataFrame.to_file``.

Loads N points (default 100,000, seeded) with a Chinese name, a code, an integer, a float and a flag into
``facilities`` on a throwaway SQLite file, then times :func:`geoservice.exports.export_collection` (the whole
path: the items query read twice in chunks of 5,000, typed columns, writing in chunks) for each format. Baseline
in the same process: the same records already in one GeoDataFrame (built before the clock starts) written by
``GeoDataFrame.to_file`` with the matching GDAL driver (CSV with ``GEOMETRY=AS_XY``). The ratio is what the
bounded-memory path costs over writing a frame that is already in memory; ``read ×2`` is the two passes over
the store alone. ``writer s`` is the writing alone: :func:`geoservice.exports.write_export` (both passes: the
schema, then the chunked writer) over the same rows already in memory, in chunks of 5,000, and ``w ratio`` its
ratio to ``to_file``.

Run: ``.venv/bin/python -m bench exports [N [FORMAT …]]``
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from bench._timing import median_time
from geoservice.api.features import parse_items_query, served_collection
from geoservice.exports import EXPORT_FORMATS, ExportOptions, Rows, export_collection, write_export
from geoservice.store import Feature, Store, open_store

EXTENT = (113.70, 29.97, 115.08, 31.36)  # Wuhan, lon/lat
_DRIVERS = {
    "gpkg": ("GPKG", {}),
    "shp": ("ESRI Shapefile", {"encoding": "UTF-8"}),
    "geojson": ("GeoJSON", {}),
    "csv": ("CSV", {"layer_options": {"GEOMETRY": "AS_XY"}}),
    "xlsx": ("XLSX", {}),  # no geometry in XLSX: the frame with lon/lat columns, written by pyogrio
    "kml": ("LIBKML", {}),
}


def load(store: Store, n: int, seed: int = 42) -> None:
    rng = np.random.default_rng(seed)
    points = shapely.points(rng.uniform(EXTENT[0], EXTENT[2], n), rng.uniform(EXTENT[1], EXTENT[3], n))
    beds = rng.integers(10, 300, n)
    rating = rng.uniform(1, 5, n).round(2)
    for start in range(0, n, 50_000):
        features = [
            Feature.new(
                {
                    "name": f"养老服务中心{i}",
                    "kind": "elderly_care",
                    "division_code": f"4201{i % 13 + 2:02d}",
                    "beds": int(beds[i]),
                    "rating": float(rating[i]),
                    "public": bool(i % 3 == 0),
                },
                points[i],
            )
            for i in range(start, min(start + 50_000, n))
        ]
        with store.transaction(user="bench") as tx:
            tx.insert_many("facilities", features)


def in_memory(store: Store) -> gpd.GeoDataFrame:
    """The records as one GeoDataFrame, the way a script holding all of them would write them."""
    with store.transaction(readonly=True) as tx:
        features = list(tx.iter_features("facilities"))
    rows = [{"id": f.id, **f.properties, "version": f.version, "updated_at": f.updated_at} for f in features]
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=[f.geometry for f in features], crs="EPSG:4490")


def baseline(frame: gpd.GeoDataFrame, fmt: str, path: Path) -> None:
    """``GeoDataFrame.to_file`` with the format's GDAL driver (XLSX: lon/lat columns, no geometry)."""
    driver, options = _DRIVERS[fmt]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the Shapefile's field-name truncation warnings
        if fmt == "xlsx":
            table = pd.DataFrame(frame.drop(columns="geometry")).assign(
                lon=frame.geometry.x, lat=frame.geometry.y
            )
            pyogrio.write_dataframe(table, path, driver=driver)
        else:
            frame.to_file(path, driver=driver, engine="pyogrio", **options)


def in_chunks(frame: gpd.GeoDataFrame, rows: int = 5000) -> Iterator[Rows]:
    """The frame's records as the export path gets them: property rows and geometries, ``rows`` at a time."""
    records = pd.DataFrame(frame.drop(columns="geometry")).to_dict("records")
    geometries = list(frame.geometry)
    for start in range(0, len(records), rows):
        yield records[start : start + rows], geometries[start : start + rows]


def main(n_text: str = "100000", *formats: str) -> None:
    n = int(n_text)
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as tmp:
        folder = Path(tmp)
        store = open_store(f"sqlite:///{folder / 'bench.sqlite'}")
        load(store, n)
        query = parse_items_query(served_collection("facilities"), {})

        def read_twice() -> int:
            count = 0
            with store.transaction(readonly=True) as tx:
                for _ in range(2):
                    count += sum(len(chunk) for chunk in query.chunks(tx, 5000))
            return count

        read_s, _ = median_time(read_twice, 1)
        frame = in_memory(store)
        print(f"exports: {n:,} points on SQLite; reading the query twice (two passes): {read_s:.2f} s")
        print(
            f"{'format':8} {'export s':>9} {'to_file s':>10} {'ratio':>6} {'writer s':>9} {'w ratio':>8} "
            f"{'size MB':>8}"
        )
        for fmt in formats or tuple(EXPORT_FORMATS):
            suffix = EXPORT_FORMATS[fmt][0]
            path = folder / f"export{suffix}"
            export_s, result = median_time(
                lambda fmt=fmt, path=path: export_collection(store, query, path, ExportOptions(fmt)), 1
            )
            assert result.rows == n
            base = folder / f"baseline{suffix.replace('.shp.zip', '.shp')}"
            base_s, _ = median_time(lambda fmt=fmt, base=base: baseline(frame, fmt, base), 1)
            written = folder / f"written{suffix}"
            writer_s, _ = median_time(
                lambda fmt=fmt, written=written: write_export(
                    lambda: in_chunks(frame), written, ExportOptions(fmt), layer="facilities"
                ),
                1,
            )
            size_mb = path.stat().st_size / 1e6
            print(
                f"{fmt:8} {export_s:9.2f} {base_s:10.2f} {export_s / base_s:6.2f} {writer_s:9.2f} "
                f"{writer_s / base_s:8.2f} {size_mb:8.1f}"
            )
        store.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
