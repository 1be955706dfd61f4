"""The annotations API (issue 17): dated notes on a site's chart.

`GET /api/v1/sites/{id}/annotations?from=&to=&limit=` → `{"annotations": [annotation…]}`, newest
first (any member); `POST` → 201 the note, `PUT /api/v1/sites/{id}/annotations/{annotation_id}` →
the note rewritten, `DELETE` → 204 (owners and admins, as for goals). An annotation is `{"id",
"kind", "time", "text", "url", "external_id", "author", "details", "created_at", "updated_at"}`; a body is `{"time", "text", "url"?,
"kind"?: "note"}`. Callers as for the goals API: the dashboard session (CSRF header on changes) or
an account token; a site key gets 403. The listing also admits the site's share link (the shared chart
shows the annotations read-only). Another site's annotation is 404, as a missing one.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.sites.annotations import (
    create_annotation,
    delete_annotation,
    list_annotations,
    parse_listing,
    update_annotation,
)
from postmetric.sites.members import MANAGERS, require_role
from postmetric.store.metadata import Annotation, Site
from postmetric.web.auth import Caller, api_endpoint, chart_reader_site, path_id, require_account_site
from postmetric.web.bodies import json_object
from postmetric.web.contract import annotations as contract
from postmetric.web.db import transaction
from postmetric.web.responses import iso_time, json_response


def annotation_json(annotation: Annotation) -> contract.Annotation:
    return contract.Annotation(id=annotation.id, kind=annotation.kind, time=iso_time(annotation.time),
                               text=annotation.text, url=annotation.url, external_id=annotation.external_id,
                               author=annotation.author, details=annotation.details, created_at=iso_time(annotation.created_at),
                               updated_at=iso_time(annotation.updated_at))


@api_endpoint(share=True)
async def get_annotations(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/annotations` → `{"annotations": [...]}`, newest first."""
    visible = await chart_reader_site(request, caller)
    listing = parse_listing(request.query_params)
    annotations = await transaction(request, lambda session: [
        annotation_json(annotation)
        for annotation in list_annotations(session, session.get_one(Site, visible.id), listing)])
    return json_response(contract.Annotations(annotations=annotations))


@api_endpoint
async def post_annotation(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/sites/{id}/annotations {time, text, url?, kind?}` → 201 the note."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "change annotations")
    body = await json_object(request)
    annotation = await transaction(request, lambda session: annotation_json(
        create_annotation(session, session.get_one(Site, visible.id), body, user_id=caller.user_id)))
    return json_response(annotation, 201)


@api_endpoint
async def put_annotation(request: Request, caller: Caller) -> Response:
    """`PUT /api/v1/sites/{id}/annotations/{annotation_id}` with a whole note body → the note."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "change annotations")
    annotation_id = path_id(request, "annotation_id", "annotation")
    body = await json_object(request)
    annotation = await transaction(request, lambda session: annotation_json(
        update_annotation(session, session.get_one(Site, visible.id), annotation_id, body)))
    return json_response(annotation)


@api_endpoint
async def delete_annotation_route(request: Request, caller: Caller) -> Response:
    """`DELETE /api/v1/sites/{id}/annotations/{annotation_id}` → 204."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "change annotations")
    annotation_id = path_id(request, "annotation_id", "annotation")
    await transaction(request, lambda session: delete_annotation(
        session, session.get_one(Site, visible.id), annotation_id))
    return Response(status_code=204)


routes = [
    Route("/api/v1/sites/{id}/annotations", get_annotations, methods=["GET"]),
    Route("/api/v1/sites/{id}/annotations", post_annotation, methods=["POST"]),
    Route("/api/v1/sites/{id}/annotations/{annotation_id}", put_annotation, methods=["PUT"]),
    Route("/api/v1/sites/{id}/annotations/{annotation_id}", delete_annotation_route, methods=["DELETE"]),
]
