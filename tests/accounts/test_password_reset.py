"""Password reset tokens: hashed, single use, one hour, and a reset ends the user's sessions."""

from datetime import UTC, datetime, timedelta

import pytest

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
