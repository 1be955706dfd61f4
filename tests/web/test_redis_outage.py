"""When Redis (visits, rate limits) does not answer, ingestion says so with a 503 and acknowledges
nothing; rate limits let requests through rather than take the service down."""

from __future__ import annotations

import orjson
import pytest

from live_app import free_port


@pytest.fixture
def settings(settings):
    # Nothing listens there: every Redis call fails at once.
    return settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0",
                                       "ingest_rate_limit": "100/minute"})


def test_events_are_refused_with_503_while_redis_is_unreachable(client, site, caplog):
    response = client.post("/api/events", content=orjson.dumps(
        {"websiteId": site.public_id, "type": "pageview", "href": "https://example.com/"}))
    assert response.status_code == 503
    assert "the visit cache (Redis) did not answer" in response.json()["error"]
    assert response.headers["retry-after"] == "5"
    assert client.get("/api/health").json()["events_pending"] == 0  # nothing was acknowledged
    assert "rate limit postmetric:ratelimit:ingest: not counted, Redis is unreachable" in caplog.text
