"""The Payments API (SPEC §6): record a payment from your backend, or take one back.

`Authorization: Bearer <site key>` only: a payment belongs to the key's site, so an account token
or the dashboard's cookie (which do not say which site) get 403. Rate limits and error shapes are
those of every `api_endpoint` (`web/auth.py`).

The insert is synchronous (in the thread pool, one store transaction): when 201 or 200 returns,
the payment is in the event store, so no journal sits in front of it, unlike tracker events,
which arrive thousands of times more often.
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.revenue.ledger import MAX_TEXT, payment_json
from postmetric.revenue.recorder import record_payments
from postmetric.web.bodies import json_object
from postmetric.web.auth import Caller, api_endpoint, require_site
from postmetric.web.contract import revenue as contract
from postmetric.web.errors import HttpError
from postmetric.web.responses import json_response
from postmetric.web.services import Services, services_of

PROVIDER = "api"


@api_endpoint
async def post_payment(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/payments`: 201 with the payment, or 200 with the one already recorded."""
    services = services_of(request)
    _require_site_key(caller)
    raw = await json_object(request)
    site = await require_site(request, caller, None)
    # In the thread pool: the ECB rates load on first use (about 0.2 s).
    [recorded] = await run_in_threadpool(functools.partial(
        record_payments, services.events, services.rates, site_id=site.id, site_currency=site.currency,
        raws=[raw], provider=PROVIDER, now=_now(services)))
    return json_response(contract.PaymentRecorded(ok=True, payment=contract.Payment(**payment_json(recorded.payment))),
                         201 if recorded.added else 200)


@api_endpoint
async def delete_payment(request: Request, caller: Caller) -> Response:
    """`DELETE /api/v1/payments?transaction_id=`: 204, or 404 when this site has no such payment."""
    services = services_of(request)
    _require_site_key(caller)
    transaction_id = (request.query_params.get("transaction_id") or "").strip()
    if not transaction_id:
        raise HttpError(400, "transaction_id: is required")
    if len(transaction_id) > MAX_TEXT:
        raise HttpError(400, f"transaction_id: is longer than {MAX_TEXT} characters")
    site = await require_site(request, caller, None)
    if not await run_in_threadpool(services.events.delete_payment, site.id, PROVIDER, transaction_id):
        raise HttpError(404, f"transaction_id: payment {transaction_id!r} not found")
    return Response(status_code=204)


def _require_site_key(caller: Caller) -> None:
    if caller.kind != "site_key":
        raise HttpError(403, "authorization: payments are recorded with the site's key (pmk_…), "
                             "not an account token or a session")


def _now(services: Services) -> datetime:
    return datetime.fromtimestamp(services.clock(), timezone.utc)


routes = [
    Route("/api/v1/payments", post_payment, methods=["POST"]),
    Route("/api/v1/payments", delete_payment, methods=["DELETE"]),
]
