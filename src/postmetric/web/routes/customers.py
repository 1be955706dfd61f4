"""The customers API: `GET /api/v1/customers?site_id=&date_range=&limit=&offset=` (SPEC §6, §7).

Who paid in the range and how much, one row per customer, one user's devices being one customer
(`stats/customers.py`, `revenue/people.py`). Callers and errors as for the stats API
(`web/routes/stats.py`): a site key, an account token or the dashboard's session; 400 naming
the bad parameter, 404 for a site the caller cannot see.

`date_range` is a range name of the query API (`30d`, the default, `7d`, `month`, `all`…) or
`<start>,<end>` as ISO dates or datetimes, resolved in the site's time zone by the query API's
own parser (`stats/parse.py`), so both read dates the same way.
"""

from __future__ import annotations

from datetime import datetime, timezone

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.stats.customers import MAX_LIMIT, customers
from postmetric.stats.parse import MAX_OFFSET, parse_query
from postmetric.stats.query import DateRange
from postmetric.web.auth import Caller, VisibleSite, api_endpoint, require_site
from postmetric.web.errors import HttpError
from postmetric.web.responses import json_response
from postmetric.web.services import Services, services_of

DEFAULT_RANGE = "30d"
DEFAULT_LIMIT = 50


@api_endpoint
async def get_customers(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/customers`: `{"results": [...], "meta": {"currency", "total_rows"}}`."""
    services = services_of(request)
    params = request.query_params
    site = await require_site(request, caller, params.get("site_id"))
    date_range = _date_range(params.get("date_range") or DEFAULT_RANGE, site, _now(services))
    limit = _integer(params.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _integer(params.get("offset"), "offset", 0, 0, MAX_OFFSET)
    body = await run_in_threadpool(
        lambda: customers(services.events, site_id=site.id, currency=site.currency, start=date_range.start,
                          end=date_range.end, limit=limit, offset=offset))
    return json_response(body)


def _date_range(text: str, site: VisibleSite, now: datetime) -> DateRange:
    value: str | list[str] = [part.strip() for part in text.split(",")] if "," in text else text.strip()
    # The query API's parser, with a metric only to make the query whole.
    query = parse_query({"site_id": site.public_id, "date_range": value, "metrics": ["visitors"]},
                        site_timezone=site.timezone, now=now)
    return query.date_range


def _integer(text: str | None, name: str, default: int, low: int, high: int) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise HttpError(400, f"{name}: must be an integer between {low} and {high}")
    return value


def _now(services: Services) -> datetime:
    return datetime.fromtimestamp(services.clock(), timezone.utc)


routes = [Route("/api/v1/customers", get_customers, methods=["GET"])]
