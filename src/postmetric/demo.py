"""Demo traffic: realistic events generated inside DuckDB, written to the embedded event store.

`postmetric demo` fills one demo site with it; `bench/query.py` fills several sites with
millions of events. Generating in SQL keeps it fast (300,000 events in about a second), so
the draws run inside DuckDB, on a cursor the store lends (`DuckDBEventStore.replace_sites`, one
transaction), rather than going through ingestion.

Secondary responsibilities:
1. Refresh: the store deletes the sites' previous rows in the same transaction, and builds their
   visits and identities from the new events.
2. Determinism: draws are hashes of (seed, row), so a seed, size and end time always give
   the same events.
3. Report progress through a callback, and refuse with `EventStoreBusy` while another process
   (a running server) holds the store.

What the traffic looks like: visitors come back in later visits; a visit's attributes are
stamped on each of its events, as ingestion does; sources and channels are named by
ingestion's own `classify`; pages are Zipf-distributed; traffic follows a daily and weekly
rhythm with slow growth. Rows are stored in timestamp order, as the live store appends them,
and the data ends at `now`.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qsl, urlsplit

import duckdb
from sqlalchemy.orm import Session

from postmetric.accounts.users import create_user, get_user_by_email
from postmetric.errors import Conflict, ValidationError
from postmetric.ingest.acquisition import classify
from postmetric.ingest.pipeline import CLICK_ID_PARAMS
from postmetric.integrations.demo import demo_search_rows, install_demo_integrations
from postmetric.sites.funnels import create_funnel, list_funnels
from postmetric.sites.goals import create_goal, list_goals
from postmetric.sites.service import Rng, create_site, get_site
from postmetric.store.columns import COLUMN_NAMES
from postmetric.store.duckdb_events import DuckDBEventStore
from postmetric.store.metadata import Site

DEMO_DOMAIN = "demo.postmetric.local"
DEMO_EMAIL = "demo@postmetric.local"
DEFAULT_EVENTS = 300_000
DEFAULT_DAYS = 90

# `progress(step, done)`: called as each step starts, with the share of the work done before
# it (0 to 1), again as a long step advances, and once more as ("done", 1.0). May be called
# from another thread.
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class DemoSite:
    """A site to fill: `share` of the visitors go to it."""

    site_id: int
    hostname: str
    share: float = 1.0
    # True: pages live on <hostname>, docs.<hostname> and shop.<hostname>; False: on <hostname>.
    subdomains: bool = True
    currency: str = "USD"  # the site's: demo payments are in it


@dataclass(frozen=True)
class Generated:
    """What one site received."""

    events: int
    visitors: int
    visits: int


class EventStoreBusy(Conflict):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"the event store {path} is in use by another process (is `postmetric serve` running on "
            "this data dir?); stop the server first, then run this again"
        )
        self.path = path


# --- What the generated traffic looks like -----------------------------------------------------
# Per 10 M events: ≈ 2 M visitors, 3 M visits, 2.5 pageviews per visit.
BOUNCE_SHARE = 0.45  # visits of a single pageview
PAGEVIEWS_TAIL = 2.19  # mean of the exponential behind the pageviews of longer visits
RETURNING_SHARE = 0.25  # visitors with 2..12 visits (on average 3)
# Per pageview: chances of the events that follow it on the same page.
IDENTIFY, GOAL, OUTBOUND, ENGAGEMENT = 0.005, 0.067, 0.04, 0.2
# An identify names user `user-<n>`, n from the visitor's hash below events / this: about one
# person in three has two or more devices.
EVENTS_PER_USER_ID = 250
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
    """(weight, path, title, subdomain): Zipf-like, the home page first. A page's hostname is
    its subdomain ("", "docs." or "shop.") before the site's hostname."""
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
        subdomain = "docs." if path.startswith("/docs") else "shop." if path.startswith("/shop/") else ""
        rows.append((1 / (rank + 1) ** 1.1, path, title, subdomain))
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


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _site_draw(sites: Sequence[DemoSite]) -> str:
    """SQL: the site of visitor `v`, drawn at the sites' shares."""
    total = sum(site.share for site in sites)
    cases, acc = [], 0.0
    for site in sites[:-1]:
        acc += site.share / total
        cases.append(f"WHEN u(1, v) < {acc!r} THEN {site.site_id}")
    return f"CASE {' '.join(cases)} ELSE {sites[-1].site_id} END" if cases else str(sites[0].site_id)


def _hostname(sites: Sequence[DemoSite]) -> str:
    """SQL: the hostname of an event of site `t.site_id` on page `p`."""
    cases = [f"WHEN {site.site_id} THEN " + (f"p.subdomain || {_quoted(site.hostname)}" if site.subdomains
                                               else _quoted(site.hostname)) for site in sites]
    return f"CASE t.site_id {' '.join(cases)} END"


