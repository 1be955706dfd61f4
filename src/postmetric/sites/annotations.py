"""Annotations of a site (issue 17): dated notes drawn on its chart, listed, written, edited, deleted.

An annotation is a time (UTC), a text (1–500 characters), an optional http(s) URL (at most 2048
characters) and a kind: `note` is written by hand; `x` and `github` will be synced from their
integrations, so the API writes and edits notes only (it may delete any kind).

Secondary responsibilities:
1. `parse_listing`: the query string of a listing (`from`, `to`, `limit`), validated.
2. Bounds: at most `MAX_NOTES_PER_SITE` notes per site, and a listing returns at most `MAX_LIMIT`.

Blocking (SQLAlchemy sessions): call from a worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postmetric.errors import NotFound, ValidationError
from postmetric.store.metadata import Annotation, Site
from postmetric.time_window import EARLIEST

KINDS = ("note", "x", "github")
WRITABLE_KINDS = ("note",)  # the others belong to their integration's sync
FIELDS = ("time", "text", "url", "kind")
MAX_TEXT, MAX_URL = 500, 2048
# A far-off launch may be noted ahead; past this, date arithmetic on the chart gains nothing.
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
DEFAULT_LIMIT, MAX_LIMIT = 500, 1000
# Written by hand, but an account token can write in a loop: a bound keeps the chart's listing small.
MAX_NOTES_PER_SITE = 10_000


@dataclass(frozen=True, slots=True)
class Listing:
    """Which annotations to list: `start <= time < end` (either open), of `kinds` (all when empty), newest
    first, at most `limit`."""

    start: datetime | None = None
    end: datetime | None = None
    limit: int = DEFAULT_LIMIT
    kinds: tuple[str, ...] = ()


def parse_listing(params: Mapping[str, str]) -> Listing:
    start = _time_param(params, "from")
    end = _time_param(params, "to")
    if start is not None and end is not None and end <= start:
        raise ValidationError("to", "must be after from")
    text = params.get("limit")
    if text is None:
        return Listing(start, end)
    if not text.isascii() or not text.isdigit() or len(text) > 4 or not 1 <= int(text) <= MAX_LIMIT:
        raise ValidationError("limit", f"must be a whole number from 1 to {MAX_LIMIT}, not {text[:40]!r}")
    return Listing(start, end, int(text))


def list_annotations(session: Session, site: Site, listing: Listing = Listing()) -> list[Annotation]:
    query = select(Annotation).where(Annotation.site_id == site.id)
    if listing.start is not None:
        query = query.where(Annotation.time >= listing.start)
    if listing.end is not None:
        query = query.where(Annotation.time < listing.end)
    if listing.kinds:
        query = query.where(Annotation.kind.in_(listing.kinds))
    query = query.order_by(Annotation.time.desc(), Annotation.id.desc()).limit(listing.limit)
    return list(session.scalars(query))


def create_annotation(session: Session, site: Site, body: dict[str, Any], *, user_id: int | None) -> Annotation:
    """A new note from `body` (`time`, `text`, `url`?, `kind`? which can only be "note"), signed by `user_id`."""
    parsed = _parsed(body)
    notes = session.scalar(select(func.count()).select_from(Annotation).where(
        Annotation.site_id == site.id, Annotation.kind == "note"))
    if notes >= MAX_NOTES_PER_SITE:
        raise ValidationError("annotations", f"a site has at most {MAX_NOTES_PER_SITE} notes; delete some first")
    annotation = Annotation(site_id=site.id, created_by=user_id, **parsed)
    session.add(annotation)
    session.flush()
    return annotation


def update_annotation(session: Session, site: Site, annotation_id: int, body: dict[str, Any]) -> Annotation:
    """The note rewritten by `body`, which says all of it, as for `create_annotation`."""
    annotation = get_annotation(session, site, annotation_id)
    if annotation.kind not in WRITABLE_KINDS:
        raise ValidationError("kind", f"a {annotation.kind!r} annotation is synced by its integration; "
                                      "only notes are edited, though any annotation may be deleted")
    for name, value in _parsed(body).items():
        setattr(annotation, name, value)
    session.flush()
    return annotation


def delete_annotation(session: Session, site: Site, annotation_id: int) -> None:
    session.delete(get_annotation(session, site, annotation_id))
    session.flush()


def get_annotation(session: Session, site: Site, annotation_id: int) -> Annotation:
    """The site's annotation `annotation_id`; NotFound for a missing one or another site's."""
    annotation = session.get(Annotation, annotation_id)
    if annotation is None or annotation.site_id != site.id:  # another site's is as unknown as a missing one
        raise NotFound("annotation", annotation_id)
    return annotation


def _parsed(body: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ValidationError(unknown[0], f"is not an annotation field; known fields: {', '.join(FIELDS)}")
    kind = body.get("kind", "note")
    if kind not in KINDS:
        raise ValidationError("kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind not in WRITABLE_KINDS:
        raise ValidationError("kind", f"{kind!r} annotations come from their integration's sync; "
                                      "the API writes \"note\" ones")
    time = body.get("time")
    if not isinstance(time, str):
        raise ValidationError("time", f"must be an ISO 8601 date and time with its offset, not {time!r}")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text.strip()) > MAX_TEXT:
        raise ValidationError("text", f"must be 1 to {MAX_TEXT} characters")
    return {"kind": kind, "time": _moment(time, "time"), "text": text.strip(), "url": _url(body.get("url"))}


def _time_param(params: Mapping[str, str], field: str) -> datetime | None:
    text = params.get(field)
    return None if text is None else _moment(text, field)


def _moment(text: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text) if len(text) <= 64 else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationError(field, f"must be an ISO 8601 date and time with its offset, like "
                                     f"2026-12-01T09:30:00Z, not {text[:64]!r}")
    if not EARLIEST <= moment < LATEST:
        raise ValidationError(field, f"must be from {EARLIEST.year} to {LATEST.year - 1}")
    return moment.astimezone(timezone.utc)


def _url(value: object) -> str | None:
    if value is None:
        return None
    problem = f"must be an http or https URL of at most {MAX_URL} characters"
    if not isinstance(value, str) or len(value) > MAX_URL or not value.isprintable() or " " in value:
        raise ValidationError("url", problem)
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValidationError("url", problem) from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError("url", problem)
    return value
