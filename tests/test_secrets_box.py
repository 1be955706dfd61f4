"""Secrets at rest: sealed values open under the key that sealed them, in the place they were sealed for."""

from __future__ import annotations

import pytest

from postmetric.secrets_box import SEALED_PREFIX, SecretBox, SecretUnreadable, derive_key

SECRET = "whsec_5d1Xq0kZr3TnV8yQ2m4PaB7cLw9EsJ6h"
HERE = "revenue_providers.webhook_secret:1:stripe"


def test_a_sealed_secret_opens_and_does_not_contain_the_secret():
    box = SecretBox("current key")
    sealed = box.seal(SECRET, context=HERE)
    assert sealed.startswith(SEALED_PREFIX) and SECRET not in sealed and "whsec" not in sealed
    assert box.open(sealed, context=HERE) == SECRET
    assert box.seal(SECRET, context=HERE) != sealed  # a fresh nonce each time
    assert box.needs_sealing(sealed) is False


@pytest.mark.parametrize("secret", ["x", "ü" * 255, "a" * 255, "pmenc:v1:looks-sealed"])
def test_any_secret_round_trips(secret):
    box = SecretBox("k")
    assert box.open(box.seal(secret, context=HERE), context=HERE) == secret


def test_a_value_sealed_under_a_previous_key_opens_until_it_is_resealed():
    old = SecretBox("old key").seal(SECRET, context=HERE)
    rotating = SecretBox("new key", previous=["old key"])
    assert rotating.open(old, context=HERE) == SECRET
    assert rotating.needs_sealing(old) is True
    resealed = rotating.seal(rotating.open(old, context=HERE), context=HERE)
    assert SecretBox("new key").open(resealed, context=HERE) == SECRET
    with pytest.raises(SecretUnreadable):
        SecretBox("old key").open(resealed, context=HERE)


@pytest.mark.parametrize("other", [SecretBox("another key"), SecretBox("another key", previous=["third key"])])
def test_a_box_without_the_sealing_key_refuses_clearly(other):
    sealed = SecretBox("the key").seal(SECRET, context=HERE)
    with pytest.raises(SecretUnreadable, match="POSTMETRIC_SECRET_KEY_PREVIOUS"):
        other.open(sealed, context=HERE)


def test_a_sealed_value_moved_to_another_row_or_tampered_with_does_not_open():
    box = SecretBox("k")
    sealed = box.seal(SECRET, context=HERE)
    with pytest.raises(SecretUnreadable):
        box.open(sealed, context="revenue_providers.webhook_secret:2:stripe")
    body = sealed.rsplit(":", 1)[1]
    flipped = body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]
    for damaged in (sealed.rsplit(":", 1)[0] + ":" + flipped, sealed[:-8], sealed + "!!"):
        with pytest.raises(SecretUnreadable):
            box.open(damaged, context=HERE)


def test_legacy_plaintext_reads_as_it_is_and_needs_sealing():
    box = SecretBox("k")
    assert box.open(SECRET, context=HERE) == SECRET
    assert box.needs_sealing(SECRET) is True


def test_keys_derived_for_different_purposes_or_secrets_differ():
    keys = {derive_key(secret, purpose=purpose) for secret in ("a", "b") for purpose in ("x", "y")}
    assert len(keys) == 4 and all(len(key) == 32 for key in keys)
    with pytest.raises(ValueError):
        SecretBox("")
