"""The OpenAPI paths of a site's goal definitions (merged into `web/openapi.py`)."""

from __future__ import annotations

from typing import Any

from postmetric.web.openapi_accounts import E400, E401, E403, E404, SITE_PARAM, _error, _op

G = "Goals"
GOAL_TAGS = [{"name": G}]

EVENT_GOAL = {"id": 1, "kind": "event", "event_name": "signup", "page_path": None, "display_name": "Sign up"}
PAGE_GOAL = {"id": 2, "kind": "page", "event_name": None, "page_path": "/thank-you*", "display_name": "Visit /thank-you*"}
GOAL_ID = {"name": "goal_id", "in": "path", "required": True, "schema": {"type": "integer"}}
E409 = {"409": _error("Another goal of the site has this display name, event name or page path.",
                      "a goal with display_name 'Sign up' already exists")}
_BODY_RULES = (
    "`kind` \"event\" names `event_name` (a goal name as the tracker sends it: a-z, 0-9, _, - and :, at most "
    "64); `kind` \"page\" names `page_path` (starts with /, `*` for any characters, matched on the whole path). "
    "`display_name` (at most 120 characters) defaults to the event name, or \"Visit <page_path>\"; it is the "
    "goal's value of `event:goal` in queries, and unique per site."
)

GOAL_PATHS: dict[str, Any] = {
    "/api/v1/sites/{id}/goals": {
        "get": _op("list_goals", "The site's goal definitions, oldest first.", tag=G, params=[SITE_PARAM],
                   ok=("200", {"goals": [EVENT_GOAL, PAGE_GOAL]}), errors={**E401, **E403, **E404},
                   description="Custom events are goals by name without a definition; a definition adds a "
                               "display name, or makes a page-visit goal from a path pattern."),
        "post": _op("create_goal", "Define a goal (owners and admins).", tag=G, params=[SITE_PARAM],
                    body={"kind": "event", "event_name": "signup", "display_name": "Sign up"},
                    ok=("201", EVENT_GOAL), errors={**E400, **E401, **E403, **E404, **E409},
                    description=_BODY_RULES),
    },
    "/api/v1/sites/{id}/goals/{goal_id}": {
        "put": _op("replace_goal", "Redefine a goal with a whole body, as for creating one (owners and admins).",
                   tag=G, params=[SITE_PARAM, GOAL_ID], body={"kind": "page", "page_path": "/thank-you*"},
                   ok=("200", PAGE_GOAL), errors={**E400, **E401, **E403, **E404, **E409},
                   description=_BODY_RULES),
        "delete": _op("delete_goal", "Delete a goal definition (owners and admins); its events stay.", tag=G,
                      params=[SITE_PARAM, GOAL_ID], ok=None, errors={**E401, **E403, **E404}),
    },
}
