"""`GET /js/script.js`: the built tracker, compressed as the client accepts, cacheable, revalidated by ETag."""

import gzip

from postmetric.web.routes.tracker import SCRIPT_DIR

BUILT = (SCRIPT_DIR / "script.js").read_bytes()


def test_the_script_is_served_plain_with_cache_headers(client):
    response = client.get("/js/script.js", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.content == BUILT
    assert response.headers["content-type"].startswith("application/javascript")
    assert "content-encoding" not in response.headers
    assert response.headers["cache-control"].startswith("public, max-age=3600")
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["etag"].startswith('"')


def test_gzip_and_brotli_are_served_to_clients_that_accept_them(client):
    gzipped = client.get("/js/script.js", headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["content-encoding"] == "gzip"
    assert gzipped.content == BUILT  # httpx decodes it: the bytes are the same script
    assert len(gzip.compress(BUILT, 9)) >= int(gzipped.headers["content-length"]) - 32
    brotli = client.get("/js/script.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert brotli.headers["content-encoding"] == "br"
    assert int(brotli.headers["content-length"]) <= int(gzipped.headers["content-length"])
    refused = client.get("/js/script.js", headers={"Accept-Encoding": "br;q=0, gzip"})
    assert refused.headers["content-encoding"] == "gzip"


def test_a_matching_etag_gets_304(client):
    etag = client.get("/js/script.js").headers["etag"]
    again = client.get("/js/script.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = client.get("/js/script.js", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
