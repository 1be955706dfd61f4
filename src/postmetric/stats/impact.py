"""What happened around an annotation (issue 17): the numbers of its card on the chart, and the Mentions list.

1. A commit or a note (`annotation_impact`): visitors, conversion rate and revenue in the 7 days before its time
   and in the 7 days after it, the second window clipped to now (and then `partial`).
2. A post on X (`annotation_impact`): the visitors and revenue that came from X (the source "X" of
   ingest/acquisition.py: t.co, x.com and twitter referrers, utm_source x or twitter) in the 24 hours after it.
3. `mentions`: many posts with the numbers of 2, most visitors first, from one hourly query over all of them.

Everything is asked of the stats engine through the query model. Revenue counts payments made in the window
under last-touch attribution: a payment belongs to the visit that brought it (the "came from X" of a post).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from postmetric.stats.engine import StatsEngine
from postmetric.stats.parse import MAX_TIME_BUCKETS
from postmetric.stats.query import DateRange, Filter, Query

AROUND = timedelta(days=7)
AFTER_POST = timedelta(hours=24)
X_SOURCE = "X"
FROM_X = Filter("is", "visit:source", (X_SOURCE,))
# Mentions asks for one hourly series over all posts: its range must fit the engine's bucket bound.
MENTIONS_SPAN = timedelta(hours=MAX_TIME_BUCKETS - 1) - AFTER_POST
MAX_MENTION_POSTS = 200


@dataclass(frozen=True, slots=True)
class Post:
    """A post on X as the Mentions list needs it: which annotation, and when."""

    annotation_id: int
    time: datetime


def annotation_impact(engine: StatsEngine, *, site_id: int, currency: str, annotation_id: int, kind: str,
                      time: datetime, now: datetime) -> dict[str, Any]:
    """The card's numbers for one annotation of `kind` at `time` (UTC)."""
    if kind == "x":
        end = min(time + AFTER_POST, now)
        totals = _totals(engine, site_id, currency, time, end, ("visitors", "revenue"), (FROM_X,))
        return {"annotation_id": annotation_id, "window": "24h", "start": _iso(time), "end": _iso(max(end, time)),
                **totals, "currency": currency, "partial": end < time + AFTER_POST}
    metrics = ("visitors", "conversion_rate", "revenue")
    before = _totals(engine, site_id, currency, time - AROUND, min(time, now), metrics, ())
    after_end = min(time + AROUND, now)
    after = _totals(engine, site_id, currency, time, after_end, metrics, ())
    return {"annotation_id": annotation_id, "window": "7d",
            "before": {"start": _iso(time - AROUND), "end": _iso(time), **before},
            "after": {"start": _iso(time), "end": _iso(max(after_end, time)), **after},
            "currency": currency, "partial": after_end < time + AROUND}


def mentions(engine: StatsEngine, posts: list[Post], *, site_id: int, currency: str, now: datetime,
             limit: int) -> list[dict[str, Any]]:
    """The posts (at most MAX_MENTION_POSTS, the newest kept) with the visitors and revenue from X in the 24
    hours after each, most visitors first (then most revenue, then newest), at most `limit`.

    One engine query gives X's visitors and revenue per hour over all the posts; a post's window is the 24
    hours from the start of its hour, so a visitor who comes back from X in another hour of it counts again,
    and the window may begin up to an hour before the post (the card's exact numbers come from
    `annotation_impact`). Posts older than MENTIONS_SPAN before the newest one are left out of one series.
    """
    posts = sorted(posts, key=lambda post: post.time, reverse=True)[:MAX_MENTION_POSTS]
    if not posts:
        return []
    newest = _hour(posts[0].time)
    posts = [post for post in posts if _hour(post.time) >= newest - MENTIONS_SPAN]
    start = _hour(posts[-1].time)
    end = min(newest + AFTER_POST, now)
    hourly: dict[datetime, tuple[int, float]] = {}
    if end > start:
        query = Query(site_id=str(site_id), date_range=DateRange(start, end), metrics=("visitors", "revenue"),
                      dimensions=("time:hour",), filters=(FROM_X,), attribution="last_touch",
                      limit=MAX_TIME_BUCKETS)
        for row in engine.run(query, site_id=site_id, currency=currency)["results"]:
            visitors, revenue = row["metrics"]
            hourly[_label_time(row["dimensions"][0])] = (visitors or 0, revenue or 0)
    answers = []
    for post in posts:
        first = _hour(post.time)
        hours = [hourly.get(first + timedelta(hours=n), (0, 0)) for n in range(int(AFTER_POST / timedelta(hours=1)))]
        answers.append({"annotation_id": post.annotation_id, "visitors": sum(h[0] for h in hours),
                        "revenue": _money(sum(h[1] for h in hours))})
    time_of = {post.annotation_id: post.time for post in posts}
    answers.sort(key=lambda a: (-a["visitors"], -a["revenue"], -time_of[a["annotation_id"]].timestamp()))
    return answers[:limit]


def _totals(engine: StatsEngine, site_id: int, currency: str, start: datetime, end: datetime,
            metrics: tuple[str, ...], filters: tuple[Filter, ...]) -> dict[str, Any]:
    if end <= start:  # a window wholly in the future: nothing happened in it yet
        return {metric: (None if metric == "conversion_rate" else 0) for metric in metrics}
    query = Query(site_id=str(site_id), date_range=DateRange(start, end), metrics=metrics, filters=filters,
                  attribution="last_touch")
    values = engine.run(query, site_id=site_id, currency=currency)["results"][0]["metrics"]
    return dict(zip(metrics, values))


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def _label_time(label: str) -> datetime:
    """An hourly bucket's label ("2026-03-08 09:00:00", the query's time zone: UTC) as an aware datetime."""
    return datetime.fromisoformat(label).replace(tzinfo=timezone.utc)


def _money(amount: float) -> float | int:
    return round(amount, 2) if isinstance(amount, float) else amount


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
