"""Bench setup: a national-size PostGIS store (全国规模数据) of synthetic place names and roads, kept for re-runs.

Builds the schema ``bench_national`` on the test PostGIS server with the service's own migrations, then loads
``N`` place names as points (default 10,000,000) and ``R`` roads as lines (default 1,000,000) with ``COPY``:

- where: around the real seats of China's county-level divisions (``shared/data/division-seats``, ~2,900 seats),
  city districts weighted 4× a county, a seat's points normal around it with σ 2–12 km (about 1 in 8 with
  σ 40 km: the countryside between towns); seeded;
- what: a name of one or two common place-name characters plus a generic part of its category (村, 社区, 路,
  小区 …), the category as ``kind``, ``status`` approved, the seat's county code as ``division_code``,
  romanisation, and the record's timestamps; roads are 3–6-vertex polylines of 150–900 m segments near a seat
  with a ``road_class``;
- how: rows written in spatial order (a Morton key of lon/lat), so the table is physically clustered as
  ``CLUSTER`` on the GiST index would leave it, with ``fid`` a random permutation (records registered over
  years are not numbered in space order); the indexes and constraints are dropped before the ``COPY`` and
  recreated from their own definitions after it, then ``ANALYZE``.

The name tables of the name check (:mod:`geoservice.store.name_tables`) are not filled: this store serves the
items and tiles benchmarks (``bench national_tiles``), not the check.

Last, the place names' points are aggregated for low-zoom tiles as the service does it
(:func:`geoservice.store.point_cells.build`), timed on its own (``aggregate``).

Run: ``nice -n 5 .venv/bin/python -m bench national_data [N] [R]`` (replaces the schema if it exists);
``… national_data aggregate [COLLECTION …]`` runs the last step alone.
"""

from __future__ import annotations

import contextlib
import csv
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import shapely

