"""Stats benchmark (SPEC §12): p50 per dashboard panel query, and a whole dashboard, on N
realistic events over 90 days in the embedded DuckDB event store.

    .venv/bin/python bench/query.py                          # 1 M then 10 M events
    .venv/bin/python bench/query.py --sizes 20000 --cache-dir /tmp/pm   # a small run (CI)

The events are generated inside DuckDB (hash-seeded, so a size and seed always give the same
file) and cached as `<cache dir>/events-<size>-<seed>-<schema>.duckdb`; `--regenerate` rebuilds it.
Visitors come back in later visits; a visit's attributes are stamped on each of its events,
as ingestion does; sources and channels are named by ingestion's own `classify`. Rows are
stored in timestamp order, as the live store appends them. The data ends at NOW.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import duckdb

from postmetric.ingest.acquisition import classify
from postmetric.ingest.pipeline import CLICK_ID_PARAMS
from postmetric.stats.engine import StatsEngine
from postmetric.stats.parse import parse_query
from postmetric.store.duckdb_events import CREATE_TABLES, DuckDBEventStore
from postmetric.store.events import COLUMN_NAMES

NOW = datetime(2026, 5, 31, 18, 0, tzinfo=timezone.utc)
DAYS = 90
SITE_ID = 1
# (events up to, per-panel p50 ms, whole dashboard ms); a size uses the first row it fits.
BUDGETS = ((1_000_000, 50.0, 300.0), (math.inf, 150.0, 1000.0))
DEFAULT_CACHE = Path.home() / ".cache" / "postmetric-bench"
DATA_VERSION = 1  # bump when the generated events change

# --- What the generated traffic looks like -------------------------------------------------
# Per 10 M events: ≈ 2 M visitors, 3 M visits, 2.5 pageviews per visit.
BOUNCE_SHARE = 0.45  # visits of a single pageview
PAGEVIEWS_TAIL = 2.19  # mean of the exponential behind the pageviews of longer visits
RETURNING_SHARE = 0.25  # visitors with 2..12 visits (on average 3)
# Per pageview: chances of the events that follow it on the same page.
IDENTIFY, GOAL, OUTBOUND, ENGAGEMENT = 0.005, 0.067, 0.04, 0.2
EVENTS_PER_VISITOR = (
    (1 + RETURNING_SHARE * 2)
    * (BOUNCE_SHARE + (1 - BOUNCE_SHARE) * (2 + 1 / (math.exp(1 / PAGEVIEWS_TAIL) - 1)))
    * (1 + IDENTIFY + GOAL + OUTBOUND + ENGAGEMENT)
)

# (weight, referrer, landing query): Direct must come first.
ACQUISITION = [
    (36, "", ""),
    (20, "https://www.google.com/", ""),
    (2.5, "https://www.google.de/", ""),
    (2, "https://www.google.co.uk/", ""),
    (1, "https://www.google.fr/", ""),
    (3, "https://www.bing.com/", ""),
    (2, "https://duckduckgo.com/", ""),
    (0.6, "https://www.ecosia.org/", ""),
    (0.5, "https://search.yahoo.com/", ""),
    (0.4, "https://search.brave.com/", ""),
    (2, "https://www.google.com/",
     "utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=example&gclid=Cj0K1"),
    (1.2, "https://www.google.com/",
     "utm_source=google&utm_medium=cpc&utm_campaign=generic-analytics&utm_term=web+analytics&gclid=Cj0K2"),
    (0.5, "https://www.bing.com/", "utm_source=bing&utm_medium=cpc&utm_campaign=brand&msclkid=a1"),
    (2.5, "https://t.co/", ""),
    (2.2, "https://www.reddit.com/r/selfhosted/", ""),
    (1.8, "https://news.ycombinator.com/", ""),
    (1.5, "https://www.linkedin.com/", ""),
    (1.2, "https://l.facebook.com/", "fbclid=IwAR1"),
    (0.6, "https://m.facebook.com/",
     "utm_source=facebook&utm_medium=paid_social&utm_campaign=spring-sale&fbclid=IwAR2"),
    (0.8, "https://www.youtube.com/", ""),
    (0.5, "https://bsky.app/", ""),
    (0.4, "https://fosstodon.org/", ""),
    (0.6, "https://dev.to/", ""),
    (0.8, "https://www.producthunt.com/", "ref=producthunt"),
    (2.2, "https://chatgpt.com/", "utm_source=chatgpt.com"),
    (0.7, "https://www.perplexity.ai/", ""),
    (0.4, "https://claude.ai/", ""),
    (0.3, "https://gemini.google.com/", ""),
    (1.5, "https://github.com/", ""),
    (0.5, "https://stackoverflow.com/", ""),
    (0.3, "https://en.wikipedia.org/", ""),
    (1.8, "", "utm_source=newsletter&utm_medium=email&utm_campaign=may-2026"),
    (1.0, "", "utm_source=newsletter&utm_medium=email&utm_campaign=april-2026"),
    (0.6, "https://mail.google.com/", ""),
    (0.4, "", "utm_source=partner-blog&utm_medium=affiliate&utm_campaign=partners"),
    (0.3, "https://www.amazon.com/", ""),
]
REFERRAL_TAIL = 1500  # small blogs and forums linking in, weight 8 in all
GEO = [  # (weight, country, region, city)
    (9, "US", "California", "San Francisco"), (6, "US", "California", "Los Angeles"),
    (8, "US", "New York", "New York"), (4, "US", "Texas", "Austin"), (3, "US", "Washington", "Seattle"),
    (3, "US", "Illinois", "Chicago"), (2, "US", "Massachusetts", "Boston"), (2, "US", "Virginia", "Ashburn"),
    (4, "DE", "Berlin", "Berlin"), (2.5, "DE", "Bavaria", "Munich"), (1.5, "DE", "Hamburg", "Hamburg"),
    (5, "GB", "England", "London"), (1.2, "GB", "England", "Manchester"), (0.8, "GB", "Scotland", "Edinburgh"),
    (4, "IN", "Karnataka", "Bengaluru"), (2, "IN", "Maharashtra", "Mumbai"), (1.5, "IN", "Delhi", "New Delhi"),
    (3, "FR", "Île-de-France", "Paris"), (0.8, "FR", "Auvergne-Rhône-Alpes", "Lyon"),
    (2.5, "CA", "Ontario", "Toronto"), (1.2, "CA", "British Columbia", "Vancouver"),
    (2.2, "NL", "North Holland", "Amsterdam"), (2, "BR", "São Paulo", "São Paulo"),
    (1.5, "ES", "Madrid", "Madrid"), (1, "ES", "Catalonia", "Barcelona"), (1.4, "IT", "Lombardy", "Milan"),
    (1.5, "PL", "Mazovia", "Warsaw"), (1.3, "SE", "Stockholm", "Stockholm"), (1.2, "AU", "New South Wales", "Sydney"),
    (1, "JP", "Tokyo", "Tokyo"), (0.9, "CH", "Zurich", "Zurich"), (0.9, "AT", "Vienna", "Vienna"),
    (0.8, "SG", "Singapore", "Singapore"), (0.8, "UA", "Kyiv City", "Kyiv"), (0.7, "IE", "Leinster", "Dublin"),
    (0.7, "DK", "Capital Region", "Copenhagen"), (0.6, "FI", "Uusimaa", "Helsinki"), (0.6, "NO", "Oslo", "Oslo"),
    (0.6, "MX", "Mexico City", "Mexico City"), (0.5, "AR", "Buenos Aires F.D.", "Buenos Aires"),
    (0.5, "KR", "Seoul", "Seoul"), (0.5, "TR", "Istanbul", "Istanbul"), (0.4, "ID", "Jakarta", "Jakarta"),
    (0.4, "ZA", "Gauteng", "Johannesburg"), (0.4, "NG", "Lagos", "Lagos"), (0.4, "PT", "Lisbon", "Lisbon"),
    (0.3, "VN", "Hanoi", "Hanoi"), (0.3, "BE", "Brussels Capital", "Brussels"), (0.3, "CZ", "Prague", "Prague"),
    (0.3, "IL", "Tel Aviv", "Tel Aviv"), (1, "", "", ""),
]
TOWNS = 2000  # the long tail of smaller cities, weight 25 in all, in the regions above
UA = [  # (weight, browser, version, os, version, device, viewport width, height)
    (22, "Chrome", "131.0", "Windows", "10", "desktop", 1920, 953),
    (9, "Chrome", "131.0", "macOS", "10.15", "desktop", 1512, 862),
    (3, "Chrome", "130.0", "Windows", "10", "desktop", 1536, 730),
    (14, "Safari", "17.5", "iOS", "17.5", "mobile", 390, 664),
    (6, "Safari", "18.1", "iOS", "18.1", "mobile", 393, 659),
    (12, "Chrome", "131.0", "Android", "14", "mobile", 412, 783),
    (6, "Safari", "17.4", "macOS", "10.15", "desktop", 1440, 783),
    (5, "Edge", "131.0", "Windows", "10", "desktop", 1920, 945),
    (4, "Firefox", "132.0", "Windows", "10", "desktop", 1920, 955),
    (2, "Firefox", "132.0", "GNU/Linux", "", "desktop", 1920, 1012),
    (2, "Chrome", "131.0", "GNU/Linux", "", "desktop", 2560, 1300),
    (3, "Samsung Internet", "25.0", "Android", "14", "mobile", 384, 710),
    (2, "Safari", "17.5", "iPadOS", "17.5", "tablet", 820, 1106),
    (1, "Chrome", "131.0", "ChromeOS", "14541.0", "desktop", 1366, 625),
    (1, "Opera", "114.0", "Windows", "10", "desktop", 1920, 937),
    (1, "Chrome", "131.0", "iOS", "18.1", "mobile", 390, 664),
    (0.8, "Instagram", "355.0", "iOS", "18.1", "mobile", 390, 620),
    (0.6, "Chrome WebView", "131.0", "Android", "13", "mobile", 412, 760),
    (0.5, "Firefox", "132.0", "Android", "14", "mobile", 412, 783),
    (0.4, "DuckDuckGo", "5", "Android", "14", "mobile", 412, 783),
    (0.3, "Chrome", "131.0", "Android", "14", "tablet", 800, 1280),
]
GOALS = [(35, "signup"), (30, "newsletter"), (20, "download"), (15, "purchase")]
NAMED_PAGES = ["/", "/pricing", "/blog", "/docs", "/features", "/about", "/signup", "/login", "/contact",
               "/changelog", "/shop", "/integrations", "/careers", "/privacy", "/terms"]
PAGES = 3000
DOC_SECTIONS = ["getting-started", "tracking", "api", "self-hosting", "integrations"]


def _pages() -> list[tuple]:
    """(weight, path, title, hostname): Zipf-like, the home page first."""
    rows = []
    for rank in range(PAGES):
        if rank < len(NAMED_PAGES):
            path = NAMED_PAGES[rank]
        elif rank % 4 == 2:
            path = f"/docs/{DOC_SECTIONS[rank % 5]}/page-{rank}"
        elif rank % 4 == 3:
            path = f"/shop/product-{rank}"
        else:
            path = f"/blog/post-{rank}"
        title = (path.rstrip("/").rpartition("/")[2].replace("-", " ").capitalize() or "Home") + " · Example"
        host = "docs.example.com" if path.startswith("/docs") else "shop.example.com" if path.startswith("/shop/") \
            else "example.com"
        rows.append((1 / (rank + 1) ** 1.1, path, title, host))
    return rows


def _acquisition() -> list[tuple]:
    """(weight, referrer, referrer_host, source, channel, utm_* ×5, ref, click_ids, query)."""
    profiles = list(ACQUISITION) + [
        (8 / (i + 1) / sum(1 / (j + 1) for j in range(REFERRAL_TAIL)),
         f"https://{['blog', 'forum', 'www', 'news'][i % 4]}.site-{i}.{['net', 'io', 'org'][i % 3]}/p/{i % 7}", "")
        for i in range(REFERRAL_TAIL)
    ]
    rows = []
    for weight, referrer, query in profiles:
        params = dict(parse_qsl(query))
        host = (urlsplit(referrer).hostname or "").removeprefix("www.")
        utm = [params.get(f"utm_{key}", "") for key in ("source", "medium", "campaign", "term", "content")]
        click_ids = {k: v for k, v in params.items() if k in CLICK_ID_PARAMS}
        found = classify(referrer_host=host, utm_source=utm[0], utm_medium=utm[1], utm_campaign=utm[2],
                         ref=params.get("ref", ""), click_ids=frozenset(click_ids))
        rows.append((weight, referrer, host, found.source, found.channel, *utm, params.get("ref", ""),
                     json.dumps(click_ids, separators=(",", ":")), query))
    return rows


def _geo() -> list[tuple]:
    tail_total = sum(1 / (i + 1) for i in range(TOWNS))
    towns = [(25 / (i + 1) / tail_total, *GEO[i % (len(GEO) - 1)][1:3], f"Town {i}") for i in range(TOWNS)]
    return GEO + towns


def _weighted_table(db: duckdb.DuckDBPyConnection, name: str, columns: str, rows: list[tuple]) -> None:
    """A table to draw rows from at given odds: a uniform draw u picks the row whose [lo, lo + w)
    holds it, through an ASOF join on `lo`."""
    total = sum(row[0] for row in rows)
    lows, acc = [], 0.0
    for row in rows:
        lows.append(acc / total)
        acc += row[0]
    names = ["k", "lo"] + columns.split()
    values = [list(range(len(rows))), lows] + [list(column) for column in list(zip(*rows))[1:]]
    db.execute(f"CREATE TEMP TABLE {name} AS SELECT "
               + ", ".join(f"unnest(${i + 1}) AS {n}" for i, n in enumerate(names)), values)


def generate(path: Path, events: int, seed: int, log) -> None:
    """Write `events` events into a new event store at `path` (built aside, then renamed)."""
    started = time.perf_counter()
    building = path.with_name(path.name + ".building")
    building.unlink(missing_ok=True)
    DuckDBEventStore(building).close()  # the store's own schema
    db = duckdb.connect(str(building))
    # The final sort spills to disk beyond this; unbounded it took 14 GB for 10 M events.
    db.execute("SET memory_limit = '3GB'")
    window_us = DAYS * 86400 * 1_000_000
    start = NOW.replace(tzinfo=None) - timedelta(days=DAYS)
    # Uniform draws in [0, 1): one hash per (draw, row). DuckDB's hash(a, b, c) combines the
    # hashes of its arguments, so draws differing only in `b` would be correlated.
    stream = (seed % 32768) << 48
    db.execute(f"CREATE TEMP MACRO u(salt, id) AS hash(id * 64 + salt + {stream}) / 18446744073709551616.0")
    db.execute(f"CREATE TEMP MACRO id128(salt, id) AS printf('%016x%016x', hash(id * 64 + salt + {stream}), "
               f"hash(id * 64 + salt + 1 + {stream}))::UUID")
    _weighted_table(db, "acq", "referrer referrer_host source channel utm_source utm_medium utm_campaign "
                               "utm_term utm_content ref click_ids query", _acquisition())
    _weighted_table(db, "geo", "country region city", _geo())
    _weighted_table(db, "ua", "browser browser_version os os_version device vw vh", UA)
    _weighted_table(db, "pages", "path title hostname", _pages())
    _weighted_table(db, "goals", "name", GOALS)
    # Traffic per hour of the 90 days: a daily curve peaking mid-afternoon UTC, quieter
    # weekends, slow growth.
    hours = [start + timedelta(hours=h) for h in range(DAYS * 24)]
    hours = [((1 + 0.8 * math.sin(2 * math.pi * (hour.hour - 9) / 24)) * (0.6 if hour.weekday() >= 5 else 1.0)
              * (1 + 0.3 * h / len(hours)), h) for h, hour in enumerate(hours)]
    _weighted_table(db, "rhythm", "hour", hours)

    def step(label: str, sql: str, *params) -> None:
        t = time.perf_counter()
        db.execute(sql, list(params))
        log(f"  {label} ({time.perf_counter() - t:.1f} s)")

    visitors = int(events / EVENTS_PER_VISITOR * 1.03) + 50
    step(f"{visitors:,} visitors", f"""
        CREATE TEMP TABLE drawn_visitors AS
        SELECT v.v, v.site_id, v.visitor_id, v.visits, v.gap_days, g.k AS geo, a.k AS ua,
               r.hour * 3600 + v.u_second * 3600 AS first_s
        FROM (
            SELECT v, CASE WHEN u(1, v) < 0.95 THEN 1 WHEN u(1, v) < 0.985 THEN 2 ELSE 3 END AS site_id,
                   id128(2, v) AS visitor_id, u(4, v) AS u_geo, u(5, v) AS u_ua, u(6, v) AS u_hour,
                   u(7, v) AS u_second,
                   CASE WHEN u(8, v) < {RETURNING_SHARE}
                        THEN 2 + least(10, floor(-ln(1 - u(9, v)) / ln(2)))::INT ELSE 1 END AS visits,
                   -- a returning visitor comes back every gap_days (± 3 h), so its visits never
                   -- come within 30 minutes of each other, even wrapped around the 90 days
                   [1, 2, 3, 7, 7][1 + floor(u(10, v) * 5)::INT] AS gap_days
            FROM range($1) t(v)
        ) v
        ASOF JOIN geo g ON v.u_geo >= g.lo
        ASOF JOIN ua a ON v.u_ua >= a.lo
        ASOF JOIN rhythm r ON v.u_hour >= r.lo
    """, visitors)
    step("visits", f"""
        CREATE TEMP TABLE drawn_visits AS
        SELECT s.*, a.k AS acq FROM (
            SELECT v.v * 16 + j AS sid, v.site_id, v.visitor_id, v.geo, v.ua, j,
                   (((v.first_s + j * v.gap_days * 86400
                       + CASE WHEN j > 0 THEN (u(11, v.v * 16 + j) - 0.5) * 21600 ELSE 0 END) * 1e6)::BIGINT
                     % {window_us} + {window_us}) % {window_us} AS start_us,
                   CASE WHEN u(12, v.v * 16 + j) < {BOUNCE_SHARE} THEN 1
                        ELSE 2 + least(28, floor(-ln(1 - u(13, v.v * 16 + j)) * {PAGEVIEWS_TAIL}))::INT
                   END AS pageviews,
                   -- half of the later visits come back directly (Direct is the first profile)
                   CASE WHEN j > 0 AND u(14, v.v * 16 + j) < 0.5 THEN 0.0 ELSE u(15, v.v * 16 + j) END AS u_acq
            FROM drawn_visitors v, range(v.visits) r(j)
        ) s
        ASOF JOIN acq a ON s.u_acq >= a.lo
    """)
    # Per pageview: the page, seconds on it (under the 30-minute visit timeout), and which
    # events follow it on the same page: identify, goal, outbound, engagement, in that order.
    step("pageviews", f"""
        CREATE TEMP TABLE drawn_views AS
        SELECT v.*, p.k AS page,
               (sum(dwell_us) OVER w - dwell_us)::BIGINT AS offset_us,
               sum(n) OVER w - n AS seq,
               (sum(dwell_us) OVER (PARTITION BY v.sid))::BIGINT AS visit_us,
               first_value(p.k) OVER w AS entry
        FROM (
            SELECT s.sid, i, s.sid * 32 + i AS pid,
                   ((3 + least(1200, -ln(1 - u(20, s.sid * 32 + i)) * 45)) * 1e6)::BIGINT AS dwell_us,
                   u(21, s.sid * 32 + i) < {IDENTIFY} AS identify,
                   u(22, s.sid * 32 + i) < {GOAL} AS goal,
                   u(23, s.sid * 32 + i) < {OUTBOUND} AS outbound,
                   u(24, s.sid * 32 + i) < {ENGAGEMENT} AS engagement,
                   1 + identify::INT + goal::INT + outbound::INT + engagement::INT AS n,
                   u(25, s.sid * 32 + i) AS u_page
            FROM drawn_visits s, range(s.pageviews) r(i)
        ) v
        ASOF JOIN pages p ON v.u_page >= p.lo
        WINDOW w AS (PARTITION BY v.sid ORDER BY v.i)
    """)
    # Exactly `events` events: visits in a random order until the count is reached (the last
    # one cut short); a visit ending after NOW is moved back to end before it.
    step("visit budgets", f"""
        CREATE TEMP TABLE drawn_budgets AS
        SELECT * FROM (
            SELECT sid, $1 - (sum(n) OVER (ORDER BY u(31, sid) ROWS UNBOUNDED PRECEDING) - n) AS budget,
                   visit_us
            FROM (SELECT sid, sum(n) AS n, any_value(visit_us) AS visit_us FROM drawn_views GROUP BY sid)
        ) WHERE budget > 0
    """, events)
    log("  writing the events in timestamp order ...")
    step("events", f"""
        INSERT INTO events ({', '.join(COLUMN_NAMES)})
        WITH e AS (
            SELECT v.*, b.budget, s.site_id, s.visitor_id, s.geo, s.ua, s.acq,
                   least(s.start_us, {window_us} - b.visit_us - 1) AS visit_start_us,
                   unnest(list_concat(['pageview'], CASE WHEN identify THEN ['identify'] ELSE [] END,
                                      CASE WHEN goal THEN ['goal'] ELSE [] END,
                                      CASE WHEN outbound THEN ['outbound'] ELSE [] END,
                                      CASE WHEN engagement THEN ['engagement'] ELSE [] END)) AS type,
                   unnest(range(n)) AS sub
            FROM drawn_views v JOIN drawn_budgets b USING (sid) JOIN drawn_visits s USING (sid)
        ), timed AS (
            SELECT *, visit_start_us + offset_us + CASE type
                   WHEN 'pageview' THEN 0 WHEN 'identify' THEN 1000000
                   WHEN 'goal' THEN least(dwell_us - 2000000, ((2 + u(26, pid) * 20) * 1e6)::BIGINT)
                   WHEN 'outbound' THEN dwell_us - 1000000 ELSE dwell_us - 200000 END AS t_us,
                   u(27, pid) AS u_goal
            FROM e WHERE seq + sub < budget
        )
        SELECT t.site_id,
               make_timestamp(epoch_us($1::TIMESTAMP) + t_us::BIGINT),
               t.type,
               CASE WHEN t.type = 'goal' THEN g.name ELSE t.type END,
               CASE t.site_id WHEN 1 THEN p.hostname WHEN 2 THEN 'shop.example.org' ELSE 'example.net' END,
               p.path,
               CASE WHEN t.i = 0 THEN a.query ELSE '' END,
               p.title, ua.vw, ua.vh,
               CASE WHEN t.type = 'goal' AND g.name = 'purchase' THEN
                        CASE WHEN u(28, pid) < 0.7 THEN '{{"plan":"pro"}}' ELSE '{{"plan":"team"}}' END
                    WHEN t.type = 'goal' AND g.name = 'signup' AND u(28, pid) < 0.3 THEN '{{"plan":"pro"}}'
                    WHEN t.type = 'outbound' THEN '{{"url":"https://github.com/example/' || (pid % 7) || '"}}'
                    ELSE '{{}}' END,
               CASE WHEN t.type = 'engagement' THEN least(100, floor(sqrt(u(29, pid)) * 101))::UTINYINT END,
               CASE WHEN t.type = 'engagement' THEN (dwell_us * (0.5 + u(30, pid) * 0.5) / 1000)::UINTEGER END,
               t.visitor_id,
               id128(40, t.sid),
               make_timestamp(epoch_us($1::TIMESTAMP) + visit_start_us::BIGINT),
               entry.path, a.referrer, a.referrer_host, a.source, a.channel, a.utm_source, a.utm_medium,
               a.utm_campaign, a.utm_term, a.utm_content, a.ref, a.click_ids,
               geo.country, geo.region, geo.city,
               ua.browser, ua.browser_version, ua.os, ua.os_version, ua.device
        FROM timed t
        JOIN pages p ON p.k = t.page
        JOIN pages entry ON entry.k = t.entry
        JOIN acq a ON a.k = t.acq
        JOIN geo ON geo.k = t.geo
        JOIN ua ON ua.k = t.ua
        ASOF JOIN goals g ON t.u_goal >= g.lo
        ORDER BY t_us
    """, start)
    db.close()
    t = time.perf_counter()
    store = DuckDBEventStore(building)
    store.rebuild_sessions()  # the store's derived tables, which its `load` keeps up to date
    store.close()
    log(f"  sessions table ({time.perf_counter() - t:.1f} s)")
    with duckdb.connect(str(building)) as db:
        db.execute("""
            CREATE TABLE bench_data AS
            SELECT count(*) AS events, count(DISTINCT visitor_id) AS visitors, count(DISTINCT session_id) AS visits,
                   $2::DOUBLE AS generation_s
            FROM events WHERE site_id = $1
        """, [SITE_ID, time.perf_counter() - started])
    building.rename(path)


# --- The dashboard's queries (SPEC §5) --------------------------------------------------------
HEADLINE = ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration"]


def _query(**fields) -> dict:
    return {"site_id": "bench.example", "date_range": "30d", **fields}


def _breakdown(dimension: str, metrics: tuple[str, ...] = ("visitors",), **fields) -> dict:
    return _query(metrics=list(metrics), dimensions=[dimension], pagination={"limit": 10}, **fields)


# (name, query, loaded by the default dashboard view)
PANELS = [
    ("headline", _query(metrics=HEADLINE, include={"comparison": "previous_period"}), True),
    ("main chart", _query(metrics=["visitors", "pageviews"], dimensions=["time:day"],
                          include={"time_labels": True}), True),
    ("channels", _breakdown("visit:channel"), True),
    ("sources", _breakdown("visit:source"), False),
    ("campaigns", _breakdown("visit:utm_campaign"), False),
    ("referrers", _breakdown("visit:referrer"), False),
    ("pages", _breakdown("event:page", ("visitors", "pageviews")), True),
    ("entry pages", _breakdown("visit:entry_page", ("visitors", "bounce_rate")), False),
    ("exit pages", _breakdown("visit:exit_page"), False),
    ("hostnames", _breakdown("event:hostname"), False),
    ("countries", _breakdown("visit:country"), True),
    ("regions", _breakdown("visit:region"), False),
    ("cities", _breakdown("visit:city"), False),
    ("browsers", _breakdown("visit:browser"), True),
    ("operating systems", _breakdown("visit:os"), False),
    ("devices", _breakdown("visit:device"), False),
    ("goals", _breakdown("event:goal", ("visitors", "events")), False),
    ("pages, source Google", _breakdown("event:page", ("visitors", "pageviews"),
                                        filters=[["is", "visit:source", ["Google"]]]), False),
    ("headline, country US", _query(metrics=HEADLINE, include={"comparison": "previous_period"},
                                    filters=[["is", "visit:country", ["US"]]]), False),
    ("realtime visitors", _query(metrics=["visitors"], date_range="realtime"), True),
    ("realtime pages", _breakdown("event:page", date_range="realtime"), False),
    ("headline, all time", _query(metrics=HEADLINE, include={"comparison": "previous_period"}, date_range="all"),
     False),
    ("main chart, all time", _query(metrics=["visitors", "pageviews"], dimensions=["time:day"],
                                    include={"time_labels": True}, date_range="all"), False),
]


def measure(engine: StatsEngine, raw: dict, runs: int) -> tuple[list[float], dict]:
    """Milliseconds of `runs` runs after one warm-up (parsing included), and the last answer."""
    def run() -> dict:
        return engine.run(parse_query(raw, site_timezone="UTC", now=NOW), site_id=SITE_ID, currency="USD")

    response = run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = run()
        times.append((time.perf_counter() - started) * 1000)
    return times, response


def summary(raw: dict, response: dict) -> str:
    """The answer in a few words, to see that it makes sense."""
    results = response["results"]
    if not raw.get("dimensions"):
        return ", ".join(f"{m} {v:,}" for m, v in zip(raw["metrics"], results[0]["metrics"]))
    if not results:
        return "no rows"
    first = results[0]
    return (f"{len(results)} rows; first {' / '.join(map(str, first['dimensions'])) or '(none)'}: "
            + ", ".join(f"{m} {v:,}" for m, v in zip(raw["metrics"], first["metrics"])))


def budget(events: int) -> tuple[float, float]:
    return next((panel, dashboard) for limit, panel, dashboard in BUDGETS if events <= limit)


def machine() -> str:
    info = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
               platform.processor())
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    return (f"{os.cpu_count()} cores, {cpu}, {memory / 1024 ** 2:.1f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, DuckDB {duckdb.__version__}")


def bench(path: Path, size: int, runs: int, generated_now: bool) -> bool:
    """Print one size's figures; False if a query failed."""
    panel_budget, dashboard_budget = budget(size)
    with duckdb.connect(str(path), read_only=True) as db:
        events, visitors, visits, generation_s = db.execute("FROM bench_data").fetchone()
    print(f"\n== {size:,} events over {DAYS} days to {NOW:%Y-%m-%d %H:%M} UTC; site {SITE_ID}: {events:,} events, "
          f"{visitors:,} visitors, {visits:,} visits")
    print(f"data: {path} ({path.stat().st_size / 1e6:,.0f} MB), generated in {generation_s:,.1f} s"
          + ("" if generated_now else " (cached)"))
    started = time.perf_counter()
    store = DuckDBEventStore(path)
    print(f"store opened in {(time.perf_counter() - started) * 1000:,.0f} ms; p50/min/max of {runs} runs after "
          f"one warm-up; budget p50 <= {panel_budget:.0f} ms per panel, whole dashboard <= "
          f"{dashboard_budget:,.0f} ms (* = on the default dashboard view)", flush=True)
    print(f"  {'panel':<24} {'p50 ms':>8} {'min ms':>8} {'max ms':>8}  {'budget':<6}  result")
    engine = StatsEngine(store)
    dashboard, ok = 0.0, True
    try:
        for name, raw, on_dashboard in PANELS:
            label = ("* " if on_dashboard else "  ") + name
            try:
                times, response = measure(engine, raw, runs)
            except Exception as exc:  # a report, not a crash: the row says what went wrong
                print(f"  {label:<24} {'-':>8} {'-':>8} {'-':>8}  {'ERROR':<6}  {type(exc).__name__}: {exc}",
                      flush=True)
                ok = False
                continue
            p50 = statistics.median(times)
            dashboard += p50 if on_dashboard else 0.0
            print(f"  {label:<24} {p50:8.1f} {min(times):8.1f} {max(times):8.1f}  "
                  f"{'ok' if p50 <= panel_budget else 'MISSED':<6}  {summary(raw, response)}", flush=True)
    finally:
        store.close()
    print(f"  {'whole dashboard (sum of * p50s)':<42} {dashboard:8.1f} ms  "
          f"{'ok' if ok and dashboard <= dashboard_budget else 'MISSED'} (budget {dashboard_budget:,.0f} ms)")
    return ok


def cache_key() -> str:
    """Names the store's schema and the generator's version: a cached file made for another
    schema (a derived table it lacks, say) is never reused."""
    return hashlib.sha256(repr((DATA_VERSION, CREATE_TABLES)).encode()).hexdigest()[:8]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="event counts, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per panel, after one warm-up")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--regenerate", action="store_true", help="rebuild cached event stores")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    ok = True
    for size in (int(s.replace("_", "")) for s in args.sizes.split(",")):
        path = args.cache_dir / f"events-{size}-{args.seed}-{cache_key()}.duckdb"
        generated_now = args.regenerate or not path.exists()
        if generated_now:
            print(f"generating {size:,} events into {path} ...", file=sys.stderr, flush=True)
            generate(path, size, args.seed, lambda line: print(line, file=sys.stderr, flush=True))
        ok = bench(path, size, args.runs, generated_now) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
