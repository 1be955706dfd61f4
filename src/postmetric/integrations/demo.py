"""The demo site's integrations: commits and releases from GitHub, posts on X, a few notes and Search
Console keywords, so a newcomer sees the chart's markers, their cards, the Mentions list and the Keywords
tab at once (`postmetric demo`).

The integrations are shown connected and synced, with no token and `"demo": true` in their config: they
never sync on their own (`next_sync_at` is empty), and "Sync now" says the demo has nothing to fetch.
Each refresh replaces the synced annotations (their times follow the new traffic); notes someone wrote by
hand are kept.
Draws come from `random.Random(seed)`, so a seed and an end time always give the same annotations.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from postmetric.store.metadata import Annotation, Integration, Site
from postmetric.store.search import SearchRow

REPOSITORY = "postmetric-demo/app"
HANDLE = "postmetric_demo"
AUTHORS = ("ada-dev", "linus-t", "grace-h", "kenji-m")
COMMITS = (
    "Fix the signup form on Safari", "Add annual billing to the pricing page", "Speed up the docs search",
    "Send the welcome email after verification", "Show the changelog in the app", "Retry failed webhooks",
    "Tidy the onboarding checklist", "Lazy-load the screenshots on the home page", "Fix a crash on empty projects",
    "Add a dark mode to the dashboard", "Cache the pricing page", "Upgrade the payment library",
    "Track the purchase goal with revenue", "Shorten the signup form to two fields", "Fix broken links in the docs",
    "Add team invitations", "Translate the landing page to German", "Move the CTA above the fold",
)
POSTS = (
    ("indiemaker", "Sam Rivera", "Just moved our analytics to {domain} — revenue per channel in one chart."),
    ("growthnotes", "Priya Shah", "If you sell online, {domain} shows which post actually paid for itself."),
    ("devtoolsdaily", "Dev Tools Daily", "Tool of the day: {domain}. Self-hosted, fast, and it links Stripe payments."),
    ("katie_builds", "Katie Builds", "Launch week! We shipped team invitations on {domain}"),
    ("saas_founder", "Omar Haddad", "Our pricing page test: +18% signups. Measured with {domain}."),
    ("thenewstack_fan", "Lee Park", "Thread: how we cut our analytics bill to zero with {domain}"),
)
NOTES = (
    (75, "Launched on Product Hunt", "https://www.producthunt.com/"),
    (40, "Newsletter: the spring issue", None),
    (12, "New pricing: annual plans", None),
)


def install_demo_integrations(session: Session, site: Site, *, now: datetime, days: int, seed: int = 1) -> int:
    """Replace the demo site's synced annotations and connect its integrations; how many annotations."""
    rng = random.Random(f"demo integrations {seed}")
    start = now - timedelta(days=days)
    session.execute(delete(Annotation).where(Annotation.site_id == site.id, Annotation.kind.in_(("github", "x")))
                    .execution_options(synchronize_session=False))
    made = [*_commits(rng, site, start, now), *_releases(rng, site, start, now), *_posts(rng, site, start, now)]
    session.add_all(made)
    if session.scalar(select(Annotation.id).where(Annotation.site_id == site.id, Annotation.kind == "note")) is None:
        for days_ago, text, url in NOTES:
            if days_ago < days:
                session.add(Annotation(site_id=site.id, kind="note", time=_working_hour(rng, now - timedelta(
                    days=days_ago)), text=text, url=url))
    _connect(session, site, now)
    session.flush()
    return len(made)


def _commits(rng: random.Random, site: Site, start: datetime, now: datetime) -> list[Annotation]:
    commits, day = [], start
    while day < now:
        if day.weekday() < 5:
            for _ in range(rng.choice((0, 0, 1, 1, 1, 2, 3))):
                time = _working_hour(rng, day)
                if not start <= time < now:
                    continue
                sha = hashlib.sha1(f"{site.id}:{time.isoformat()}:{rng.random()}".encode()).hexdigest()
                message = rng.choice(COMMITS)
                lines = {"additions": int(rng.paretovariate(1.2) * 12), "deletions": int(rng.paretovariate(1.4) * 4)}
                commits.append(Annotation(
                    site_id=site.id, kind="github", external_id=sha, time=time, text=message,
                    author=rng.choice(AUTHORS), url=f"https://github.com/{REPOSITORY}/commit/{sha}",
                    details={"type": "commit", "sha": sha, "tag": None, **lines}))
        day += timedelta(days=1)
    return commits


def _releases(rng: random.Random, site: Site, start: datetime, now: datetime) -> list[Annotation]:
    releases, minor, time = [], 1, start + timedelta(days=9)
    while time < now:
        tag = f"v2.{minor}.0"
        released = _working_hour(rng, time)
        if released < now:
            releases.append(Annotation(
                site_id=site.id, kind="github", external_id=f"release:{1000 + minor}", time=released,
                text=f"Release {tag}", author=rng.choice(AUTHORS),
                url=f"https://github.com/{REPOSITORY}/releases/tag/{tag}",
                details={"type": "release", "tag": tag, "sha": None, "additions": None, "deletions": None}))
        minor += 1
        time += timedelta(days=rng.randint(14, 24))
    return releases


