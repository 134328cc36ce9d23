"""Hostile files for the reliability suite and its tests (恶意文件): a GeoPackage whose layer is a huge view.

A GeoPackage is a SQLite database: its ``inspections`` layer can be a *view* of a recursive query that
yields any number of rows from a file of a few hundred kilobytes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geoservice.boundaries.packages import INSPECTION_COLUMNS
from layers.crs import CGCS2000


def geopackage_bomb(path: Path, rows: int) -> Path:
    """A field package whose ``inspections`` layer is a view of ``rows`` rows, each with a bad ``uuid``."""
    empty = gpd.GeoDataFrame(
        {c: pd.Series([], dtype=t) for c, t in INSPECTION_COLUMNS.items()},
        geometry=gpd.GeoSeries([], crs=CGCS2000),
    )
    pyogrio.write_dataframe(empty, path, layer="inspections", driver="GPKG", geometry_type="Point")
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE inspections")
        conn.execute(
            "CREATE VIEW inspections AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
            f"WHERE n < {int(rows)}) SELECT n AS fid, NULL AS geom, 'not-a-uuid-' || n AS uuid, "
            "'marker-' || n AS marker_uuid, '2024-05-01T10:00:00+08:00' AS inspected_at, 'team' AS team, "
            "'intact' AS condition, 1.0 AS accuracy_m, 'x' AS notes, '' AS photos FROM r"
        )
        conn.execute("DELETE FROM gpkg_ogr_contents WHERE table_name = 'inspections'")  # GDAL counts the rows
    return path


def bad_rows_package(path: Path, rows: int) -> Path:
    """A field package whose ``inspections`` layer holds ``rows`` real rows, every one with a bad ``uuid``."""
    frame = gpd.GeoDataFrame(
        {
            c: pd.Series([f"bad-{i}" if c == "uuid" else None for i in range(rows)], dtype=t)
            for c, t in INSPECTION_COLUMNS.items()
        },
        geometry=gpd.GeoSeries([None] * rows, crs=CGCS2000),
    )
    pyogrio.write_dataframe(frame, path, layer="inspections", driver="GPKG", geometry_type="Point")
    return path
