"""Search Console rows in the event store (store/search.py): whole days replaced, a site's rows deleted,
its span, and site deletion, on DuckDB and ClickHouse; other sites keep every row."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from event_stores import KINDS, open_store
from postmetric.store.search import SearchRow

SITE, OTHER = 3, 4
D1 = date(2026, 3, 1)


def row(day: date, query: str = "web analytics", *, clicks: int = 2, impressions: int = 40, position: float = 3.5,
        path: str = "/", country: str = "DE", device: str = "desktop") -> SearchRow:
    return SearchRow(day=day, query=query, page=f"https://example.com{path}", path=path, country=country,
                     device=device, clicks=clicks, impressions=impressions, position=position)


def stored(store, site_id: int) -> list[SearchRow]:
    rows = store.fetch(
        "SELECT day, query, page, path, country, device, clicks, impressions, position FROM search_console"
        f" WHERE site_id = {int(site_id)} ORDER BY day, query, path, country, device")
    return [SearchRow(**r) for r in rows]


@pytest.fixture(params=KINDS)
def store(request, tmp_path):
    store = open_store(request.param, tmp_path)
    yield store
    store.close()


def test_rows_come_back_as_written(store):
    rows = [row(D1, "postmetric", clicks=12, impressions=30, position=1.2, country="US", device="mobile"),
            row(D1, "self-hosted analytics", clicks=0, impressions=900, position=18.75, path="/docs/install",
                country="", device="tablet"),
            row(D1 + timedelta(days=1), "postmetric pricing", clicks=3, impressions=7, position=2.0, path="/pricing")]
    assert store.replace_search_rows(SITE, D1, D1 + timedelta(days=1), rows) == 3
    assert stored(store, SITE) == sorted(rows, key=lambda r: (r.day, r.query, r.path, r.country, r.device))
    assert store.search_span(SITE) == (D1, D1 + timedelta(days=1))


def test_replacing_days_keeps_the_days_outside_the_span(store):
    days = [D1 + timedelta(days=n) for n in range(5)]
    store.replace_search_rows(SITE, days[0], days[-1], [row(day, clicks=1) for day in days])
    store.replace_search_rows(SITE, days[2], days[4], [row(days[3], "new", clicks=9), row(days[4], clicks=5)])
    assert [(r.day, r.query, r.clicks) for r in stored(store, SITE)] == [
        (days[0], "web analytics", 1), (days[1], "web analytics", 1),
        (days[3], "new", 9), (days[4], "web analytics", 5)]
    assert store.search_span(SITE) == (days[0], days[4])


def test_replacing_with_no_rows_empties_the_span(store):
    store.replace_search_rows(SITE, D1, D1 + timedelta(days=1), [row(D1), row(D1 + timedelta(days=1))])
    assert store.replace_search_rows(SITE, D1 + timedelta(days=1), D1 + timedelta(days=3), []) == 0
    assert [r.day for r in stored(store, SITE)] == [D1]


def test_a_row_outside_the_span_is_refused_and_nothing_changes(store):
    store.replace_search_rows(SITE, D1, D1, [row(D1, clicks=4)])
    with pytest.raises(ValueError, match="2026-03-03 lies outside the span 2026-03-01..2026-03-02"):
        store.replace_search_rows(SITE, D1, D1 + timedelta(days=1), [row(D1), row(D1 + timedelta(days=2))])
    with pytest.raises(ValueError, match="ends before it starts"):
        store.replace_search_rows(SITE, D1 + timedelta(days=1), D1, [])
    assert [(r.day, r.clicks) for r in stored(store, SITE)] == [(D1, 4)]


def test_another_sites_rows_are_never_touched(store):
    store.replace_search_rows(OTHER, D1, D1, [row(D1, "other site", clicks=7)])
    store.replace_search_rows(SITE, D1, D1, [row(D1)])
    store.replace_search_rows(SITE, D1, D1, [row(D1, "again")])
    assert store.delete_search_rows(SITE) == 1
    assert stored(store, SITE) == [] and store.search_span(SITE) is None
    assert [(r.query, r.clicks) for r in stored(store, OTHER)] == [("other site", 7)]
    assert store.search_span(OTHER) == (D1, D1)


def test_deleting_a_site_without_rows_deletes_nothing(store):
    store.replace_search_rows(OTHER, D1, D1, [row(D1)])
    assert store.delete_search_rows(SITE) == 0
    assert len(stored(store, OTHER)) == 1


def test_a_sync_of_many_rows_goes_in_whole(store):
    """More rows than one insert statement takes (DuckDB 10,000, ClickHouse 50,000 a batch)."""
    rows = [row(D1 + timedelta(days=n % 3), f"query {n}", clicks=n % 5, impressions=5 + n % 7) for n in range(60_001)]
    assert store.replace_search_rows(SITE, D1, D1 + timedelta(days=2), rows) == 60_001
    [totals] = store.fetch(f"SELECT count(*) AS n, sum(clicks) AS clicks, sum(impressions) AS impressions"
                           f" FROM search_console WHERE site_id = {SITE}")
    assert totals == {"n": 60_001, "clicks": sum(r.clicks for r in rows),
                      "impressions": sum(r.impressions for r in rows)}


def test_site_deletion_takes_the_search_rows(store):
    store.replace_search_rows(SITE, D1, D1, [row(D1), row(D1, "b")])
    store.replace_search_rows(OTHER, D1, D1, [row(D1)])
    assert store.delete_sites([SITE]) == {SITE: 0}  # no events: the count is of events
    assert stored(store, SITE) == [] and len(stored(store, OTHER)) == 1


def test_text_is_stored_as_given(store):
    """Queries come from searchers: quotes, backslashes, newlines, any script."""
    odd = ["it's \"quoted\"", "back\\slash", "two\nlines", "日本語 アナリティクス", "emoji 📈", "'; DROP TABLE x; --"]
    store.replace_search_rows(SITE, D1, D1, [row(D1, query) for query in odd])
    assert sorted(r.query for r in stored(store, SITE)) == sorted(odd)