def _posts(rng: random.Random, site: Site, start: datetime, now: datetime) -> list[Annotation]:
    posts, time = [], start + timedelta(days=3)
    while time < now:
        username, name, text = rng.choice(POSTS)
        viral = rng.random() < 0.2
        likes = int(rng.paretovariate(1.1) * (400 if viral else 25))
        # A post id is a snowflake: its time is in its top bits, as X makes them.
        post_id = str(((int(time.timestamp() * 1000) - 1288834974657) << 22) + rng.randrange(1 << 22))
        posts.append(Annotation(
            site_id=site.id, kind="x", external_id=post_id, time=time, text=text.format(domain=site.domain),
            author=f"@{username}", url=f"https://x.com/{username}/status/{post_id}",
            details={"post_id": post_id, "username": username, "name": name, "likes": likes,
                     "reposts": likes // rng.randint(4, 9), "replies": likes // rng.randint(6, 15),
                     "quotes": likes // 30, "impressions": likes * rng.randint(40, 90)}))
        time += timedelta(days=rng.uniform(4, 11), hours=rng.uniform(0, 12))
    return posts


# (query, page path, daily impressions at the start, position): brand, product terms, the long tail.
KEYWORDS = (
    ("postmetric", "/", 120, 1.1), ("postmetric analytics", "/", 45, 1.3), ("postmetric login", "/login", 30, 1.2),
    ("postmetric pricing", "/pricing", 18, 1.4), ("self hosted web analytics", "/", 260, 6.5),
    ("plausible alternative", "/blog/plausible-alternative", 190, 8.2),
    ("umami vs plausible", "/blog/umami-vs-plausible", 140, 5.4),
    ("revenue analytics", "/features", 210, 9.8), ("stripe revenue attribution", "/docs/revenue", 75, 3.9),
    ("google analytics alternative", "/", 900, 17.5), ("privacy friendly analytics", "/features", 320, 11.2),
    ("cookieless analytics gdpr", "/docs/tracking/cookieless", 95, 6.1), ("duckdb analytics", "/blog/duckdb", 60, 4.4),
    ("track stripe payments per visitor", "/docs/revenue", 35, 2.8), ("open source analytics dashboard", "/", 240, 13.0),
    ("utm campaign tracking", "/docs/tracking/utm", 130, 12.4), ("funnel analysis tool", "/features", 110, 15.8),
    ("lemon squeezy analytics", "/docs/revenue/lemon-squeezy", 28, 3.2), ("web analytics api", "/docs/api", 70, 7.7),
)
SEARCH_COUNTRIES = (("US", 0.38), ("GB", 0.1), ("DE", 0.12), ("FR", 0.07), ("IN", 0.13), ("CA", 0.06), ("NL", 0.05))
SEARCH_DEVICES_SHARE = (("desktop", 0.62), ("mobile", 0.34), ("tablet", 0.04))


def demo_search_rows(site: Site, *, now: datetime, days: int, seed: int = 1) -> list[SearchRow]:
    """Search Console rows of the demo site for the days before `now` (Google reports whole days, and lags
    two): clicks fall with the position, traffic grows slowly and dips at weekends."""
    rng = random.Random(f"demo keywords {seed}")
    rows = []
    last = now.date() - timedelta(days=2)
    for age in range(days - 2, -1, -1):
        day = last - timedelta(days=age)
        rhythm = (0.7 if day.weekday() >= 5 else 1.0) * (1 + 0.4 * (days - age) / days)
        for query, path, base, position in KEYWORDS:
            for country, country_share in SEARCH_COUNTRIES:
                for device, device_share in SEARCH_DEVICES_SHARE:
                    impressions = int(rng.gauss(1, 0.25) * base * rhythm * country_share * device_share)
                    if impressions <= 0:
                        continue
                    shown_at = max(1.0, position * rng.uniform(0.85, 1.15) + (1.5 if device == "mobile" else 0))
                    ctr = min(0.6, 0.32 / shown_at ** 1.1)
                    clicks = sum(1 for _ in range(impressions) if rng.random() < ctr)
                    rows.append(SearchRow(day, query, f"https://{site.domain}{path}", path, country, device, clicks,
                                          impressions, round(shown_at, 2)))
    return rows


def _working_hour(rng: random.Random, day: datetime) -> datetime:
    return day.replace(hour=rng.randint(8, 18), minute=rng.randint(0, 59), second=rng.randint(0, 59), microsecond=0)


def _connect(session: Session, site: Site, now: datetime) -> None:
    """The three integrations shown connected, synced now, with no token and no next run."""
    configs = {"github": {"repository": REPOSITORY, "branch": "main", "demo": True},
               "x": {"query": None, "handle": HANDLE, "demo": True},  # the default query
               "search_console": {"property": f"sc-domain:{site.domain}", "demo": True}}
    stored = {row.kind: row for row in session.scalars(select(Integration).where(Integration.site_id == site.id))}
    for kind, config in configs.items():
        row = stored.get(kind) or Integration(site_id=site.id, kind=kind, cursor={}, failures=0)
        row.config, row.token, row.state, row.message = config, None, "ok", None
        row.summary, row.last_synced_at, row.last_attempt_at, row.next_sync_at = "demo data", now, now, None
        session.add(row)
