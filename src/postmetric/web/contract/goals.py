"""A site's goal definitions and funnels: shapes, examples and paths."""

from __future__ import annotations

from typing import Literal

import msgspec

from postmetric.stats.funnels import DEFAULT_BREAKDOWN_LIMIT, MAX_BREAKDOWN_LIMIT
from postmetric.stats.registry import VISIT_DIMENSIONS
from postmetric.web.contract.accounts import Shape
from postmetric.web.contract.common import COOKIE, E400, E401, E403, E404, NO_CONTENT, READERS, SITE_PARAM, path_integer
from postmetric.web.contract.operation import Answer, Operation, error

# -- goals ---------------------------------------------------------------------------------


class Goal(Shape):
    """A custom event by name (`kind` event), or a visit of pages matching a path pattern (`kind` page)."""

    id: int
    kind: Literal["event", "page"]
    event_name: str | None
    page_path: str | None
    display_name: str


class Goals(Shape):
    goals: list[Goal]


class GoalBody(msgspec.Struct):
    kind: Literal["event", "page"]
    event_name: str | None = None
    page_path: str | None = None
    display_name: str | None = None


EVENT_GOAL = {"id": 1, "kind": "event", "event_name": "signup", "page_path": None, "display_name": "Sign up"}
PAGE_GOAL = {"id": 2, "kind": "page", "event_name": None, "page_path": "/thank-you*", "display_name": "Visit /thank-you*"}
GOAL_CONFLICT = {409: error("Another goal of the site has this display name, event name or page path.",
                            "a goal with display_name 'Sign up' already exists")}
_GOAL_RULES = (
    "`kind` \"event\" names `event_name` (a goal name as the tracker sends it: a-z, 0-9, _, - and :, at most "
    "64); `kind` \"page\" names `page_path` (starts with /, `*` for any characters, matched on the whole path). "
    "`display_name` (at most 120 characters) defaults to the event name, or \"Visit <page_path>\"; it is the "
    "goal's value of `event:goal` in queries, and unique per site."
)

# -- funnels -------------------------------------------------------------------------------


class FunnelStep(Shape):
    type: Literal["page", "goal"]
    match: str
    label: str | None


class Funnel(Shape):
    id: int
    site_id: str
    name: str
    steps: list[FunnelStep]
    created_at: str
    updated_at: str


class Funnels(Shape):
    funnels: list[Funnel]


class FunnelStepBody(msgspec.Struct):
    type: Literal["page", "goal"]
    match: str
    label: str | None = None


class FunnelBody(msgspec.Struct):
    name: str
    steps: list[FunnelStepBody]


class FunnelStepResult(Shape):
    """One step's visitors; conversions are percentages (0–100), `drop_off` a visitor count."""

    index: int
    type: Literal["page", "goal"]
    match: str
    label: str | None
    visitors: int
    conversion_from_previous: float | None
    conversion_from_first: float | None
    drop_off: int | None
    median_seconds_to_next: float | None


class DateSpan(Shape):
    start: str
    end: str


class FunnelBreakdownGroup(Shape):
    value: str | None
    steps: list[FunnelStepResult]


class FunnelResults(Shape):
    """`breakdown` is present when one was asked for."""

    funnel: Funnel
    date_range: DateSpan
    steps: list[FunnelStepResult]
    breakdown: list[FunnelBreakdownGroup] | msgspec.UnsetType = msgspec.UNSET


FUNNEL = {"id": 1, "site_id": "pm_AbC123xyz987", "name": "Signup",
          "steps": [{"type": "page", "match": "/pricing", "label": None},
                    {"type": "page", "match": "/signup*", "label": "Signup form"},
                    {"type": "goal", "match": "signup", "label": None}],
          "created_at": "2026-11-26T10:00:00Z", "updated_at": "2026-11-26T10:00:00Z"}
FUNNEL_BODY = {"name": "Signup", "steps": [{"type": "page", "match": "/pricing"},
                                           {"type": "page", "match": "/signup*", "label": "Signup form"},
                                           {"type": "goal", "match": "signup"}]}


def _step(index: int, visitors: int, previous: int | None, first: int, median: float | None) -> dict:
    step = FUNNEL["steps"][index - 1]
    return {"index": index, **step, "visitors": visitors,
            "conversion_from_previous": 100.0 if previous is None else round(100 * visitors / previous, 2),
            "conversion_from_first": round(100 * visitors / first, 2),
            "drop_off": 0 if previous is None else previous - visitors, "median_seconds_to_next": median}


FUNNEL_RESULTS = {
    "funnel": FUNNEL,
    "date_range": {"start": "2026-10-28T00:00:00+01:00", "end": "2026-11-27T00:00:00+01:00"},
    "steps": [_step(1, 1200, None, 1200, 42.5), _step(2, 300, 1200, 1200, 95.0), _step(3, 120, 300, 1200, None)],
    "breakdown": [{"value": "Google", "steps": [_step(1, 700, None, 700, 40.0), _step(2, 210, 700, 700, 90.0),
                                                _step(3, 90, 210, 700, None)]}],
}
FUNNEL_NOT_FOUND = {404: error("The funnel does not exist, is another site's, or the caller cannot read its site.",
                               "funnel_id: funnel 7 not found")}
