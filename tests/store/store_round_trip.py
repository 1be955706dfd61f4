"""One event with a value in every column, and what each event store must give back for it."""

from __future__ import annotations

from factories import stored_event


def every_column_event(**fields):
    return stored_event(
        pathname="/pricing", query="utm_source=x", title='Say "hi", then\nleave — ünïcode', referrer="https://t.co/abc",
        referrer_host="t.co", source="X", channel="Organic Social", utm_source="x", utm_medium="social",
        utm_campaign="launch", utm_term="t", utm_content="c", ref="hn", click_ids='{"twclid":"1"}',
        country="DE", region="Berlin", city="Berlin", browser_version="131.0", os_version="10",
        viewport_width=1280, viewport_height=720, props={"plan": "pro"}, scroll_depth=50, engaged_ms=900, **fields,
    )


EVERY_COLUMN = {
    "site_id": 1, "type": "pageview", "name": "pageview", "hostname": "example.com", "pathname": "/pricing",
    "query": "utm_source=x", "title": 'Say "hi", then\nleave — ünïcode', "referrer": "https://t.co/abc",
    "referrer_host": "t.co", "source": "X", "channel": "Organic Social", "utm_source": "x", "utm_medium": "social",
    "utm_campaign": "launch", "utm_term": "t", "utm_content": "c", "ref": "hn",
    "click_ids": '{"twclid":"1"}', "country": "DE", "region": "Berlin", "city": "Berlin",
    "browser": "Chrome", "browser_version": "131.0", "os": "Windows", "os_version": "10",
    "device": "desktop", "viewport_width": 1280, "viewport_height": 720, "props": '{"plan":"pro"}',
    "scroll_depth": 50, "engaged_ms": 900,
}


def assert_defaults(row: dict) -> None:
    """An event with nothing optional set: empty strings, an empty props object, NULL numbers."""
    assert row["props"] == "{}" and row["title"] == "" and row["utm_term"] == ""
    assert [row[c] for c in ("scroll_depth", "engaged_ms", "viewport_width", "viewport_height")] == [None] * 4
