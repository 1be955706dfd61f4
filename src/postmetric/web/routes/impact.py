"""What an annotation did to the numbers (issue 17): its card's impact, and the Mentions list.

- `GET /api/v1/sites/{id}/annotations/{annotation_id}/impact` → for a commit or a note, the 7 days before
  against the 7 days after; for a post on X, what came from X in the 24 hours after it (stats/impact.py).
- `GET /api/v1/sites/{id}/mentions?from=&to=&limit=` → `{"mentions": [{"annotation": the post's annotation,
  "visitors", "revenue"}…], "currency"}`: the posts on X in the range, most visitors first.

Both read as the chart does: any member (session or account token) or the site's share link; a site key
gets 403, another site's annotation is 404 as a missing one. The engine runs in the thread pool.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.errors import ValidationError
from postmetric.sites.annotations import get_annotation, list_annotations, parse_listing
from postmetric.stats.impact import MAX_MENTION_POSTS, Post, annotation_impact, mentions
from postmetric.store.metadata import Site
from postmetric.web.auth import Caller, VisibleSite, api_endpoint, chart_reader_site, path_id
from postmetric.web.contract import impact as contract
from postmetric.web.contract.impact import MENTIONS_DEFAULT_LIMIT, MENTIONS_MAX_LIMIT
from postmetric.web.db import transaction
from postmetric.web.routes.annotations import annotation_json
from postmetric.web.responses import json_response
from postmetric.web.services import services_of


@api_endpoint(share=True)
async def get_impact(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/annotations/{annotation_id}/impact` → the annotation's card numbers."""
    site = await chart_reader_site(request, caller)
    annotation_id = path_id(request, "annotation_id", "annotation")
    kind, time = await transaction(request, lambda session: _kind_and_time(session, site, annotation_id))
    services = services_of(request)
    impact = await run_in_threadpool(lambda: annotation_impact(
        services.stats, site_id=site.id, currency=site.currency, annotation_id=annotation_id, kind=kind,
        time=time, now=_now(request)))
    return json_response(impact)


@api_endpoint(share=True)
async def get_mentions(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/mentions?from=&to=&limit=` → the posts on X by attributed visitors."""
    site = await chart_reader_site(request, caller)
    params = request.query_params
    limit = _limit(params.get("limit"))
    listing = parse_listing({name: params[name] for name in ("from", "to") if name in params})
    listing = replace(listing, limit=MAX_MENTION_POSTS, kinds=("x",))
    annotations = await transaction(request, lambda session: {
        annotation.id: (_utc(annotation.time), annotation_json(annotation))
        for annotation in list_annotations(session, session.get_one(Site, site.id), listing)})
    posts = [Post(annotation_id, time) for annotation_id, (time, _) in annotations.items()]
    services = services_of(request)
    found = await run_in_threadpool(lambda: mentions(services.stats, posts, site_id=site.id, currency=site.currency,
                                                     now=_now(request), limit=limit))
    return json_response(contract.Mentions(
        mentions=[contract.Mention(annotation=annotations[m["annotation_id"]][1], visitors=m["visitors"],
                                   revenue=m["revenue"]) for m in found],
        currency=site.currency))


def _kind_and_time(session, site: VisibleSite, annotation_id: int) -> tuple[str, datetime]:
    annotation = get_annotation(session, session.get_one(Site, site.id), annotation_id)
    return annotation.kind, _utc(annotation.time)


def _limit(text: str | None) -> int:
    if text is None:
        return MENTIONS_DEFAULT_LIMIT
    if not text.isascii() or not text.isdigit() or len(text) > 3 or not 1 <= int(text) <= MENTIONS_MAX_LIMIT:
        raise ValidationError("limit", f"must be a whole number from 1 to {MENTIONS_MAX_LIMIT}, not {text[:40]!r}")
    return int(text)


def _utc(moment: datetime) -> datetime:
    """A stored time as aware UTC (SQLite gives it back naive, in UTC)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _now(request: Request) -> datetime:
    return datetime.fromtimestamp(services_of(request).clock(), timezone.utc)


routes = [
    Route("/api/v1/sites/{id}/annotations/{annotation_id}/impact", get_impact, methods=["GET"]),
    Route("/api/v1/sites/{id}/mentions", get_mentions, methods=["GET"]),
]
