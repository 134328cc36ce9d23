"""Imports into the store (数据导入): divisions, any vector layer, population rasters.

Each import is one transaction: a file with one bad feature imports nothing, and the error lists
every problem found (feature, field, rule). ``geoservice import divisions|layer|population``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoservice.division_areas import fill_division_polygons
from geoservice.errors import InvalidInputError, NotFoundError
from geoservice.store import COLLECTIONS, Feature, Store

#: UUIDs of imported divisions are derived from their code, so re-imports and field packages agree.
DIVISION_NAMESPACE = uuid.UUID("6f1d3c1e-6b0a-4f43-9a52-2a7f1e1d4a20")


def division_id(code: str) -> str:
    """The stable UUID of the division with (natural-length) ``code``."""
    return str(uuid.uuid5(DIVISION_NAMESPACE, str(code)))


#: Wraps an iterable to show progress (the CLI passes a progress bar); the default shows nothing.
Progress = Callable[..., Iterable[Any]]


def _quiet(iterable: Iterable[Any], **_: Any) -> Iterable[Any]:
    return iterable


def division_features(
    divisions: pd.DataFrame, geometries: dict[str, Any] | None = None, *, progress: Progress = _quiet
) -> list[Feature]:
    """Features for the ``divisions`` collection from :func:`layers.admin.read_divisions` rows.

    ``geometries`` maps a natural code to a polygon (or a seat point) where one is known.
    """
    geometries = geometries or {}
    features = []
    records = divisions.astype(object).where(divisions.notna(), None).to_dict("records")
    for row in progress(records, total=len(records), desc="行政区划 divisions"):
        code = str(row["code"])
        props: dict[str, Any] = {
            "code": code,
            "code12": str(row["code12"]),
            "name": row["name"],
            "level": row["level"],
            "kind": row["level"],
            "division_code": code,
            "parent_code": None if row["parent_code"] is None else str(row["parent_code"]),
        }
        if row.get("kind"):
            props["division_kind"] = row["kind"]
        features.append(
            Feature.new(props, geometries.get(code), id=division_id(code), key=str(row["code12"]))
        )
    return features


def import_divisions(
    store: Store,
    directory: str | Path,
    *,
    villages: bool | Iterable[str] = True,
    user: str = "import",
    progress: Progress = _quiet,
) -> int:
    """Load the division tree of ``directory`` (the JSON files of data/divisions) in one transaction.

    Divisions already stored (same 12-digit code) are left as they are; returns how many were added.
    """
    from layers.admin import read_divisions

    table = read_divisions(directory, villages=villages)
    with store.transaction(user=user) as tx:
        existing = {f.key for f in tx.iter_features("divisions")}
        new = table[~table["code12"].astype(str).isin(existing)]
        features = division_features(new, progress=progress)
        added = tx.insert_many("divisions", features, reason=f"divisions from {directory}")
        fill_division_polygons(tx)  # a city or province without a polygon: its children's union
        return added


def layer_features(frame: Any, collection: str, *, progress: Progress = _quiet) -> list[Feature]:
    """Features from a GeoDataFrame read by :func:`layers.io.read_layer`; an ``id``/``uuid`` column is kept."""
    id_column = next((c for c in ("id", "uuid") if c in frame.columns), None)
    columns = [c for c in frame.columns if c not in (frame.geometry.name, id_column)]
    if collection == "divisions" and "code" not in columns:
        raise InvalidInputError(
            "行政区划图层缺少 code 字段 / a divisions layer needs a 'code' column; "
            f"its columns are {columns}. Name the code column with --map code=COLUMN (e.g. --map code=adcode)",
            field="code",
            value=None,
            rule="required",
        )
    features = []
    # records by column name: itertuples would rename columns that are not identifiers ("开工 日期", "2020人口")
    records = frame.to_dict("records")
    for record in progress(records, total=len(frame), desc=collection):
        props = {c: _plain(record[c]) for c in columns}
        if collection == "divisions":  # a code is text (GB/T 2260), even where a web atlas gives a number
            props["code"] = _code_text(props["code"])
        feature_id = str(record[id_column]) if id_column else None
        features.append(Feature.new(props, record.get(frame.geometry.name), id=feature_id))
    return features


#: Receives the warnings about an input file (e.g. "looks like GCJ-02"); the CLI prints them to stderr.
Warn = Callable[[str], None]


def _ignore(_: str) -> None:
    return None


def parse_column_map(text: str | None) -> dict[str, str]:
    """``code=adcode,name=名称`` → ``{"code": "adcode", "name": "名称"}``; :class:`InvalidInputError` if malformed."""
    mapping: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        target, sep, source = item.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise InvalidInputError(
                f"字段映射格式错误 --map {text!r} / malformed --map {text!r}: {item!r} is not TARGET=SOURCE; "
                "expected e.g. --map code=adcode,name=名称",
                field="--map",
                value=text,
                rule="target=source",
            )
        mapping[target.strip()] = source.strip()
    return mapping


#: How far (degrees, about 5 km) around a file's bounds stored features are compared with it.
REFERENCE_MARGIN_DEG = 0.05


def reference_geometries(store: Store, collections: Sequence[str], bounds: Sequence[float]) -> Any:
    """Known CGCS2000 geometries in ``collections`` (the divisions with polygons, the target collection) around
    ``bounds`` (minx, miny, maxx, maxy) that :mod:`layers.offset_detection` compares an input file with."""
    import geopandas as gpd

    minx, miny, maxx, maxy = (float(v) for v in bounds)
    m = REFERENCE_MARGIN_DEG
    bbox = [minx - m, miny - m, maxx + m, maxy + m]
    geometries = []
    with store.transaction(readonly=True) as tx:
        for name in dict.fromkeys(collections):
            geometries += [f.geometry for f in tx.iter_features(name, bbox=bbox) if f.geometry is not None]
    return gpd.GeoSeries(geometries, crs="EPSG:4490")


def read_input_layer(
    store: Store,
    path: str | Path,
    *,
    compare_with: Sequence[str] = ("divisions",),
    layer: str | None = None,
    warn: Warn = _ignore,
    **options: Any,
) -> Any:
    """Read an input file for an import (导入文件) with :func:`layers.io.read_layer` and the user's options
    (``crs``, ``repair``, ``columns``, ``encoding``); warnings (a file that looks like GCJ-02 / BD-09 next to
    the stored ``compare_with`` features) go to ``warn``. Reads nothing into the store.
    """
    from layers.io import read_layer

    def reference(bounds: Sequence[float]) -> Any:
        return reference_geometries(store, compare_with, bounds)

    frame = read_layer(path, layer=layer, reference=reference, **options)
    for warning in frame.attrs["validation"].warnings:
        warn(warning.message)
    return frame


def import_layer(
    store: Store,
    path: str | Path,
    collection: str,
    *,
    layer: str | None = None,
    repair: bool = False,
    crs: str | None = None,
    columns: dict[str, str] | None = None,
    encoding: str | None = None,
    user: str = "import",
    progress: Progress = _quiet,
    warn: Warn = _ignore,
) -> int:
    """Read a vector file and add its features to ``collection``, in one transaction.

    Any file :func:`layers.io.read_layer` reads (GeoJSON, GeoPackage, Shapefile also zipped, KML, CSV, XLSX),
    with its options: ``crs`` (the file's true CRS, also ``gcj02`` / ``bd09``), ``repair``, ``columns``
    (``{"code": "adcode"}``), ``encoding``. Validation problems stop the import before anything is written;
    a file that looks like GCJ-02 / BD-09 next to the stored divisions is reported to ``warn``.
    """
    if collection not in COLLECTIONS:
        raise NotFoundError(
            f"未知数据集 {collection!r} / unknown collection {collection!r}; known: {', '.join(COLLECTIONS)}",
            field="collection",
            value=collection,
        )
    if collection in DOMAIN_COLLECTIONS:
        raise InvalidInputError(
            f"{collection} 的记录须经业务校验写入:{DOMAIN_COLLECTIONS[collection]} / {collection} records are "
            f"checked by their own workflow, not imported raw: {DOMAIN_COLLECTIONS[collection]}",
            field="collection",
            value=collection,
            rule="domain_collection",
        )
    frame = read_input_layer(
        store,
        path,
        compare_with=("divisions", collection),
        layer=layer,
        warn=warn,
        repair=repair,
        crs=crs,
        columns=columns,
        encoding=encoding,
    )
    if collection == "place_names":
        return _import_place_names(store, frame, source=Path(path).name, user=user)
    features = layer_features(frame, collection, progress=progress)
    with store.transaction(user=user) as tx:
        added = tx.insert_many(collection, features, reason=f"layer {Path(path).name}")
        if collection == "divisions":
            fill_division_polygons(tx)  # the parents of the imported polygons: their union
        return added


#: Collections whose records only their workflow may write, and where to go instead.
DOMAIN_COLLECTIONS = {
    "name_alternates": "geoservice names rename",
    "addresses": "geoservice roads door-plates",
    "boundary_markers": "POST /boundaries/markers",
    "inspection_rounds": "POST /boundaries/rounds",
    "marker_inspections": "geoservice markers import (field package)",
    "analyses": "geoservice siting run",
    "analysis_results": "geoservice siting run",
    "population_layers": "geoservice import population",
}


def _import_place_names(store: Store, frame: Any, *, source: str, user: str) -> int:
    """Existing names (存量地名) from a layer with ``name``, ``category``, ``division_code`` columns: each is
    checked like a new one; any refused name stops the import, listing every refusal."""
    from geoservice.gazetteer.name_import import import_names
    from geoservice.gazetteer.names import NameInput

    missing = [c for c in ("name", "category", "division_code") if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"地名图层缺少字段 {missing} / a place-name layer needs the columns name, category, division_code; "
            f"missing {missing}",
            field="columns",
            value=list(frame.columns),
            rule="required",
        )
    inputs = [
        NameInput(
            name=str(row["name"]),
            category=str(row["category"]),
            division_code=str(row["division_code"]),
            geometry=geometry,
            reason=f"存量地名入库 / existing names from {source}",
        )
        for row, geometry in zip(frame.to_dict("records"), frame.geometry, strict=True)
    ]
    # One transaction: check everything first, so a refused name leaves nothing half-imported.
    from geoservice.gazetteer.name_import import check_batch

    refused = check_batch(store, inputs)
    if refused:
        raise InvalidInputError(
            f"{len(refused)} 个地名未通过审核,未导入任何记录 / {len(refused)} names fail the check; nothing imported",
            field="name",
            value=refused[0]["name"],
            rule=refused[0]["issues"][0]["rule"] if refused[0]["issues"] else "check",
            details={"problems": refused},
        )
    result = import_names(store, inputs, status="current", user=user, reason=f"existing names from {source}")
    return sum(1 for f in result.stored if f is not None)


def register_population(
    store: Store,
    name: str,
    paths: Sequence[str | Path],
    *,
    description: str = "",
    age_group: str = "all",
    user: str = "import",
) -> Feature:
    """Register population raster(s) under ``name`` (summed bands, e.g. WorldPop 60+), with their total."""
    from layers.population import read_population

    files = [str(Path(p).resolve()) for p in paths]
    cells = read_population(files if len(files) > 1 else files[0])
    total = float(np.asarray(cells["population"], dtype=float).sum())
    props = {
        "name": name,
        "kind": "raster",
        "paths": files,
        "age_group": age_group,
        "cells": len(cells),
        "total": round(total, 1),
        "description": description,
    }
    with store.transaction(user=user) as tx:
        current = tx.find_by_key("population_layers", name)
        if current is not None:
            return tx.update("population_layers", current.id, properties=props, reason="re-registered")
        return tx.insert("population_layers", Feature.new(props, key=name))


def _code_text(value: Any) -> str | None:
    """A division code as text: 420103 and 420103.0 → '420103'."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