# Rough shares of the generation time, for the progress bar.
_STEPS = (("preparing", 0.08), ("removing old events", 0.01), ("visitors", 0.03), ("visits", 0.02),
          ("pageviews", 0.07), ("visit budgets", 0.02), ("events", 0.54), ("payments", 0.01), ("sessions", 0.22))
_POLL_SECONDS = 0.1


class _StepTracker:
    """Turns the steps done, and DuckDB's own estimate for the query running, into one share of
    the work for `progress`. The long steps are single queries, so only DuckDB knows how far
    along they are: a thread polls it (`query_progress` may be called while a query runs)."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._steps = iter(_STEPS)
        self._step, self._start, self._share, self._reported = "", 0.0, 0.0, -1.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    def advance(self) -> None:
        with self._lock:
            self._start += self._share
            self._step, self._share = next(self._steps)
            self._report(self._start, new_step=True)

    def watch(self, db: duckdb.DuckDBPyConnection) -> None:
        db.execute("SET enable_progress_bar = true")  # DuckDB tracks progress only with its bar on,
        db.execute("SET enable_progress_bar_print = false")  # drawn by us instead
        self._poller = threading.Thread(target=self._poll, args=(db,), name="demo-progress", daemon=True)
        self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join()

    def _poll(self, db: duckdb.DuckDBPyConnection) -> None:
        while not self._stop.wait(_POLL_SECONDS):
            percent = db.query_progress()  # -1 between queries
            if percent > 0:
                with self._lock:
                    self._report(self._start + self._share * min(percent, 100.0) / 100)

    def _report(self, done: float, *, new_step: bool = False) -> None:
        # A query's estimate can step back between its stages; the bar never does.
        if new_step or done >= self._reported + 0.005:
            self._reported = max(done, self._reported)
            self._progress(self._step, self._reported)


def generate(
    path: Path,
    *,
    sites: Sequence[DemoSite],
    events: int,
    now: datetime,
    days: int = DEFAULT_DAYS,
    seed: int = 1,
    progress: Progress = lambda step, done: None,
) -> dict[int, Generated]:
    """Replace the events of `sites` in the DuckDB event store at `path` with `events` new ones
    (in all, spread at the sites' shares) over the `days` days ending at `now` (UTC).

    Raises EventStoreBusy if another process has the store open.
    """
    if not sites:
        raise ValueError("no sites to fill")
    try:
        store = DuckDBEventStore(path)
    except duckdb.IOException as error:  # DuckDB allows one process per file
        if "lock" in str(error).lower():
            raise EventStoreBusy(path) from error
        raise
    tracker = _StepTracker(progress)
    tracker.advance()  # only now: a refusal leaves no half-drawn bar
    site_ids = [site.site_id for site in sites]
    counts: dict[int, Generated] = {}

    def fill(db: duckdb.DuckDBPyConnection) -> None:
        # The final sort spills to disk beyond this; unbounded it took 14 GB for 10 M events.
        db.execute("SET memory_limit = '3GB'")
        tracker.watch(db)
        _prepare(db, seed=seed, days=days, start=now.replace(tzinfo=None) - timedelta(days=days))
        tracker.advance()
        _draw(db, sites=sites, events=events, days=days, now=now.replace(tzinfo=None), advance=tracker.advance)
        tracker.advance()
        _draw_payments(db, sites=sites, now=now.replace(tzinfo=None))
        tracker.advance()
        counts.update({
            site_id: Generated(events=n, visitors=visitors, visits=visits)
            for site_id, n, visitors, visits in db.execute(
                "SELECT site_id, count(*), count(DISTINCT visitor_id), count(DISTINCT session_id) FROM events"
                " WHERE site_id IN (SELECT unnest($1)) GROUP BY site_id", [site_ids]).fetchall()
        })

    try:
        store.replace_sites(site_ids, fill)
    finally:
        tracker.stop()
        store.close()
    progress("done", 1.0)
    return {site_id: counts.get(site_id, Generated(0, 0, 0)) for site_id in site_ids}


def _prepare(db: duckdb.DuckDBPyConnection, *, seed: int, days: int, start: datetime) -> None:
    """The draw macros and the weighted tables the draws pick from."""
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
    _weighted_table(db, "pages", "path title subdomain", _pages())
    _weighted_table(db, "goals", "name", GOALS)
    # Traffic per hour of the days: a daily curve peaking mid-afternoon UTC, quieter
    # weekends, slow growth.
    hours = [start + timedelta(hours=h) for h in range(days * 24)]
    hours = [((1 + 0.8 * math.sin(2 * math.pi * (hour.hour - 9) / 24)) * (0.6 if hour.weekday() >= 5 else 1.0)
              * (1 + 0.3 * h / len(hours)), h) for h, hour in enumerate(hours)]
    _weighted_table(db, "rhythm", "hour", hours)


def _draw(db: duckdb.DuckDBPyConnection, *, sites: Sequence[DemoSite], events: int, days: int, now: datetime,
          advance: Callable[[], None]) -> None:
    """Insert exactly `events` events of `sites`, in timestamp order, over the `days` days to `now`."""
    window_us = days * 86400 * 1_000_000
    start = now - timedelta(days=days)
    visitors = int(events / EVENTS_PER_VISITOR * 1.03) + 50
    identified_users = max(1, events // EVENTS_PER_USER_ID)
    advance()
    db.execute(f"""
        CREATE TEMP TABLE drawn_visitors AS
        SELECT v.v, v.site_id, v.visitor_id, v.visits, v.gap_days, g.k AS geo, a.k AS ua,
               r.hour * 3600 + v.u_second * 3600 AS first_s
        FROM (
            SELECT v, {_site_draw(sites)} AS site_id,
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
    """, [visitors])
    advance()
    db.execute(f"""
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
    advance()
    db.execute(f"""
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
    # one cut short); a visit ending after `now` is moved back to end before it.
    advance()
    db.execute("""
        CREATE TEMP TABLE drawn_budgets AS
        SELECT * FROM (
            SELECT sid, $1 - (sum(n) OVER (ORDER BY u(31, sid) ROWS UNBOUNDED PRECEDING) - n) AS budget,
                   visit_us
            FROM (SELECT sid, sum(n) AS n, any_value(visit_us) AS visit_us FROM drawn_views GROUP BY sid)
        ) WHERE budget > 0
    """, [events])
    advance()
    db.execute(f"""
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
               {_hostname(sites)},
               p.path,
               CASE WHEN t.i = 0 THEN a.query ELSE '' END,
               p.title, ua.vw, ua.vh,
               CASE WHEN t.type = 'goal' AND g.name = 'purchase' THEN
                        CASE WHEN u(28, pid) < 0.7 THEN '{{"plan":"pro"}}' ELSE '{{"plan":"team"}}' END
                    WHEN t.type = 'goal' AND g.name = 'signup' AND u(28, pid) < 0.3 THEN '{{"plan":"pro"}}'
                    WHEN t.type = 'identify' THEN '{{"user_id":"user-' || hash(t.visitor_id) % {identified_users} || '"}}'
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
    """, [start])


# Payments: each `purchase` goal is a checkout (plan pro or team, by the goal's props) paid
# 30 s later in that visit; subscriptions renew every 30 days while they last, and a few
# purchases are refunded two days later.
PLAN_PRICES = {"pro": 2900, "team": 9900}  # minor units of the site's currency
MONTHLY_RETENTION = 0.85
REFUND_SHARE = 0.03


def _draw_payments(db: duckdb.DuckDBPyConnection, *, sites: Sequence[DemoSite], now: datetime) -> None:
    currencies = "CASE site_id " + " ".join(f"WHEN {s.site_id} THEN {_quoted(s.currency)}" for s in sites) + " END"
    prices = "CASE plan " + " ".join(f"WHEN {_quoted(k)} THEN {v}" for k, v in PLAN_PRICES.items()) + " END"
    # A draw in [0, 1) per (purchase, salt), from the purchase's own hash.
    db.execute(f"""
        INSERT INTO payments (site_id, provider, transaction_id, kind, amount, currency, reporting_amount,
                              reporting_currency, timestamp, customer_id, email, visitor_id, session_id,
                              link_method, created_at)
        WITH purchases AS (
            SELECT site_id, visitor_id, session_id, timestamp + INTERVAL 30 SECOND AS paid_at,
                   {prices} AS price, {currencies} AS currency,
                   'cus_' || substr(md5(visitor_id::VARCHAR), 1, 14) AS customer_id,
                   hash(session_id, timestamp) AS h
            FROM (SELECT *, json_extract_string(props, '$.plan') AS plan FROM events
                  WHERE site_id IN (SELECT unnest($1)) AND type = 'goal' AND name = 'purchase')
            WHERE plan IS NOT NULL
        ), charges AS (
            SELECT p.*, m, CASE WHEN m = 0 THEN 'new' ELSE 'renewal' END AS kind,
                   paid_at + to_days(30 * m) AS charged_at
            FROM purchases p, range(0, 12) r(m)
            WHERE (m = 0 OR (h % 1000003) / 1000003.0 < pow({MONTHLY_RETENTION}, m))
              AND paid_at + to_days(30 * m) < $2
        ), refunds AS (
            SELECT * REPLACE ('refund' AS kind, charged_at + INTERVAL 2 DAY AS charged_at) FROM charges
            WHERE m = 0 AND (h % 999983) / 999983.0 < {REFUND_SHARE} AND charged_at + INTERVAL 2 DAY < $2
        )
        SELECT site_id, 'stripe', 'pi_demo_' || (h % 1000000007) || '_' || m, kind, price, currency, price,
               currency, charged_at, customer_id, NULL, visitor_id, CASE WHEN m = 0 THEN session_id END,
               'metadata', charged_at
        FROM (SELECT * FROM charges UNION ALL SELECT * FROM refunds)
    """, [[s.site_id for s in sites], now])


# --- The demo site -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSetup:
    """What `set_up_demo` made: the login (password None: the account existed and kept its own)."""

    email: str
    password: str | None
    site_public_id: str
    domain: str
    generated: Generated
    annotations: int  # commits, releases and posts on the chart (integrations/demo.py)


def set_up_demo(
    session: Session,
    *,
    events_path: Path,
    email: str,
    password: str | None,
    events: int,
    days: int,
    now: datetime,
    seed: int = 1,
    progress: Progress = lambda step, done: None,
    rng: Rng = secrets,  # type: ignore[assignment]
) -> DemoSetup:
    """Create the demo account and site if missing, then replace the site's events with new ones.

    Runs in the caller's transaction, so a busy event store (EventStoreBusy) leaves no account
    behind whose random password was never shown.
    """
    if events < 1 or days < 1:
        raise ValidationError("events" if events < 1 else "days", "must be at least 1")
    user = get_user_by_email(session, email)
    if user is None:
        password = password or "".join(rng.choice(_PASSWORD_ALPHABET) for _ in range(16))
        user = create_user(session, email=email, password=password)
    else:
        password = None  # never overwrite the password of an account that exists
    site = get_site(session, DEMO_DOMAIN) or create_site(session, owner=user, domain=DEMO_DOMAIN, name="Demo")
    _define_goals_and_funnels(session, site)
    generated = generate(events_path, sites=[DemoSite(site.id, site.domain, currency=site.currency)], events=events, now=now, days=days,
                         seed=seed, progress=progress)[site.id]
    annotations = install_demo_integrations(session, site, now=now, days=days, seed=seed)
    _fill_keywords(events_path, site, now=now, days=days, seed=seed)
    return DemoSetup(email=user.email, password=password, site_public_id=site.public_id, domain=site.domain,
                     generated=generated, annotations=annotations)


def _fill_keywords(events_path: Path, site: Site, *, now: datetime, days: int, seed: int) -> None:
    rows = demo_search_rows(site, now=now, days=days, seed=seed)
    if not rows:
        return
    store = DuckDBEventStore(events_path)
    try:
        store.replace_search_rows(site.id, min(row.day for row in rows), max(row.day for row in rows), rows)
    finally:
        store.close()


# What the Goals panel and the funnel view show on a fresh demo; a refresh keeps the user's own.
DEMO_GOALS = [
    {"kind": "event", "event_name": "signup", "display_name": "Sign up"},
    {"kind": "event", "event_name": "purchase", "display_name": "Purchase"},
    {"kind": "page", "page_path": "/pricing", "display_name": "Visit pricing"},
    {"kind": "page", "page_path": "/docs/*", "display_name": "Read the docs"},
]
DEMO_FUNNEL = {"name": "Pricing to purchase", "steps": [
    {"type": "page", "match": "/pricing", "label": "Pricing"},
    {"type": "goal", "match": "signup", "label": "Sign up"},
    {"type": "goal", "match": "purchase", "label": "Purchase"},
]}


def _define_goals_and_funnels(session: Session, site: Site) -> None:
    if not list_goals(session, site):
        for goal in DEMO_GOALS:
            create_goal(session, site, goal)
    if not list_funnels(session, site):
        create_funnel(session, site, DEMO_FUNNEL)


_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I


def progress_bar(stream: TextIO, *, width: int = 30, label: str = "demo") -> Progress:
    """A Progress that draws `[#####-----]  40%  step` on `stream`: redrawn in place on a
    terminal, one line per step otherwise (logs, pipes)."""
    live = stream.isatty()
    last_step = None

    def draw(step: str, done: float) -> None:
        nonlocal last_step
        if not live and step == last_step:
            return
        last_step = step
        filled = round(done * width)
        line = f"{label}: [{'#' * filled}{'-' * (width - filled)}] {done:4.0%}  {step}"
        stream.write(f"\r{line:<{width + 40}}" + ("\n" if done >= 1 and step == "done" else "")
                     if live else line + "\n")
        stream.flush()

    return draw
