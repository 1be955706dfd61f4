"""Each provider's `verify` on its own: secret rotation, header spellings, the injected clock.

Signatures are built here from the provider's documented scheme, never with our own code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from postmetric.revenue.providers import lemonsqueezy, paddle, polar, stripe
from postmetric.revenue.providers.common import Forged, Stale, Unsigned

BODY = b'{"id":"evt_1","type":"checkout.session.completed"}'
NOW = 1_773_230_400
OLD, NEW = "whsec_old", "whsec_new"


def hexmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def test_stripe_accepts_any_of_several_v1_signatures_during_a_secret_roll():
    header = f"t={NOW},v1={hexmac(OLD, f'{NOW}.'.encode() + BODY)},v1={hexmac(NEW, f'{NOW}.'.encode() + BODY)}"
    stripe.verify(BODY, {"stripe-signature": header}, NEW, NOW + 299)
    with pytest.raises(Stale):
        stripe.verify(BODY, {"stripe-signature": header}, NEW, NOW + 301)
    with pytest.raises(Forged):
        stripe.verify(BODY, {"stripe-signature": header}, "whsec_other", NOW)
    for broken in ("", "v1=abc", f"t=soon,v1={hexmac(NEW, BODY)}"):
        with pytest.raises(Unsigned):
            stripe.verify(BODY, {"stripe-signature": broken}, NEW, NOW)


def test_stripe_refuses_a_header_with_two_timestamps_so_a_captured_delivery_cannot_be_replayed():
    """A delivery signed an hour ago, its header given a fresh `t=` next to the signed one."""
    captured = NOW - 3600
    signature = hexmac(NEW, f"{captured}.".encode() + BODY)
    with pytest.raises(Stale):
        stripe.verify(BODY, {"stripe-signature": f"t={captured},v1={signature}"}, NEW, NOW)
    for header in (f" t={NOW},t={captured},v1={signature}", f"t={NOW}, t={captured},v1={signature}",
                   f"t={NOW},t={captured},v1={signature}", f"t={captured},t={NOW},v1={signature}",
                   f"t={NOW},v1={signature},t={captured}", f"t={captured},v1={signature},t={NOW}"):
        with pytest.raises(Unsigned, match="one timestamp"):
            stripe.verify(BODY, {"stripe-signature": header}, NEW, NOW)


def test_paddle_refuses_a_header_with_two_timestamps():
    captured = NOW - 3600
    signature = hexmac(NEW, f"{captured}:".encode() + BODY)
    for header in (f"ts={NOW};ts={captured};h1={signature}", f"ts={captured};ts={NOW};h1={signature}",
                   f" ts={NOW}; ts={captured};h1={signature}"):
        with pytest.raises(Unsigned):
            paddle.verify(BODY, {"paddle-signature": header}, NEW, NOW)


OUT_OF_RANGE_TIMESTAMPS = ["99999999999999999999", "253402300800", "1e20", "-1", "1773230400.5", "٣",
                           "0x10", "9" * 5000, "+1773230400"]


def _signed_headers(provider: str, sent: str) -> dict[str, str]:
    """`provider`'s headers signed correctly over BODY with NEW, as if `sent` were a timestamp."""
    if provider == "stripe":
        return {"stripe-signature": f"t={sent},v1={hexmac(NEW, f'{sent}.'.encode() + BODY)}"}
    if provider == "paddle":
        return {"paddle-signature": f"ts={sent};h1={hexmac(NEW, f'{sent}:'.encode() + BODY)}"}
    digest = hmac.new(NEW.encode(), f"msg_1.{sent}.".encode() + BODY, hashlib.sha256).digest()
    return {"webhook-id": "msg_1", "webhook-timestamp": sent,
            "webhook-signature": f"v1,{base64.b64encode(digest).decode()}"}


@pytest.mark.parametrize("provider", ["stripe", "paddle", "polar"])
@pytest.mark.parametrize("sent", OUT_OF_RANGE_TIMESTAMPS, ids=lambda sent: sent[:24])
def test_a_header_timestamp_that_is_not_a_sane_unix_time_is_refused_before_any_date_arithmetic(provider, sent):
    module = {"stripe": stripe, "paddle": paddle, "polar": polar}[provider]
    with pytest.raises((Unsigned, Stale)):
        module.verify(BODY, _signed_headers(provider, sent), NEW, NOW)


def test_stripe_refuses_a_body_that_is_not_utf8_as_forged():
    body = b"\xff\xfe"
    header = f"t={NOW},v1={hexmac(NEW, f'{NOW}.'.encode() + body)}"
    with pytest.raises(Forged):
        stripe.verify(body, {"stripe-signature": header}, NEW, NOW)


def test_paddle_accepts_either_h1_while_a_secret_rotates_and_checks_the_injected_clock():
    message = f"{NOW}:".encode() + BODY
    header = f"ts={NOW};h1={hexmac(OLD, message)};h1={hexmac(NEW, message)}"
    paddle.verify(BODY, {"paddle-signature": header}, OLD, NOW - 300)
    with pytest.raises(Stale):
        paddle.verify(BODY, {"paddle-signature": header}, OLD, NOW - 301)
    with pytest.raises(Forged):
        paddle.verify(BODY + b" ", {"paddle-signature": header}, OLD, NOW)
    with pytest.raises(Unsigned):
        paddle.verify(BODY, {"paddle-signature": f"h1={hexmac(OLD, message)}"}, OLD, NOW)


def test_polar_checks_each_space_separated_signature_and_skips_other_versions():
    secret = "polar_whs_abc123"
    digest = hmac.new(secret.encode(), f"msg_1.{NOW}.".encode() + BODY, hashlib.sha256).digest()
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(NOW),
               "webhook-signature": f"v1a,xyz v1,{base64.b64encode(b'nope').decode()} "
                                    f"v1,{base64.b64encode(digest).decode()}"}
    polar.verify(BODY, headers, secret, NOW)
    with pytest.raises(Stale):
        polar.verify(BODY, headers, secret, NOW + 3600)
    with pytest.raises(Forged):
        polar.verify(BODY, headers | {"webhook-id": "msg_2"}, secret, NOW)
    with pytest.raises(Unsigned):
        polar.verify(BODY, {k: v for k, v in headers.items() if k != "webhook-id"}, secret, NOW)


def test_lemon_squeezy_compares_the_hex_digest_of_the_raw_body():
    secret = "ls-secret"
    lemonsqueezy.verify(BODY, {"x-signature": hexmac(secret, BODY)}, secret, 0)
    lemonsqueezy.verify(BODY, {"x-signature": hexmac(secret, BODY).upper()}, secret, 0)
    with pytest.raises(Forged):
        lemonsqueezy.verify(BODY + b"\n", {"x-signature": hexmac(secret, BODY)}, secret, 0)
    with pytest.raises(Unsigned):
        lemonsqueezy.verify(BODY, {}, secret, 0)
