"""The goals API (SPEC §7): a site's goal definitions.

`GET /api/v1/sites/{id}/goals` → `{"goals": [goal…]}` (any member); `POST` → 201 the goal,
`PUT /api/v1/sites/{id}/goals/{goal_id}` → the goal redefined, `DELETE` → 204 (owners and admins).
A goal is `{"id", "kind": "event"|"page", "event_name", "page_path", "display_name"}`; a body is
`{"kind", "event_name"?, "page_path"?, "display_name"?}` (PUT says all of it, as POST does).
Callers as for the sites API: the dashboard session (CSRF header on changes) or an account token;
a site key gets 403. Another site's goal is 404, as a missing one; a taken display name, event
name or page path is 409.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.sites.goals import create_goal, delete_goal, list_goals, replace_goal
from postmetric.sites.members import MANAGERS, require_role
from postmetric.store.metadata import Goal, Site
from postmetric.web.auth import Caller, api_endpoint, path_id, require_account_site
from postmetric.web.bodies import json_object
from postmetric.web.contract import goals as contract
from postmetric.web.db import transaction
from postmetric.web.responses import json_response


def goal_json(goal: Goal) -> contract.Goal:
    return contract.Goal(id=goal.id, kind=goal.kind, event_name=goal.event_name, page_path=goal.page_path,
                         display_name=goal.display_name)



@api_endpoint
async def get_goals(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/goals` → `{"goals": [...]}` in the order they were made."""
    visible = await require_account_site(request, caller)
    goals = await transaction(request, lambda session: [
        goal_json(goal) for goal in list_goals(session, session.get_one(Site, visible.id))])
    return json_response(contract.Goals(goals=goals))


@api_endpoint
async def post_goal(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/sites/{id}/goals {kind, event_name?, page_path?, display_name?}` → 201 the goal."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "change goals")
    body = await json_object(request)
    goal = await transaction(request, lambda session: goal_json(
        create_goal(session, session.get_one(Site, visible.id), body)))
    return json_response(goal, 201)


@api_endpoint
async def put_goal(request: Request, caller: Caller) -> Response:
    """`PUT /api/v1/sites/{id}/goals/{goal_id}` with a whole goal body → the goal."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "change goals")
    goal_id = path_id(request, "goal_id", "goal")
    body = await json_object(request)
    goal = await transaction(request, lambda session: goal_json(
        replace_goal(session, session.get_one(Site, visible.id), goal_id, body)))
    return json_response(goal)


@api_endpoint
async def delete_goal_route(request: Request, caller: Caller) -> Response:
    """`DELETE /api/v1/sites/{id}/goals/{goal_id}` → 204; its events stay, listed by name again."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "change goals")
    goal_id = path_id(request, "goal_id", "goal")
    await transaction(request, lambda session: delete_goal(session, session.get_one(Site, visible.id), goal_id))
    return Response(status_code=204)


routes = [
    Route("/api/v1/sites/{id}/goals", get_goals, methods=["GET"]),
    Route("/api/v1/sites/{id}/goals", post_goal, methods=["POST"]),
    Route("/api/v1/sites/{id}/goals/{goal_id}", put_goal, methods=["PUT"]),
    Route("/api/v1/sites/{id}/goals/{goal_id}", delete_goal_route, methods=["DELETE"]),
]