_FUNNEL_RULES = (
    "`name`: 1 to 120 characters. `steps`: 2 to 8, in order, each `{\"type\", \"match\", \"label\"?}`: "
    "`type` \"page\" matches pageviews whose path matches `match` (starts with /; `*` for any characters, "
    "`/` included; matched on the whole path), `type` \"goal\" matches goal events named `match` (a-z, 0-9, "
    "_, - and :, at most 64). `label` is an optional display name (at most 120 characters)."
)
_COUNTING = (
    "Events count by their own time within the range. A visitor reaches step n when they did steps 1..n "
    "in order, across visits: t1 is their earliest step-1 event, each next step's time their earliest "
    "matching event strictly after the previous step's. `conversion_from_previous` and "
    "`conversion_from_first` are percentages (2 decimals), `drop_off` the visitors lost since the previous "
    "step, `median_seconds_to_next` the lower median of the time to the next step (null on the last step or "
    "when nobody reached it). A breakdown credits each visitor to the value of the visit of their step 1; "
    "groups are ordered by step-1 visitors, then value."
)

G, F = "Goals", "Funnels"
TAGS = [{"name": G}, {"name": F}]
GOAL_ID, FUNNEL_ID = path_integer("goal_id"), path_integer("funnel_id")

OPERATIONS = [
    Operation("get", "/api/v1/sites/{id}/goals", "list_goals", G, "The site's goal definitions, oldest first.",
              {200: Answer("OK", Goals, {"goals": [EVENT_GOAL, PAGE_GOAL]}), **E401, **E403, **E404},
              security=COOKIE, parameters=[SITE_PARAM],
              description="Custom events are goals by name without a definition; a definition adds a display "
                          "name, or makes a page-visit goal from a path pattern."),
    Operation("post", "/api/v1/sites/{id}/goals", "create_goal", G, "Define a goal (owners and admins).",
              {201: Answer("OK", Goal, EVENT_GOAL), **E400, **E401, **E403, **E404, **GOAL_CONFLICT},
              security=COOKIE, parameters=[SITE_PARAM], description=_GOAL_RULES, body=GoalBody,
              body_example={"kind": "event", "event_name": "signup", "display_name": "Sign up"}),
    Operation("put", "/api/v1/sites/{id}/goals/{goal_id}", "replace_goal",
              G, "Redefine a goal with a whole body, as for creating one (owners and admins).",
              {200: Answer("OK", Goal, PAGE_GOAL), **E400, **E401, **E403, **E404, **GOAL_CONFLICT},
              security=COOKIE, parameters=[SITE_PARAM, GOAL_ID], description=_GOAL_RULES, body=GoalBody,
              body_example={"kind": "page", "page_path": "/thank-you*"}),
    Operation("delete", "/api/v1/sites/{id}/goals/{goal_id}", "delete_goal",
              G, "Delete a goal definition (owners and admins); its events stay.",
              {204: NO_CONTENT, **E401, **E403, **E404}, security=COOKIE, parameters=[SITE_PARAM, GOAL_ID]),
    Operation("get", "/api/v1/sites/{id}/funnels", "list_funnels", F, "The site's funnels, oldest first.",
              {200: Answer("OK", Funnels, {"funnels": [FUNNEL]}), **E401, **E404}, security=READERS,
              parameters=[SITE_PARAM], description="Readable by members, the site's keys and its share link."),
    Operation("post", "/api/v1/sites/{id}/funnels", "create_funnel", F, "Define a funnel (owners and admins).",
              {201: Answer("OK", Funnel, FUNNEL), **E400, **E401, **E403, **E404}, security=COOKIE,
              parameters=[SITE_PARAM], description=_FUNNEL_RULES, body=FunnelBody, body_example=FUNNEL_BODY),
    Operation("get", "/api/v1/sites/{id}/funnels/{funnel_id}", "get_funnel", F, "One funnel of the site.",
              {200: Answer("OK", Funnel, FUNNEL), **E401, **E404}, security=READERS,
              parameters=[SITE_PARAM, FUNNEL_ID]),
    Operation("put", "/api/v1/sites/{id}/funnels/{funnel_id}", "replace_funnel",
              F, "Redefine a funnel with a whole body, as for creating one (owners and admins).",
              {200: Answer("OK", Funnel, FUNNEL), **E400, **E401, **E403, **E404}, security=COOKIE,
              parameters=[SITE_PARAM, FUNNEL_ID], description=_FUNNEL_RULES, body=FunnelBody,
              body_example=FUNNEL_BODY),
    Operation("delete", "/api/v1/sites/{id}/funnels/{funnel_id}", "delete_funnel",
              F, "Delete a funnel (owners and admins).", {204: NO_CONTENT, **E401, **E403, **E404},
              security=COOKIE, parameters=[SITE_PARAM, FUNNEL_ID]),
    Operation("get", "/api/v1/funnels/{funnel_id}/results", "funnel_results",
              F, "Visitors at each step of a funnel over a date range, optionally by a visit dimension.",
              {200: Answer("OK", FunnelResults, FUNNEL_RESULTS), **E400, **E401, **FUNNEL_NOT_FOUND},
              security=READERS, description=_COUNTING, parameters=[
                  FUNNEL_ID,
                  {"name": "date_range", "in": "query", "required": False,
                   "schema": {"type": "string", "default": "30d"},
                   "description": "A query API range name (`day`, `7d`, `30d`, `month`, ...) or `<start>,<end>` ISO "
                                  "dates (inclusive) or datetimes."},
                  {"name": "timezone", "in": "query", "required": False, "schema": {"type": "string"},
                   "description": "An IANA time zone for the range; the site's by default."},
                  {"name": "breakdown", "in": "query", "required": False,
                   "schema": {"type": "string", "enum": list(VISIT_DIMENSIONS)},
                   "description": "Adds `breakdown`: the steps per value of this visit dimension."},
                  {"name": "limit", "in": "query", "required": False,
                   "schema": {"type": "integer", "minimum": 1, "maximum": MAX_BREAKDOWN_LIMIT,
                              "default": DEFAULT_BREAKDOWN_LIMIT},
                   "description": "At most this many breakdown groups."},
              ]),
]
