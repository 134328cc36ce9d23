"""QGIS 3.22 (Debian's python3-qgis, headless) opens every public collection with its CRS and geometry type.

The probe (``qgis_probe.py``) runs under the system ``/usr/bin/python3`` against a real uvicorn server over the
Wuhan sample database, opens each public collection through the OAPIF provider, and reports the layer's
CRS, geometry type and the features it returns for a box in central Wuhan (江岸区/江汉区). QGIS 3.22 reads the
geometry type from the first page of ``items`` and requests CRS84 (it has no OGC API – Features Part 2), so
the layer CRS is EPSG:4326; CGCS2000 and WGS84 differ by less than a metre.

QGIS 3.22 predates server-side filtering in its OAPIF provider (OGC API – Features Part 3 arrived in QGIS 3.32), so
a filtered layer is filtered by QGIS itself: the filtered case checks that it gets the same features as our
CQL2 ``filter`` answers for the same condition and box.

Skips only when python3-qgis is absent and ``GEOSERVICE_REQUIRE_QGIS`` is not set (CI sets it).
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from geoservice.store import COLLECTIONS, open_store
from tests.geoservice.web.conftest import SampleDatabase
from tests.geoservice.web.live_server import serve_url

SYSTEM_PYTHON = Path("/usr/bin/python3")
PROBE = Path(__file__).with_name("qgis_probe.py")
CENTRAL_WUHAN = (114.25, 30.55, 114.32, 30.62)
#: Collections public in OGC API – Features (the map's and QGIS's layers).
PUBLIC = [c.name for c in COLLECTIONS.values() if c.public and c.geometry_type is not None]


def _qgis_available() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    found = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import qgis.core"],
        capture_output=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
        check=False,
    )
    return found.returncode == 0


@pytest.fixture(scope="module")
def qgis_or_skip() -> None:
    if _qgis_available():
        return
    if os.environ.get("GEOSERVICE_REQUIRE_QGIS"):
        pytest.fail(
            "GEOSERVICE_REQUIRE_QGIS is set but /usr/bin/python3 cannot import qgis (apt install python3-qgis)"
        )
    pytest.skip(
        "python3-qgis is not installed (apt install python3-qgis; GEOSERVICE_REQUIRE_QGIS=1 to require it)"
    )


def _seed_a_sign(path: Path) -> None:
    """One place-name sign in 江岸区 and one inspection of it: the sample has none, QGIS needs a feature."""
    from geoservice.signs.inspections import SignInspectionInput, record_sign_inspection
    from geoservice.signs.register import SignInput, register_sign

    store = open_store(path)
    try:
        with store.transaction(readonly=True) as tx:
            road = next(
                f
                for f in tx.query("place_names", filters={"category": "road"}, limit=50).features
                if f.properties.get("status") == "current"
            )
        name, romanized = road.properties["name"], road.properties["romanized"]
        sign = register_sign(
            store,
            SignInput("road_plate", road.id, name, romanized, 114.30, 30.595, installed_on=date(2023, 1, 1)),
            user="test",
        )
        record_sign_inspection(
            store,
            sign.id,
            SignInspectionInput(
                "2025-05-12T09:30:00+08:00", "江岸巡检一组", "intact", 114.30, 30.595, "EPSG:4490"
            ),
            user="test",
        )
    finally:
        store.close()


def _probe(base: str, collections: list[str]) -> dict[str, dict[str, Any]]:
    box = ",".join(str(v) for v in CENTRAL_WUHAN)
    done = subprocess.run(
        [str(SYSTEM_PYTHON), str(PROBE), base, box, *collections],
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": ""},
        timeout=600,
        check=False,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == len(collections), done.stderr[-2000:]
    return {row["collection"]: row for row in rows}


@pytest.mark.slow
def test_qgis_oapif__every_public_collection_has_crs_geometry_type_and_features_in_wuhan(
    qgis_or_skip: None, sample_db: SampleDatabase, tmp_path: Path
) -> None:
    path = sample_db.copy_to(tmp_path)
    _seed_a_sign(path)
    with serve_url(str(path), tmp_path) as base:
        seen = _probe(base, PUBLIC)
    for name in PUBLIC:
        row = seen[name]
        assert row["valid"], (name, row.get("error"))
        assert row["crs"] in ("EPSG:4326", "OGC:CRS84", "EPSG:4490"), (name, row)
        assert row["geometry_type"] == COLLECTIONS[name].item_geometry_type, (name, row)
        assert row["features_in_box"] > 0, (name, row)


@pytest.mark.slow
def test_qgis_oapif__a_filtered_layer_gets_the_features_of_the_same_cql2_filter(
    qgis_or_skip: None, sample_db: SampleDatabase, tmp_path: Path
) -> None:
    import httpx

    path = sample_db.copy_to(tmp_path)
    box = ",".join(str(v) for v in CENTRAL_WUHAN)
    with serve_url(str(path), tmp_path) as base:
        seen = _probe(base, ["place_names::\"category\" = 'road'"])
        served = httpx.get(
            f"{base}/collections/place_names/items",
            params={"bbox": box, "filter": "category = 'road'", "filter-lang": "cql2-text", "limit": 1000},
            timeout=60,
        ).json()
    row = seen["place_names::\"category\" = 'road'"]
    assert row["valid"], row.get("error")
    roads = [f for f in served["features"] if f["geometry"] is not None]
    assert served["numberMatched"] == len(served["features"]) > 0
    assert row["features_in_box"] == len(roads)
