"""Password reset tokens: hashed, single use, one hour, and a reset ends the user's sessions."""

from datetime import UTC, datetime, timedelta

import pytest

from postmetric.accounts.keys import authenticate_account_token, create_account_token
from postmetric.accounts.password_reset import RESET_LIFETIME, confirm_reset, request_reset
from postmetric.accounts.users import authenticate, create_user
from postmetric.accounts.web_sessions import find_session, start_session
from postmetric.errors import ValidationError
from postmetric.store.metadata import PasswordReset

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_a_reset_sets_the_password_once_and_ends_every_session(db_session):
    user = create_user(db_session, email="ada@example.com", password="old password")
    _, raw_session = start_session(db_session, user=user, now=NOW)
    found, token = request_reset(db_session, email="ADA@example.com", now=NOW)
    assert found is user and db_session.query(PasswordReset).one().token_hash != token
    confirm_reset(db_session, token=token, password="new password", now=NOW + timedelta(minutes=5))
    assert authenticate(db_session, email="ada@example.com", password="new password") is user
    assert find_session(db_session, raw_session, now=NOW) is None
    with pytest.raises(ValidationError, match="unknown, used or expired"):
        confirm_reset(db_session, token=token, password="third password", now=NOW)


def test_an_unknown_email_gets_no_token(db_session):
    assert request_reset(db_session, email="nobody@example.com", now=NOW) is None


@pytest.mark.parametrize("token", ["made-up", "", None, 42])
def test_unknown_tokens_are_refused(db_session, token):
    with pytest.raises(ValidationError) as error:
        confirm_reset(db_session, token=token, password="new password", now=NOW)
    assert error.value.field == "token"


def test_a_token_expires_after_an_hour_and_a_short_password_keeps_it(db_session):
    create_user(db_session, email="ada@example.com", password="old password")
    _, token = request_reset(db_session, email="ada@example.com", now=NOW)
    with pytest.raises(ValidationError, match="password"):
        confirm_reset(db_session, token=token, password="short", now=NOW)
    with pytest.raises(ValidationError, match="token"):
        confirm_reset(db_session, token=token, password="new password", now=NOW + RESET_LIFETIME)


def test_a_reset_revokes_every_account_token_of_the_user_only(db_session):
    ada = create_user(db_session, email="ada@example.com", password="old password")
    bob = create_user(db_session, email="bob@example.com", password="bobs password")
    ada_tokens = [create_account_token(db_session, user=ada, name=name)[1] for name in ("ci", "laptop")]
    _, bob_token = create_account_token(db_session, user=bob, name="ci")
    _, token = request_reset(db_session, email="ada@example.com", now=NOW)
    confirm_reset(db_session, token=token, password="new password", now=NOW)
    assert [authenticate_account_token(db_session, raw, now=NOW) for raw in ada_tokens] == [None, None]
    assert authenticate_account_token(db_session, bob_token, now=NOW) is not None


@pytest.mark.parametrize("links", [2, 3])
def test_only_the_newest_link_works_and_none_after_a_reset(db_session, links):
    create_user(db_session, email="ada@example.com", password="old password")
    tokens = [request_reset(db_session, email="ada@example.com", now=NOW + timedelta(minutes=i))[1]
              for i in range(links)]
    for older in tokens[:-1]:
        with pytest.raises(ValidationError, match="unknown, used or expired"):
            confirm_reset(db_session, token=older, password="new password", now=NOW + timedelta(minutes=9))
    confirm_reset(db_session, token=tokens[-1], password="new password", now=NOW + timedelta(minutes=9))
    for used in tokens:
        with pytest.raises(ValidationError, match="unknown, used or expired"):
            confirm_reset(db_session, token=used, password="other password", now=NOW + timedelta(minutes=10))


def test_a_reset_leaves_other_users_links_working(db_session):
    create_user(db_session, email="ada@example.com", password="old password")
    bob = create_user(db_session, email="bob@example.com", password="bobs password")
    _, bob_link = request_reset(db_session, email="bob@example.com", now=NOW)
    _, ada_link = request_reset(db_session, email="ada@example.com", now=NOW)
    confirm_reset(db_session, token=ada_link, password="new password", now=NOW)
    assert confirm_reset(db_session, token=bob_link, password="new password", now=NOW) is bob
