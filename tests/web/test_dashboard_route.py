"""The dashboard SPA: hashed assets cached forever, every page path gets index.html, APIs keep their routes."""

import re

import pytest

from postmetric.web.routes import dashboard

BUILT = dashboard.DASHBOARD_DIR / "index.html"
pytestmark = pytest.mark.skipif(
    not BUILT.is_file(), reason=f"the dashboard is not built ({BUILT} is missing): run `make install`"
)

PAGES = ["/", "/login", "/signup", "/reset-password?token=abc", "/sites", "/sites/pm_abc/settings/keys",
         "/share/tok123", "/invitations/xyz"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_path_gets_index_html_revalidated_on_each_load(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert response.content == BUILT.read_bytes()


def test_hashed_assets_named_by_index_html_are_cached_for_a_year(client):
    names = re.findall(r'(?:src|href)="(/assets/[^"]+)"', BUILT.read_text())
    assert any(name.endswith(".js") for name in names) and any(name.endswith(".css") for name in names)
    for name in names:
        response = client.get(name)
        assert response.status_code == 200, name
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.content == (dashboard.DASHBOARD_DIR / name.lstrip("/")).read_bytes()
    script = next(name for name in names if name.endswith(".js"))
    assert "javascript" in client.get(script).headers["content-type"]


@pytest.mark.parametrize("path", ["/assets/nope-123.js", "/assets/%2e%2e/index.html", "/assets/"])
def test_unknown_assets_are_a_404_not_the_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert b"<div id=\"root\">" not in response.content


def test_top_level_public_files_are_served(client):
    response = client.get("/favicon.svg")
    assert response.status_code == 200 and response.content.startswith(b"<svg")


def test_api_and_tracker_paths_keep_their_routes(client):
    assert client.get("/api/health").json()["status"] == "ok"
    assert client.get("/js/script.js").headers["content-type"].startswith("application/javascript")
    for path in ("/api/v1/nothing-here", "/js/other.js", "/api"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/json"
        assert "error" in response.json()
    assert client.post("/api/v1/nothing-here", json={}).status_code == 404


def test_page_paths_refuse_other_methods(client):
    response = client.post("/login", data={"email": "a"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_a_missing_build_is_a_503_page_saying_what_to_run(client, tmp_path, monkeypatch):
    monkeypatch.setattr(dashboard, "DASHBOARD_DIR", tmp_path / "not-built")
    for path in ("/", "/sites/pm_abc", "/assets/index-abc.js"):
        response = client.get(path)
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/html")
        assert "make install" in response.text
    assert client.get("/api/health").status_code == 200


def test_api_routes_keep_their_method_errors(client):
    assert client.get("/api/v1/query").status_code == 405


def test_scripts_and_styles_go_gzipped_to_clients_that_accept_it(client):
    name = re.search(r'src="(/assets/[^"]+\.js)"', BUILT.read_text()).group(1)
    plain = (dashboard.DASHBOARD_DIR / name.lstrip("/")).read_bytes()
    gzipped = client.get(name, headers={"Accept-Encoding": "gzip, br"})
    assert gzipped.headers["content-encoding"] == "gzip"
    assert gzipped.content == plain  # httpx decodes it
    assert int(gzipped.headers["content-length"]) < len(plain) / 2
    assert gzipped.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert gzipped.headers["vary"] == "Accept-Encoding"
    assert "javascript" in gzipped.headers["content-type"]
    identity = client.get(name, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in identity.headers and identity.content == plain