SCHEMA = "bench_national"
SEATS = Path(
    os.environ.get("GEOSERVICE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
SEATS = SEATS / "division-seats" / "adcodes.csv"
CHUNK = 250_000
#: Place-name characters with their pinyin (a syllable each), the specific parts are drawn from.
CHARACTERS: tuple[str, ...] = (
    "东dong",
    "西xi",
    "南nan",
    "北bei",
    "中zhong",
    "新xin",
    "和he",
    "平ping",
    "安an",
    "康kang",
    "宁ning",
    "华hua",
    "兴xing",
    "福fu",
    "寿shou",
    "长chang",
    "青qing",
    "山shan",
    "水shui",
    "河he",
    "湖hu",
    "桥qiao",
    "王wang",
    "李li",
    "张zhang",
    "刘liu",
    "陈chen",
    "杨yang",
    "黄huang",
    "赵zhao",
    "周zhou",
    "吴wu",
    "金jin",
    "石shi",
    "龙long",
    "凤feng",
    "松song",
    "柳liu",
    "桃tao",
    "梅mei",
    "泉quan",
    "溪xi",
    "岭ling",
    "坪ping",
    "塘tang",
    "湾wan",
    "口kou",
)
#: Category → (generic parts, pinyin of each, weight among place names).
GENERICS = {
    "village": (("村", "庄", "湾"), ("Cun", "Zhuang", "Wan"), 0.45),
    "community": (("社区",), ("Shequ",), 0.10),
    "road": (("路", "大道"), ("Lu", "Dadao"), 0.15),
    "street": (("街", "大街"), ("Jie", "Dajie"), 0.05),
    "lane": (("巷", "里"), ("Xiang", "Li"), 0.05),
    "residential": (("小区", "花园", "新村"), ("Xiaoqu", "Huayuan", "Xincun"), 0.15),
    "building": (("大厦", "广场"), ("Dasha", "Guangchang"), 0.05),
}
ROAD_CLASSES = ("primary", "secondary", "tertiary", "residential")
NOW = "2026-01-01T00:00:00+00:00"


def seats() -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Lon, lat, 6-digit code and weight of every county-level seat (districts 4×, counties 1×)."""
    lon, lat, codes, weight = [], [], [], []
    with SEATS.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = row["adcode"]
            if code[4:6] == "00" or code[6:] != "000000" or not row["longitude"]:
                continue  # a province or a city, not a county-level division
            lon.append(float(row["longitude"]))
            lat.append(float(row["latitude"]))
            codes.append(code[:6])
            weight.append(4.0 if row["name"].endswith("区") else 1.0)
    w = np.array(weight)
    return np.array(lon), np.array(lat), codes, w / w.sum()


def scatter(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` positions clustered around the seats and the index of each one's seat."""
    s_lon, s_lat, _, weight = seats()
    seat = rng.choice(len(weight), size=n, p=weight)
    sigma_km = rng.uniform(2.0, 12.0, len(weight))[seat]
    sigma_km = np.where(rng.random(n) < 0.125, 40.0, sigma_km)
    lat = s_lat[seat] + rng.normal(0, 1, n) * sigma_km / 111.0
    lon = s_lon[seat] + rng.normal(0, 1, n) * sigma_km / (111.0 * np.cos(np.radians(s_lat[seat])))
    return np.clip(lon, 73.0, 135.5), np.clip(lat, 17.5, 53.8), seat


def morton_order(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The order of the positions along a Z curve (16 bits a coordinate): neighbours in space, neighbours on disk."""
    x = ((lon + 180.0) / 360.0 * 65535).astype(np.uint64)
    y = ((lat + 90.0) / 180.0 * 65535).astype(np.uint64)
    key = np.zeros(len(lon), dtype=np.uint64)
    for bit in range(16):
        key |= ((x >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit)
        key |= ((y >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + 1)
    return np.argsort(key, kind="stable")


def uuids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` random version-4 UUIDs (seeded)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    text = raw.tobytes().hex()
    return [
        f"{text[i : i + 8]}-{text[i + 8 : i + 12]}-{text[i + 12 : i + 16]}-{text[i + 16 : i + 20]}-{text[i + 20 : i + 32]}"
        for i in range(0, 32 * n, 32)
    ]


def placed(
    rng: np.random.Generator, n: int
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seat codes, then ``n`` clustered positions in spatial order with their seat and a random fid each."""
    _, _, codes, _ = seats()
    lon, lat, seat = scatter(rng, n)
    order = morton_order(lon, lat)
    return codes, lon[order], lat[order], seat[order], rng.permutation(n) + 1


def place_name_rows(n: int, seed: int = 17) -> Iterator[str]:
    """COPY text lines of ``n`` place names, in spatial order (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    codes, lon, lat, seat, fids = placed(rng, n)
    chars = [(c[0], c[1:]) for c in CHARACTERS]
    kinds = list(GENERICS)
    kind_of = rng.choice(len(kinds), size=n, p=[GENERICS[k][2] for k in kinds])
    first, second = rng.integers(0, len(chars), n), rng.integers(0, len(chars), n)
    one_char = rng.random(n) < 0.2
    pick = rng.integers(0, 3, n)
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        ids = uuids(rng, stop - start)
        wkb = shapely.to_wkb(
            shapely.set_srid(shapely.points(lon[start:stop], lat[start:stop]), 4490),
            hex=True,
            include_srid=True,
        )
        lines = []
        for i in range(start, stop):
            kind = kinds[kind_of[i]]
            generics, pinyins, _ = GENERICS[kind]
            g = pick[i] % len(generics)
            a, b = chars[first[i]], chars[second[i]]
            specific, spelled = (a[0], a[1].title()) if one_char[i] else (a[0] + b[0], (a[1] + b[1]).title())
            name, division = specific + generics[g], codes[seat[i]]
            props = (
                f'{{"name":"{name}","specific":"{specific}","generic":"{generics[g]}","category":"{kind}",'
                f'"kind":"{kind}","division_code":"{division}","status":"approved",'
                f'"romanized":"{spelled} {pinyins[g]}"}}'
            )
            lines.append(
                f"{fids[i]}\t{ids[i - start]}\t1\t{NOW}\t{NOW}\t\\N\t{name}\t\\N\t{kind}\tapproved\t{division}"
                f"\t\\N\t{props}\t{wkb[i - start]}\n"
            )
        yield "".join(lines)


def road_rows(n: int, seed: int = 29) -> Iterator[str]:
    """COPY text lines of ``n`` road centre lines near the seats, in spatial order."""
    rng = np.random.default_rng(seed)
    codes, lon, lat, seat, fids = placed(rng, n)
    vertices = rng.integers(3, 7, n)
    road_class = rng.choice(len(ROAD_CLASSES), size=n, p=[0.05, 0.15, 0.3, 0.5])
    chars = [c[0] for c in CHARACTERS]
    first, second = rng.integers(0, len(chars), n), rng.integers(0, len(chars), n)
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        ids = uuids(rng, stop - start)
        m = stop - start
        steps_km = rng.uniform(0.15, 0.9, (m, 5))
        heading = rng.uniform(0, 2 * np.pi, (m, 1)) + np.cumsum(rng.normal(0, 0.3, (m, 5)), axis=1)
        east = np.cumsum(steps_km * np.cos(heading), axis=1) / (
            111.0 * np.cos(np.radians(lat[start:stop, None]))
        )
        north = np.cumsum(steps_km * np.sin(heading), axis=1) / 111.0
        xs = np.column_stack([lon[start:stop], lon[start:stop, None] + east])
        ys = np.column_stack([lat[start:stop], lat[start:stop, None] + north])
        keep = np.arange(6)[None, :] < vertices[start:stop, None]  # the first 3–6 vertices of each road
        row = np.broadcast_to(np.arange(m)[:, None], keep.shape)[keep]
        geoms = shapely.linestrings(xs[keep], ys[keep], indices=row)
        wkb = shapely.to_wkb(shapely.set_srid(geoms, 4490), hex=True, include_srid=True)
        lines = []
        for i in range(start, stop):
            name = chars[first[i]] + chars[second[i]] + "路"
            cls, division = ROAD_CLASSES[road_class[i]], codes[seat[i]]
            props = f'{{"name":"{name}","road_class":"{cls}","kind":"{cls}","division_code":"{division}"}}'
            lines.append(
                f"{fids[i]}\t{ids[i - start]}\t1\t{NOW}\t{NOW}\t\\N\t{name}\t\\N\t{cls}\t\\N\t{division}"
                f"\t\\N\t{props}\t{wkb[i - start]}\n"
            )
        yield "".join(lines)


def schema_url(schema: str = SCHEMA) -> str:
    """The store URL of the bench schema on the test PostGIS server."""
    from tests.conftest import postgres_url

    return f"{postgres_url()}?options=-csearch_path%3D{schema},public"


def exists(schema: str = SCHEMA) -> int:
    """How many place names the bench schema holds (0 when it is missing)."""
    import psycopg

    from tests.conftest import postgres_url

    with psycopg.connect(postgres_url(), autocommit=True) as conn:
        if conn.execute("SELECT to_regclass(%s)", [f"{schema}.place_names"]).fetchone()[0] is None:  # type: ignore[index]
            return 0
        return int(
            conn.execute(
                f"SELECT reltuples FROM pg_class WHERE oid = '{schema}.place_names'::regclass"
            ).fetchone()[0]
        )  # type: ignore[index]


def _renice_backend(conn: object) -> None:
    """Our server process at nice 5 too, when we may (a shared machine: the index builds run there)."""
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[attr-defined]
    with contextlib.suppress(OSError):  # not ours to renice: leave it
        os.setpriority(os.PRIO_PROCESS, int(pid), 5)


def load_table(conn: object, table: str, rows: Iterator[str], n: int) -> None:
    """Drop ``table``'s indexes, COPY the rows, recreate the indexes from their definitions, set the fid sequence."""
    ex = conn.execute  # type: ignore[attr-defined]
    constraints = ex(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u')",
        [table],
    ).fetchall()
    indexes = ex(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND schemaname = current_schema() "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    ).fetchall()
    for name, _ in indexes:
        ex(f"DROP INDEX {name}")
    for name, _ in constraints:
        ex(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    columns = "fid, id, version, created_at, updated_at, key, name, code, kind, status, division_code, ref, props, geom"
    began = time.perf_counter()
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
        for chunk in rows:
            copy.write(chunk)
    print(f"{table}: COPY {n:,} rows {time.perf_counter() - began:.0f} s", flush=True)
    for name, definition in constraints:
        began = time.perf_counter()
        ex(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        print(f"{table}: {name} {time.perf_counter() - began:.0f} s", flush=True)
    for name, definition in indexes:
        began = time.perf_counter()
        ex(definition)
        print(f"{table}: {name} {time.perf_counter() - began:.0f} s", flush=True)
    ex(f"SELECT setval(pg_get_serial_sequence('{table}', 'fid'), {n})")
    began = time.perf_counter()
    ex(f"VACUUM ANALYZE {table}")
    print(f"{table}: VACUUM ANALYZE {time.perf_counter() - began:.0f} s", flush=True)


def build(n_names: int, n_roads: int, schema: str = SCHEMA) -> None:
    """(Re)build the bench schema with ``n_names`` place names and ``n_roads`` roads."""
    import psycopg

    from geoservice.store import open_store
    from tests.conftest import postgres_url

    began = time.perf_counter()
    with psycopg.connect(postgres_url(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    open_store(schema_url(schema)).close()  # the service's own tables, by its migrations
    with psycopg.connect(schema_url(schema), autocommit=True) as conn:
        _renice_backend(conn)
        conn.execute("SET maintenance_work_mem = '1GB'")
        load_table(conn, "place_names", place_name_rows(n_names), n_names)
        load_table(conn, "roads", road_rows(n_roads), n_roads)
        size = conn.execute(
            f"SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c "
            f"JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = '{schema}'"
        ).fetchone()[0]  # type: ignore[index]
    print(
        f"{schema}: {n_names:,} place names, {n_roads:,} roads, {size}, loaded in {time.perf_counter() - began:.0f} s"
    )
    aggregate(schema)


def aggregate(schema: str = SCHEMA, collections: tuple[str, ...] = ("place_names", "roads")) -> None:
    """The service's aggregation for low-zoom tiles (``geoservice tiles aggregate``) of each layer, timed."""
    from geoservice.store import open_store, point_cells

    store = open_store(schema_url(schema))  # migrates: the schema may be older than this code
    for collection in collections:
        began = time.perf_counter()
        with store.transaction(user="bench") as tx:
            _renice_backend(tx.connection)
            points = point_cells.build(tx, collection)
            tx.execute("ANALYZE point_cells")
            cells = int(
                tx.execute("SELECT COUNT(*) FROM point_cells WHERE collection = ?", [collection]).fetchone()[
                    0
                ]
            )
        print(
            f"{collection}: {points:,} records in {cells:,} cells (zooms 0–13), {time.perf_counter() - began:.0f} s"
        )
    store.close()


def main(*args: str) -> None:
    """``[N] [R]``: build the store; ``aggregate [COLLECTION …]``: only aggregate, on the store as it is."""
    if args[:1] == ("aggregate",):
        aggregate(collections=tuple(args[1:]) or ("place_names", "roads"))
        return
    build(int(args[0]) if args else 10_000_000, int(args[1]) if len(args) > 1 else 1_000_000)


if __name__ == "__main__":
    import sys

    main(*sys.argv[1:])
