"""Payment provider webhooks (SPEC §6): `POST /api/webhooks/{provider}/{site_public_id}`.

No API credentials: a delivery is trusted because it is signed with the secret the site set for
that provider in its Revenue settings. The route reads the raw body, finds the site and secret,
has the provider module verify the signature over the raw bytes (and the timestamp against the
app's clock), only then parses JSON, turns the event into payments and records them with
`record_payments`, the Payments API's own path into the ledger.

Answers (a provider retries on anything but 2xx, so only bad input gets 4xx, never a 500):
unknown site 404; no secret set 400; unsigned or forged 401; stale 400; malformed after a valid
signature 400; an event type we do not use 200 `{"ok": true, "ignored": type}`; recorded 200
`{"ok": true, "recorded": N, "duplicates": M}`. A rejected delivery writes nothing to the ledger.

Secondary responsibility: every verified delivery (a correct signature over a fresh timestamp)
is noted as the provider's last delivery (time, event type, result), shown in the Revenue
settings. Refused ones are only logged: anyone who knows the URL can send one, and a forged
note would hide the real deliveries.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timezone

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.errors import ValidationError
from postmetric.revenue.providers import PROVIDERS
from postmetric.revenue.providers.common import Delivery, MalformedPayload, Rejected
from postmetric.revenue.providers.settings import WebhookTarget, record_delivery, webhook_target
from postmetric.revenue.recorder import record_payments
from postmetric.web.errors import HttpError, error_response
from postmetric.web.responses import json_response
from postmetric.web.services import Services, services_of

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024  # Stripe's largest events (invoices with many lines) stay far below


def endpoint(provider: str):
    """The route handler for one provider's webhook URL."""
    module = PROVIDERS[provider]

    async def webhook(request: Request) -> Response:
        services = services_of(request)
        now = services.clock()
        raw = await _body(request)
        if raw is None:
            raise HttpError(413, f"body: larger than {MAX_BODY_BYTES} bytes")
        public_id = request.path_params["site_public_id"]
        target = await run_in_threadpool(_target, services.metadata, public_id, provider, services.secret_box)
        if target is None:
            raise HttpError(404, f"site: no site with the id {public_id!r}")
        site_id, currency, secret = target.site_id, target.currency, target.secret
        if not secret:
            raise HttpError(400, f"{provider}: no webhook secret is set for this site; set it in the site's Revenue "
                                 f"settings (or PUT /api/v1/sites/{{id}}/revenue/{provider})")
        try:
            module.verify(raw, request.headers, secret, now)
        except Rejected as rejected:
            # Not noted as the last delivery: anyone can send one, and it must not hide the real ones.
            log.info("%s webhook for site %s refused: %s", provider, site_id, rejected.message)
            return error_response(rejected)
        hinted_type = request.headers.get("x-event-name")  # Lemon Squeezy names the event in a header
        delivery: Delivery | None = None
        try:
            delivery = _delivery(module, raw)
            response, result = await _record(services, provider, delivery, site_id, currency, now)
            event_type = delivery.event_type
        except HttpError as refused:
            response, result = error_response(refused), f"rejected: {refused.message}"
            event_type = (delivery.event_type if delivery is not None else None) or hinted_type
        await run_in_threadpool(_note_delivery, services.metadata, site_id, provider, now, event_type, result)
        return response

    webhook.__name__ = f"{provider}_webhook"
    return webhook


def _delivery(module, raw: bytes) -> Delivery:
    """What a verified body means; HttpError 400 for one that is not an event of the provider's."""
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise HttpError(400, "body: is not valid JSON") from None
    if not isinstance(event, dict):
        raise HttpError(400, "body: must be a JSON object")
    try:
        return module.parse(event)
    except MalformedPayload as error:
        raise HttpError(400, f"payload: {error}") from None


async def _record(services: Services, provider: str, delivery: Delivery, site_id: int, currency: str,
                  now: float) -> tuple[Response, str]:
    """The answer to a verified delivery and its result note; HttpError 400 for payments the ledger refuses."""
    if delivery.ignored is not None:
        body = {"ok": True, "ignored": delivery.event_type}
        if delivery.ignored != delivery.event_type:
            body["reason"] = delivery.ignored
        return json_response(body), f"ignored: {delivery.ignored}"
    try:
        recorded = await run_in_threadpool(functools.partial(
            record_payments, services.events, services.rates, site_id=site_id, site_currency=currency,
            raws=delivery.payments, provider=provider, now=datetime.fromtimestamp(now, timezone.utc)))
    except ValidationError as error:
        raise HttpError(400, f"payload: {error}") from None
    added = sum(1 for entry in recorded if entry.added)
    duplicates = len(recorded) - added
    result = "duplicate" if added == 0 and duplicates else f"recorded {added}" + (
        f", duplicates {duplicates}" if duplicates else "")
    return json_response({"ok": True, "recorded": added, "duplicates": duplicates}), result


async def _body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    # Compared as text first: a length of thousands of digits is never turned into an integer.
    if declared is not None and declared.isascii() and declared.isdigit() and (
            len(declared) > len(str(MAX_BODY_BYTES)) or int(declared) > MAX_BODY_BYTES):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return body


def _target(sessions, public_id: str, provider: str, secret_box) -> WebhookTarget | None:
    with sessions() as session:
        return webhook_target(session, public_id=public_id, provider=provider, secret_box=secret_box)


def _note_delivery(sessions, site_id: int, provider: str, now: float, event_type: str | None, result: str) -> None:
    try:
        with sessions() as session:
            record_delivery(session, site_id=site_id, provider=provider,
                            at=datetime.fromtimestamp(now, timezone.utc), event_type=event_type, result=result)
            session.commit()
    except Exception:  # the delivery's answer matters more than the note; a site deleted meanwhile is fine
        log.exception("could not note the %s delivery for site %s", provider, site_id)


routes = [Route(f"/api/webhooks/{provider}/{{site_public_id}}", endpoint(provider), methods=["POST"])
          for provider in PROVIDERS]
