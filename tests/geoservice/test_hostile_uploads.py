"""Hostile bodies and files (issue 14, item 2): limits that stop early, with errors that name them.

A 464 KB GeoPackage whose ``inspections`` layer is a recursive view of 1,000,000 rows is refused (413,
rule ``max_rows``) after reading one row over the limit; a file with a problem on every row lists the
first ``upload_max_problems`` and the count; a chunked body over the limit is a 413, not a 400; an upload
without a token is refused before its body is read.
"""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

from bench._hostile import bad_rows_package, geopackage_bomb
from tests.geoservice.web.live_server import serve_url


def test_field_package__million_row_view_is_refused_naming_the_limit(client, auth, tmp_path: Path) -> None:
    bomb = geopackage_bomb(tmp_path / "bomb.gpkg", 1_000_000)
    assert bomb.stat().st_size < 1_000_000
    with bomb.open("rb") as handle:
        response = client.post(
            "/boundaries/field-package", files={"file": ("bomb.gpkg", handle)}, headers=auth["inspector"]
        )
    assert response.status_code == 413, response.text[:500]
    body = response.json()
    assert body["details"]["rule"] == "max_rows" and body["details"]["limit"] == 100_000
    assert "inspections" in body["message"] and "100000" in body["message"]
    assert len(response.content) < 10_000


def test_field_package__problems_are_the_first_hundred_and_a_count(client, auth, tmp_path: Path) -> None:
    package = bad_rows_package(tmp_path / "bad.gpkg", 250)
    with package.open("rb") as handle:
        response = client.post(
            "/boundaries/field-package", files={"file": ("bad.gpkg", handle)}, headers=auth["inspector"]
        )
    assert response.status_code == 422
    details = response.json()["details"]
    assert len(details["problems"]) == 100
    assert details["problem_count"] == 250 and details["problems_truncated"] is True
    assert "250" in response.json()["message"]


def test_body_limit__chunked_body_over_the_limit_is_413(client, auth) -> None:
    def chunks():
        for _ in range(11):
            yield b"x" * (1024 * 1024)

    response = client.post(
        "/names", content=chunks(), headers={**auth["officer"], "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["details"]["rule"] == "max_size"


def test_upload__without_a_token_is_401_before_the_body_is_read(store, tmp_path: Path) -> None:
    with serve_url(store.url, tmp_path, warm_indexes=False) as base:
        host = urlsplit(base)
        with socket.create_connection((host.hostname, host.port), timeout=30) as conn:
            conn.sendall(
                b"POST /boundaries/field-package HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 150000000\r\n\r\n"
                + b"--b\r\n"
                + b"x" * 1_000_000
            )
            # 149 MB never sent: only an answer given before the body is read arrives at all
            answer = conn.recv(65536)
            while answer.count(b"}") < 1 and (more := conn.recv(65536)):
                answer += more  # the JSON body may follow the headers in a second packet
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"unauthenticated" in answer
