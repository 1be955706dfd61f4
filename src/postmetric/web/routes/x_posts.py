"""A post on X added by its URL (issue 17), for a site without an X API token.

`POST /api/v1/sites/{id}/integrations/x/posts {"url", "text"?}` → 201 the `x` annotation, or 200 the
one already there (added before, or synced with its metrics), for owners and admins. The URL is
parsed once, by `integrations.x`: x.com, twitter.com and mobile.twitter.com post links; the post's
time is in its id, its author in the URL. Callers as for the annotations API.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.integrations.x import add_post
from postmetric.sites.members import MANAGERS, require_role
from postmetric.store.metadata import Site
from postmetric.web.auth import Caller, api_endpoint, require_account_site
from postmetric.web.bodies import json_object
from postmetric.web.contract import annotations as contract
from postmetric.web.db import transaction
from postmetric.web.responses import json_response
from postmetric.web.routes.annotations import annotation_json
from postmetric.web.services import services_of


@api_endpoint
async def post_x_post(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/sites/{id}/integrations/x/posts {url, text?}` → 201 the post's annotation (200 if known)."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "add posts on X")
    body = await json_object(request)
    now = datetime.fromtimestamp(services_of(request).clock(), timezone.utc)

    def add(session: Session) -> tuple[contract.Annotation, bool]:
        annotation, created = add_post(session, session.get_one(Site, visible.id), body, user_id=caller.user_id,
                                       now=now)
        return annotation_json(annotation), created

    try:
        annotation, created = await transaction(request, add)
    except IntegrityError:  # the same post added meanwhile, by another request or a sync: now it is found
        annotation, created = await transaction(request, add)
    return json_response(annotation, 201 if created else 200)


routes = [
    Route("/api/v1/sites/{id}/integrations/x/posts", post_x_post, methods=["POST"]),
]
