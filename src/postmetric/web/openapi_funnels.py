"""The OpenAPI paths of a site's funnels and their results (merged into `web/openapi.py`)."""

from __future__ import annotations

from typing import Any

from postmetric.stats.funnels import DEFAULT_BREAKDOWN_LIMIT, MAX_BREAKDOWN_LIMIT
from postmetric.stats.registry import VISIT_DIMENSIONS
from postmetric.web.openapi_accounts import E400, E401, E403, E404, SITE_PARAM, _error, _op

F = "Funnels"
FUNNEL_TAGS = [{"name": F}]
READERS = [{"bearerAuth": []}, {"sessionCookie": []}, {"shareLink": []}]

FUNNEL = {"id": 1, "site_id": "pm_AbC123xyz987", "name": "Signup",
          "steps": [{"type": "page", "match": "/pricing", "label": None},
                    {"type": "page", "match": "/signup*", "label": "Signup form"},
                    {"type": "goal", "match": "signup", "label": None}],
          "created_at": "2026-11-26T10:00:00Z", "updated_at": "2026-11-26T10:00:00Z"}
BODY = {"name": "Signup", "steps": [{"type": "page", "match": "/pricing"},
                                    {"type": "page", "match": "/signup*", "label": "Signup form"},
                                    {"type": "goal", "match": "signup"}]}


def _step(index: int, visitors: int, previous: int | None, first: int, median: float | None) -> dict[str, Any]:
    step = FUNNEL["steps"][index - 1]
    return {"index": index, **step, "visitors": visitors,
            "conversion_from_previous": 100.0 if previous is None else round(100 * visitors / previous, 2),
            "conversion_from_first": round(100 * visitors / first, 2),
            "drop_off": 0 if previous is None else previous - visitors, "median_seconds_to_next": median}


RESULTS = {
    "funnel": FUNNEL,
    "date_range": {"start": "2026-10-28T00:00:00+01:00", "end": "2026-11-27T00:00:00+01:00"},
    "steps": [_step(1, 1200, None, 1200, 42.5), _step(2, 300, 1200, 1200, 95.0), _step(3, 120, 300, 1200, None)],
    "breakdown": [{"value": "Google", "steps": [_step(1, 700, None, 700, 40.0), _step(2, 210, 700, 700, 90.0),
                                                _step(3, 90, 210, 700, None)]}],
}
FUNNEL_ID = {"name": "funnel_id", "in": "path", "required": True, "schema": {"type": "integer"}}
E404_FUNNEL = {"404": _error("The funnel does not exist, is another site's, or the caller cannot read its site.",
                             "funnel_id: funnel 7 not found")}
_BODY_RULES = (
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

FUNNEL_PATHS: dict[str, Any] = {
    "/api/v1/sites/{id}/funnels": {
        "get": _op("list_funnels", "The site's funnels, oldest first.", tag=F, params=[SITE_PARAM],
                   ok=("200", {"funnels": [FUNNEL]}), errors={**E401, **E404}, security=READERS,
                   description="Readable by members, the site's keys and its share link."),
        "post": _op("create_funnel", "Define a funnel (owners and admins).", tag=F, params=[SITE_PARAM], body=BODY,
                    ok=("201", FUNNEL), errors={**E400, **E401, **E403, **E404}, description=_BODY_RULES),
    },
    "/api/v1/sites/{id}/funnels/{funnel_id}": {
        "get": _op("get_funnel", "One funnel of the site.", tag=F, params=[SITE_PARAM, FUNNEL_ID], ok=("200", FUNNEL),
                   errors={**E401, **E404}, security=READERS),
        "put": _op("replace_funnel", "Redefine a funnel with a whole body, as for creating one (owners and admins).",
                   tag=F, params=[SITE_PARAM, FUNNEL_ID], body=BODY, ok=("200", FUNNEL),
                   errors={**E400, **E401, **E403, **E404}, description=_BODY_RULES),
        "delete": _op("delete_funnel", "Delete a funnel (owners and admins).", tag=F, params=[SITE_PARAM, FUNNEL_ID],
                      ok=None, errors={**E401, **E403, **E404}),
    },
    "/api/v1/funnels/{funnel_id}/results": {
        "get": _op(
            "funnel_results", "Visitors at each step of a funnel over a date range, optionally by a visit dimension.",
            tag=F, ok=("200", RESULTS), errors={**E400, **E401, **E404_FUNNEL}, security=READERS,
            description=_COUNTING,
            params=[
                FUNNEL_ID,
                {"name": "date_range", "in": "query", "required": False, "schema": {"type": "string", "default": "30d"},
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
    },
}
