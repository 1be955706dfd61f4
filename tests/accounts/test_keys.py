"""Site keys and account tokens: hashed at rest, shown once, revocable, bound to their site or user."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from postmetric.accounts.keys import (
    authenticate_account_token,
    authenticate_site_key,
    create_account_token,
    create_site_key,
    revoke_account_token,
    revoke_site_key,
)
from postmetric.accounts.users import create_user
from postmetric.errors import NotFound, ValidationError
from postmetric.sites.service import create_site, delete_site
from postmetric.store.metadata import AccountToken, ApiKey

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def owner(db_session):
    return create_user(db_session, email="owner@example.com", password="long enough")


@pytest.fixture
def site(db_session, owner):
    return create_site(db_session, owner=owner, domain="a.example")


@pytest.fixture
def other_site(db_session, owner):
    return create_site(db_session, owner=owner, domain="b.example")


def stored_rows(session, model):
    return [tuple(row) for row in session.execute(select(model.__table__)).all()]


def test_a_site_key_is_shown_once_and_only_its_sha256_is_stored(db_session, site):
    key, raw = create_site_key(db_session, site=site, name="backend")
    db_session.commit()
    assert raw.startswith("pmk_") and len(raw) > 40
    assert key.prefix == raw[:8]
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in repr(stored_rows(db_session, ApiKey))


def test_a_site_key_authenticates_and_records_when_it_was_used(db_session, site):
    key, raw = create_site_key(db_session, site=site, name="backend")
    assert authenticate_site_key(db_session, raw, now=NOW) is key
    assert key.last_used_at == NOW
    assert key.site is site


def test_last_used_at_is_refreshed_at_most_once_a_minute(db_session, site):
    key, raw = create_site_key(db_session, site=site, name="backend")
    authenticate_site_key(db_session, raw, now=NOW)
    authenticate_site_key(db_session, raw, now=NOW + timedelta(seconds=59))
    assert key.last_used_at == NOW
    authenticate_site_key(db_session, raw, now=NOW + timedelta(seconds=60))
    assert key.last_used_at == NOW + timedelta(seconds=60)


def test_last_used_at_survives_a_round_trip_through_the_database(db_session, site):
    key, raw = create_site_key(db_session, site=site, name="backend")
    authenticate_site_key(db_session, raw, now=NOW)
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(ApiKey, key.id).last_used_at == NOW


@pytest.mark.parametrize("raw", ["", "pmk_", "pmk_not-a-real-key", "Bearer pmk_x", "pmt_whatever"])
def test_unknown_site_keys_are_rejected(db_session, site, raw):
    create_site_key(db_session, site=site, name="backend")
    assert authenticate_site_key(db_session, raw, now=NOW) is None


def test_a_revoked_site_key_is_rejected(db_session, site):
    key, raw = create_site_key(db_session, site=site, name="backend")
    revoke_site_key(db_session, site=site, key_id=key.id, now=NOW)
    assert key.revoked_at == NOW
    assert authenticate_site_key(db_session, raw, now=NOW + timedelta(seconds=1)) is None


def test_revoking_twice_keeps_the_first_time(db_session, site):
    key, _ = create_site_key(db_session, site=site, name="backend")
    revoke_site_key(db_session, site=site, key_id=key.id, now=NOW)
    revoke_site_key(db_session, site=site, key_id=key.id, now=NOW + timedelta(days=1))
    assert key.revoked_at == NOW


def test_a_key_of_site_a_never_authenticates_as_site_b(db_session, site, other_site):
    key, raw = create_site_key(db_session, site=site, name="backend")
    assert authenticate_site_key(db_session, raw, now=NOW, site_id=other_site.id) is None
    assert authenticate_site_key(db_session, raw, now=NOW, site_id=site.id) is key
    assert authenticate_site_key(db_session, raw, now=NOW).site_id == site.id


def test_a_site_cannot_revoke_another_sites_key(db_session, site, other_site):
    key, raw = create_site_key(db_session, site=site, name="backend")
    with pytest.raises(NotFound, match="site key"):
        revoke_site_key(db_session, site=other_site, key_id=key.id, now=NOW)
    assert authenticate_site_key(db_session, raw, now=NOW) is key


def test_deleting_a_site_deletes_its_keys(db_session, site):
    key, raw = create_site_key(db_session, site=site, name="backend")
    delete_site(db_session, site)
    db_session.commit()
    assert authenticate_site_key(db_session, raw, now=NOW) is None
    assert stored_rows(db_session, ApiKey) == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 256])
def test_a_key_needs_a_name(db_session, site, name):
    with pytest.raises(ValidationError, match="1 to 255 characters") as error:
        create_site_key(db_session, site=site, name=name)
    assert error.value.field == "name"


def test_an_account_token_is_shown_once_and_only_its_sha256_is_stored(db_session, owner):
    token, raw = create_account_token(db_session, user=owner, name="laptop")
    db_session.commit()
    assert raw.startswith("pmt_")
    assert token.prefix == raw[:8]
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in repr(stored_rows(db_session, AccountToken))


def test_an_account_token_authenticates_as_its_user_until_revoked(db_session, owner):
    token, raw = create_account_token(db_session, user=owner, name="laptop")
    assert authenticate_account_token(db_session, raw, now=NOW) is token
    assert token.user is owner
    assert token.last_used_at == NOW
    revoke_account_token(db_session, user=owner, token_id=token.id, now=NOW)
    assert authenticate_account_token(db_session, raw, now=NOW) is None


def test_site_keys_and_account_tokens_are_not_interchangeable(db_session, owner, site):
    _, site_key = create_site_key(db_session, site=site, name="backend")
    _, account_token = create_account_token(db_session, user=owner, name="laptop")
    assert authenticate_account_token(db_session, site_key, now=NOW) is None
    assert authenticate_site_key(db_session, account_token, now=NOW) is None


def test_a_user_cannot_revoke_another_users_token(db_session, owner):
    token, _ = create_account_token(db_session, user=owner, name="laptop")
    stranger = create_user(db_session, email="stranger@example.com", password="long enough")
    with pytest.raises(NotFound, match="account token"):
        revoke_account_token(db_session, user=stranger, token_id=token.id, now=NOW)
    assert token.revoked_at is None
