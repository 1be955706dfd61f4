"""The X integration (issue 17): posts that mention the site, from X's recent search, as annotations.

A connected site has a search query (by default its domain as text or link, and its @handle) and
an X API bearer token. Each sync asks `GET /2/tweets/search/recent` for the posts newer than the
newest one seen (`since_id`), following `next_token` for at most `MAX_PAGES` pages a run (the
rest on the next run), and stores each post as an `x` annotation: its id, author, text, link and
public metrics. Once a day a sweep asks without `since_id` for the whole 7-day window X searches,
so the metrics of the week's posts are brought up to date (a known post is updated, not doubled).

Secondary responsibilities:
1. `parse_config`: the connect body (`query`, `handle`, `token`), validated once.
2. `parse_post_url` and `hand_added_post`: a post added by its URL, without a token; its time is in
   its id (a snowflake: milliseconds since X's epoch in the bits above the 22nd).
3. X's answers mapped onto the sync errors: 429 waits for `x-rate-limit-reset`, 401 is a rejected
   token, 403 an access level without search, 400 a query X refuses, 5xx a failure to retry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from postmetric.errors import ValidationError
from postmetric.integrations.sync import (
    AccessDenied,
    Connection,
    RateLimited,
    SettingsRejected,
    SyncResult,
    SyncRun,
    SyncedAnnotation,
    TokenRejected,
    UpstreamFailed,
    delete_annotations,
    read_body,
)
from postmetric.store.events import EventStore
from postmetric.store.metadata import Annotation, Site

KIND = "x"
SEARCH_PATH = "/2/tweets/search/recent"
PAGE_SIZE = 100  # X's most per request
MAX_PAGES = 5  # a run's share of the app's 60 searches per 15 minutes (Basic access)
SWEEP_EVERY = timedelta(days=1)
# Recent search covers 7 days and refuses an older `since_id`; a margin keeps clocks apart.
SINCE_ID_MAX_AGE = timedelta(days=6, hours=12)
RESUME_MAX_AGE = timedelta(days=1)  # a `next_token` older than this starts its pass again
MAX_QUERY = 512  # X's query length for self-serve access to recent search
MAX_TEXT = 500
# Posts added by hand, through an account token too: a bound keeps the chart's listing small.
MAX_HAND_ADDED = 10_000
CONFIG_FIELDS = ("query", "handle", "token")
HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}")
POST_ID = re.compile(r"[0-9]{1,19}")
BEARER_TOKEN = re.compile(r"[A-Za-z0-9%._~+/=-]{20,2000}")
X_HOSTS = frozenset({"x.com", "www.x.com", "mobile.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com"})
# `/{user}/status/{id}` (and the old `statuses`), with anything after it (`/photo/1`); `/i/web/status/{id}`.
POST_PATH = re.compile(r"/(?:(?P<user>[A-Za-z0-9_]{1,15})/status(?:es)?|i(?:/web)?/status)/(?P<id>[0-9]{1,19})(?:/.*)?")
SNOWFLAKE_EPOCH_MS = 1288834974657
# Ids from before November 2010 are counters, not snowflakes: their "time" would fall in X's first minute.
FIRST_SNOWFLAKE = 60_000 << 22


def default_query(domain: str, handle: str | None) -> str:
    """Posts naming or linking the domain, or mentioning the handle, retweets left out.

    X applies AND (a space) before OR, so the alternatives are bracketed for `-is:retweet` to apply to all.
    """
    terms = [f'"{domain}"', f'url:"{domain}"'] + ([f"@{handle}"] if handle else [])
    return f"({' OR '.join(terms)}) -is:retweet"


def post_url(post_id: str, username: str | None) -> str:
    return f"https://x.com/{username}/status/{post_id}" if username else f"https://x.com/i/web/status/{post_id}"


def snowflake_time(post_id: int) -> datetime:
    """When the post was written, from its id."""
    return datetime.fromtimestamp(((post_id >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, tz=timezone.utc)


class XProvider:
    kind = KIND
    label = "X"
    interval_seconds = 15 * 60

    def parse_config(self, body: dict[str, Any], *, site_domain: str, current: dict | None) -> Connection:
        """`{"query"?, "handle"?, "token"?}`: an empty query means the default one (built at each sync,
        from the site's domain then); the token may be left out once one is stored."""
        unknown = sorted(set(body) - set(CONFIG_FIELDS))
        if unknown:
            raise ValidationError(unknown[0], f"is not an X setting; known: {', '.join(CONFIG_FIELDS)}")
        handle = _handle(body.get("handle"))
        query = _query(body.get("query"))
        token = _token(body.get("token"))
        if token is None and current is None:
            raise ValidationError("token", "an X API bearer token is needed to search X (developer portal → your "
                                           "project's app → Keys and tokens → Bearer Token); without one, add "
                                           "posts by their URL")
        return Connection(config={"query": query, "handle": handle}, token=token, keep_token=token is None)

    def sync(self, run: SyncRun) -> SyncResult:
        if not run.token:
            raise TokenRejected("no X bearer token is stored: reconnect X with one")
        query = run.config.get("query") or default_query(run.site_domain, run.config.get("handle"))
        since_id = _post_id(run.cursor.get("since_id"))
        walk = PageWalk.from_cursor(run.cursor, since_id, run.now)
        seen = new = missing_authors = 0
        for _ in range(MAX_PAGES):
            page = _search(run, query, walk)
            posts, missing = _posts(page)
            new += run.save_annotations(posts)
            seen += len(posts)
            missing_authors += missing
            meta = page.get("meta") if isinstance(page.get("meta"), dict) else {}
            walk.newest_id = _newest(walk.newest_id, _post_id(meta.get("newest_id")))
            token = meta.get("next_token")
            walk.next_token = token if isinstance(token, str) and 0 < len(token) <= 1000 else None
            if not walk.next_token:
                break
        summary = _summary(new, seen - new, missing_authors, more=walk.next_token is not None)
        if walk.next_token:
            cursor = {"since_id": since_id, "swept_at": run.cursor.get("swept_at"), "resume": walk.as_cursor()}
        else:
            done_sweep = walk.started_at.isoformat() if walk.sweep else run.cursor.get("swept_at")
            cursor = {"since_id": _newest(since_id, walk.newest_id), "swept_at": done_sweep}
        return SyncResult(cursor=cursor, summary=summary)

    def delete_data(self, Session: sessionmaker[Session], events: EventStore, site_id: int) -> None:
        delete_annotations(Session, site_id, KIND)


PROVIDER = XProvider()


@dataclass
class PageWalk:
    """One walk through the pages of a search: a sweep (no `since_id`) or the posts after `since_id`."""

    sweep: bool
    since_id: str | None
    started_at: datetime
    next_token: str | None = None
    newest_id: str | None = None  # the first page's, the newest of the whole pass

    @classmethod
    def from_cursor(cls, cursor: dict[str, Any], since_id: str | None, now: datetime) -> PageWalk:
        """The walk a run takes: the one a run before left unfinished, else a sweep when due, else the posts
        after `since_id`."""
        resume = cursor.get("resume")
        if isinstance(resume, dict) and _moment(resume.get("started_at")) > now - RESUME_MAX_AGE:
            return cls(sweep=bool(resume.get("sweep")), since_id=_post_id(resume.get("since_id")),
                       started_at=_moment(resume["started_at"]), next_token=resume.get("next_token"),
                       newest_id=_post_id(resume.get("newest_id")))
        sweep = (since_id is None or snowflake_time(int(since_id)) < now - SINCE_ID_MAX_AGE
                 or _moment(cursor.get("swept_at")) < now - SWEEP_EVERY)
        return cls(sweep=sweep, since_id=None if sweep else since_id, started_at=now)

    def as_cursor(self) -> dict[str, Any]:
        return {"sweep": self.sweep, "since_id": self.since_id, "started_at": self.started_at.isoformat(),
                "next_token": self.next_token, "newest_id": self.newest_id}


@dataclass(frozen=True)
class PostRef:
    """A post named by its URL: its id, and its author's username when the URL says it."""

    post_id: str
    username: str | None

    @property
    def time(self) -> datetime:
        return snowflake_time(int(self.post_id))


def parse_post_url(value: object, *, now: datetime) -> PostRef:
    """The post an x.com / twitter.com / mobile.twitter.com URL points at."""
    problem = ("must be the URL of a post on X, like https://x.com/username/status/1234567890123456789 "
               "(x.com, twitter.com or mobile.twitter.com)")
    if not isinstance(value, str) or len(value) > 2048 or not value.isprintable():
        raise ValidationError("url", problem)
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        raise ValidationError("url", problem) from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or host not in X_HOSTS or parts.username or parts.port:
        raise ValidationError("url", f"{problem}, not {value[:100]!r}")
    match = POST_PATH.fullmatch(parts.path.rstrip("/") or "/")
    if match is None:
        raise ValidationError("url", f"{problem}; {parts.path[:100]!r} is not a post's path")
    number = int(match["id"])
    if number < FIRST_SNOWFLAKE:
        raise ValidationError("url", "is a post from before November 2010, whose id carries no time: "
                                     "write a note at its date instead")
    ref = PostRef(str(number), match["user"])
    if ref.time > now + timedelta(days=1):
        raise ValidationError("url", f"post id {ref.post_id} would be written in the future: check the URL")
    return ref


def hand_added_post(ref: PostRef, text: object = None) -> SyncedAnnotation:
    """The annotation of a post added by its URL: its text is the caller's note, or says whose post it is."""
    if text is None or text == "":
        text = f"Post by @{ref.username} on X" if ref.username else "Post on X"
    elif not isinstance(text, str) or not text.strip() or len(text.strip()) > MAX_TEXT:
        raise ValidationError("text", f"must be 1 to {MAX_TEXT} characters")
    return SyncedAnnotation(external_id=ref.post_id, time=ref.time, text=text.strip(),
                            url=post_url(ref.post_id, ref.username),
                            author=f"@{ref.username}" if ref.username else None,
                            details={"post_id": ref.post_id, "username": ref.username, "added_by_hand": True})


def add_post(session: Session, site: Site, body: dict[str, Any], *, user_id: int | None,
             now: datetime) -> tuple[Annotation, bool]:
    """The post of `body` (`{"url", "text"?}`) as an `x` annotation of the site, and whether it is new.

    A post already there (added before, or synced with its metrics) is given back unchanged."""
    unknown = sorted(set(body) - {"url", "text"})
    if unknown:
        raise ValidationError(unknown[0], "is not a field of a post added by URL; known fields: url, text")
    post = hand_added_post(parse_post_url(body.get("url"), now=now), body.get("text"))
    stored = session.scalar(select(Annotation).where(
        Annotation.site_id == site.id, Annotation.kind == KIND, Annotation.external_id == post.external_id))
    if stored is not None:
        return stored, False
    added = session.scalar(select(func.count()).select_from(Annotation).where(
        Annotation.site_id == site.id, Annotation.kind == KIND, Annotation.created_by.is_not(None)))
    if added >= MAX_HAND_ADDED:
        raise ValidationError("url", f"a site has at most {MAX_HAND_ADDED} posts added by hand; delete some first")
    annotation = Annotation(site_id=site.id, kind=KIND, created_by=user_id, external_id=post.external_id,
                            time=post.time, text=post.text, url=post.url, author=post.author, details=post.details)
    session.add(annotation)
    session.flush()  # IntegrityError when the same post was added meanwhile: a retry finds it
    return annotation, True


def _handle(value: object) -> str | None:
    if value is None or value == "":
        return None
    text = value.strip().removeprefix("@") if isinstance(value, str) else None
    if text is None or not HANDLE.fullmatch(text):
        raise ValidationError("handle", "must be an X username: 1 to 15 letters, digits or underscores, "
                                        f"with or without its @, not {str(value)[:40]!r}")
    return text


def _query(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_QUERY or not value.isprintable():
        raise ValidationError("query", f"must be an X search query of at most {MAX_QUERY} characters on one line "
                                       "(operators as on x.com/search), or empty for the default")
    return value.strip()


def _token(value: object) -> str | None:
    if value is None or value == "":
        return None
    text = value.strip().removeprefix("Bearer ").strip() if isinstance(value, str) else ""
    if not BEARER_TOKEN.fullmatch(text):
        raise ValidationError("token", "must be the app's Bearer Token as the developer portal shows it "
                                       "(one line, no spaces)")
    return text


def _search(run: SyncRun, query: str, walk: PageWalk) -> dict[str, Any]:
    params = {"query": query, "max_results": str(PAGE_SIZE), "tweet.fields": "created_at,public_metrics,author_id",
              "expansions": "author_id", "user.fields": "username,name,profile_image_url"}
    if walk.since_id:
        params["since_id"] = walk.since_id
    if walk.next_token:
        params["next_token"] = walk.next_token
    url = run.settings.x_api_url.rstrip("/") + SEARCH_PATH
    try:
        with run.http.stream("GET", url, params=params, headers={"Authorization": f"Bearer {run.token}"}) as response:
            body = _bounded_json(response)
            status, headers = response.status_code, response.headers
    except httpx.HTTPError as error:
        raise UpstreamFailed(f"X did not answer ({type(error).__name__}: {error})") from None
    if status == 200 and body is not None:
        return body
    said = _problem(body)
    if status == 429:
        until = _reset_time(headers.get("x-rate-limit-reset"), run.now)
        raise RateLimited(f"rate limited by X until {until:%H:%M} UTC{said}", until)
    if status == 401:
        raise TokenRejected(f"X rejected the bearer token: reconnect X with a valid one{said}")
    if status == 403:
        raise AccessDenied("X refused the search: the app must belong to a project whose access level includes "
                           f"recent search (Basic or above){said}")
    if status == 400:
        raise SettingsRejected(f"X refused the search query {query[:100]!r}: correct it in the X settings{said}")
    if status == 200:
        raise UpstreamFailed("X answered with a body that is not a JSON object")
    raise UpstreamFailed(f"X answered {status}{said}")


def _bounded_json(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object (at most `read_body`'s bound), or None."""
    try:
        body = json.loads(read_body(response, provider="X"))
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _problem(body: dict[str, Any] | None) -> str:
    """X's explanation of an error (the `errors`' messages, or `detail`), as ` (X said: …)` to append."""
    if body is None:
        return ""
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    texts = [item.get("message") or item.get("detail") for item in errors if isinstance(item, dict)]
    texts = [text for text in texts if isinstance(text, str)] or [body.get("detail")]
    texts = [text for text in texts if isinstance(text, str) and text]
    return f" (X said: {'; '.join(texts)[:300]})" if texts else ""


def _reset_time(value: str | None, now: datetime) -> datetime:
    """`x-rate-limit-reset` (epoch seconds) as a time; without one, X's 15-minute window from now."""
    if value is not None and value.isascii() and value.isdigit() and len(value) <= 12:
        until = datetime.fromtimestamp(int(value), tz=timezone.utc)
        if now < until <= now + timedelta(days=31):
            return until
        if until <= now:
            return now + timedelta(seconds=1)
    return now + timedelta(minutes=15)


def _posts(page: Mapping[str, Any]) -> tuple[list[SyncedAnnotation], int]:
    """The page's posts as annotations, and how many of them came without their author."""
    data, includes = page.get("data", []), page.get("includes", {})
    users = includes.get("users", []) if isinstance(includes, dict) else None
    if not isinstance(data, list) or not isinstance(users, list):
        raise UpstreamFailed("X answered with a body that is not a search result (data or includes.users)")
    by_id = {user.get("id"): user for user in users if isinstance(user, dict)}
    posts, missing = [], 0
    for item in data:
        post = _post(item, by_id)
        missing += post.author is None
        posts.append(post)
    return posts, missing


def _post(item: object, users: Mapping[object, dict[str, Any]]) -> SyncedAnnotation:
    if not isinstance(item, dict):
        raise UpstreamFailed("X answered with a post that is not an object")
    post_id, text, created = _post_id(item.get("id")), item.get("text"), _moment(item.get("created_at"), None)
    if post_id is None or not isinstance(text, str) or created is None:
        raise UpstreamFailed(f"X answered with a post without id, text or created_at: {str(item)[:200]}")
    user = users.get(item.get("author_id")) or {}
    username = user.get("username") if isinstance(user.get("username"), str) and HANDLE.fullmatch(
        user.get("username")) else None
    metrics = item.get("public_metrics") if isinstance(item.get("public_metrics"), dict) else {}
    details: dict[str, Any] = {"post_id": post_id, "username": username, "name": _text(user.get("name"), 100),
                               "profile_image_url": _text(user.get("profile_image_url"), 500)}
    for name, field in (("likes", "like_count"), ("reposts", "retweet_count"), ("replies", "reply_count"),
                        ("quotes", "quote_count"), ("impressions", "impression_count")):
        if isinstance(metrics.get(field), int) and metrics[field] >= 0:
            details[name] = metrics[field]
    text = text.strip() or "(a post without text)"
    return SyncedAnnotation(external_id=post_id, time=created,
                            text=text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…",
                            url=post_url(post_id, username), author=f"@{username}" if username else None,
                            details=details)


def _post_id(value: object) -> str | None:
    return value if isinstance(value, str) and POST_ID.fullmatch(value) else None


def _newest(a: str | None, b: str | None) -> str | None:
    """The newer of two post ids (ids grow with time), either may be missing."""
    if a is None or b is None:
        return a or b
    return a if int(a) >= int(b) else b


def _text(value: object, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) else None


_LONG_AGO = datetime(2000, 1, 1, tzinfo=timezone.utc)


def _moment(value: object, default: datetime | None = _LONG_AGO) -> datetime | None:
    """An ISO 8601 time from a cursor or from X (`2024-01-15T10:30:00.000Z`), in UTC, or `default`."""
    if not isinstance(value, str) or len(value) > 40:
        return default
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return default
    return moment.astimezone(timezone.utc) if moment.tzinfo else default


def _summary(new: int, updated: int, missing_authors: int, *, more: bool) -> str:
    parts = [f"{new} new post{'s' * (new != 1)}" if new else "no new posts"]
    if updated:
        parts.append(f"{updated} updated")
    if missing_authors:
        parts.append(f"{missing_authors} without their author (X left them out)")
    return ", ".join(parts) + ("; more on the next sync" if more else "")
