"""Accounts: emails are normalised and checked, passwords hashed with argon2 and verified."""

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from postmetric.accounts import users
from postmetric.accounts.users import authenticate, create_user, get_user_by_email
from postmetric.errors import AlreadyExists, ValidationError

PASSWORD = "correct horse battery"


def test_create_user_stores_a_lower_case_email_and_an_argon2_hash(db_session):
    user = create_user(db_session, email="  Ada@Example.COM ", password=PASSWORD)
    db_session.commit()
    assert user.id is not None
    assert user.email == "ada@example.com"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert user.created_at.tzinfo is not None


@pytest.mark.parametrize(
    "email", ["", "ada", "ada@example", "ada@@example.com", "a da@example.com", "@example.com"]
)
def test_create_user_refuses_an_invalid_email(db_session, email):
    with pytest.raises(ValidationError, match="not an email address") as error:
        create_user(db_session, email=email, password=PASSWORD)
    assert error.value.field == "email"


def test_create_user_refuses_a_password_shorter_than_10_characters(db_session):
    with pytest.raises(ValidationError, match="at least 10 characters") as error:
        create_user(db_session, email="ada@example.com", password="123456789")
    assert error.value.field == "password"


def test_create_user_refuses_an_email_already_taken_in_any_case(db_session):
    create_user(db_session, email="ada@example.com", password=PASSWORD)
    with pytest.raises(AlreadyExists, match="a user with email 'ada@example.com' already exists"):
        create_user(db_session, email="ADA@example.com", password=PASSWORD)


def test_get_user_by_email_ignores_case_and_spaces(db_session):
    user = create_user(db_session, email="ada@example.com", password=PASSWORD)
    assert get_user_by_email(db_session, " Ada@Example.com") is user
    assert get_user_by_email(db_session, "bob@example.com") is None


def test_authenticate_accepts_the_right_password_only(db_session):
    user = create_user(db_session, email="ada@example.com", password=PASSWORD)
    assert authenticate(db_session, email="ADA@example.com", password=PASSWORD) is user
    assert authenticate(db_session, email="ada@example.com", password=PASSWORD + "!") is None


def test_authenticate_verifies_a_dummy_hash_for_an_unknown_email(db_session, monkeypatch):
    verified = []
    real_verify = users._hasher.verify

    def counting_verify(*args):
        verified.append(args)
        return real_verify(*args)

    monkeypatch.setattr(users._hasher, "verify", counting_verify)
    assert authenticate(db_session, email="nobody@example.com", password=PASSWORD) is None
    assert len(verified) == 1  # as slow as a wrong password, so the answer does not reveal accounts


def test_authenticate_upgrades_a_hash_made_with_weaker_parameters(db_session):
    user = create_user(db_session, email="ada@example.com", password=PASSWORD)
    weak = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024),))
    weak_hash = user.password_hash = weak.hash(PASSWORD)
    assert authenticate(db_session, email="ada@example.com", password=PASSWORD) is user
    assert user.password_hash != weak_hash
    assert not users._hasher.verify_and_update(PASSWORD, user.password_hash)[1]
