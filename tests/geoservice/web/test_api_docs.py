"""/docs and /redoc from the service's own files: they render with every request to another host blocked."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.geoservice.web.browser import ARTIFACTS
from tests.geoservice.web.live_server import serve


def test_api_docs__pages_name_no_other_host(client):
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assert "/static/vendor/apidocs/" in page.text
        assert "cdn." not in page.text and "googleapis" not in page.text and "https://" not in page.text
    script = client.get("/static/vendor/apidocs/swagger-ui-bundle.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert client.get("/static/vendor/apidocs/../../../etc/passwd").status_code == 404


@pytest.mark.browser
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs__render_with_the_network_cut_off(store, tmp_path, chromium, path):
    with serve(store, tmp_path) as base:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        elsewhere: list[str] = []

        def block_other_hosts(route):
            if urlsplit(route.request.url).netloc == urlsplit(base).netloc:
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        context.route("**/*", block_other_hosts)
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}{path}")
            if path == "/docs":  # Swagger UI's operations list, with one of ours in it
                page.wait_for_selector(".opblock-summary", timeout=30_000)
                assert page.locator(".opblock").count() > 50
                assert "/collections/{collectionId}/items" in page.inner_text("#swagger-ui")
            else:  # ReDoc's menu of operations
                page.wait_for_selector("[role=menuitem], .menu-content li", timeout=30_000)
                assert "geoservice" in page.inner_text("body")
            page.screenshot(path=str(ARTIFACTS / f"api-docs{path.replace('/', '-')}.png"))
            assert elsewhere == [] and errors == []
        finally:
            context.close()
