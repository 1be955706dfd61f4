"""Who may sign up: `open` anyone, `invite` the first account then invitees only, `closed` nobody."""

from datetime import UTC, datetime, timedelta

import pytest

from postmetric.accounts.signup import sign_up, signup_policy
from postmetric.accounts.users import create_user
from postmetric.errors import Forbidden
from postmetric.sites.members import INVITATION_LIFETIME, invite
from postmetric.sites.service import create_site

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
PASSWORD = "correct horse battery"


def join(db_session, mode, email, invitation=None, now=NOW):
    return sign_up(db_session, mode=mode, email=email, password=PASSWORD, invitation=invitation, now=now)


@pytest.mark.parametrize("mode, first_open, later_open", [("open", True, True), ("invite", True, False),
                                                          ("closed", False, False)])
def test_the_policy_before_and_after_the_first_account(db_session, mode, first_open, later_open):
    assert signup_policy(db_session, mode)["open"] is first_open
    create_user(db_session, email="ada@example.com", password=PASSWORD)
    policy = signup_policy(db_session, mode)
    assert policy["open"] is later_open and (policy["reason"] is None) is later_open


def test_by_invitation_only_the_invited_address_with_a_live_token_gets_in(db_session):
    owner = join(db_session, "invite", "ada@example.com")
    site = create_site(db_session, owner=owner, domain="ada.example", timezone="UTC")
    _, token = invite(db_session, site, email="bob@example.com", role="viewer", acting_role="owner", now=NOW)
    refusals = [("carol@example.com", token, NOW), ("bob@example.com", None, NOW), ("bob@example.com", "nope", NOW),
                ("bob@example.com", token, NOW + INVITATION_LIFETIME + timedelta(seconds=1))]
    for email, invitation, now in refusals:
        with pytest.raises(Forbidden, match="invitation only"):
            join(db_session, "invite", email, invitation, now)
    assert join(db_session, "invite", "Bob@Example.com", token).email == "bob@example.com"


def test_closed_refuses_even_with_an_invitation(db_session):
    owner = create_user(db_session, email="ada@example.com", password=PASSWORD)
    site = create_site(db_session, owner=owner, domain="ada.example", timezone="UTC")
    _, token = invite(db_session, site, email="bob@example.com", role="viewer", acting_role="owner", now=NOW)
    with pytest.raises(Forbidden, match="postmetric users create"):
        join(db_session, "closed", "bob@example.com", token)
