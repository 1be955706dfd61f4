"""Site members: the creator owns the site, invitations join users, roles obey the rules."""

from datetime import UTC, datetime

import pytest

from postmetric.accounts.users import create_user
from postmetric.errors import AlreadyExists, Forbidden, NotFound
from postmetric.sites.members import (
    INVITATION_LIFETIME,
    accept_invitation,
    change_role,
    invite,
    list_members,
    remove_member,
    role_of,
)
from postmetric.sites.service import create_site, delete_site

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


@pytest.fixture
def team(db_session):
    owner = create_user(db_session, email="owner@example.com", password="long enough!")
    bob = create_user(db_session, email="bob@example.com", password="long enough!")
    site = create_site(db_session, owner=owner, domain="example.com")
    return owner, bob, site


def test_the_creator_is_the_owner(db_session, team):
    owner, _, site = team
    assert role_of(db_session, site_id=site.id, user_id=owner.id) == "owner"
    assert [(m.user_id, m.role) for m in list_members(db_session, site)] == [(owner.id, "owner")]


def test_an_invitation_joins_only_the_invited_email_once(db_session, team):
    owner, bob, site = team
    _, token = invite(db_session, site, email="Bob@example.com", role="admin", acting_role="owner", now=NOW)
    assert role_of(db_session, site_id=site.id, user_id=bob.id) is None
    mallory = create_user(db_session, email="mallory@example.com", password="long enough!")
    with pytest.raises(Forbidden, match="another email"):
        accept_invitation(db_session, token=token, user=mallory, now=NOW)
    assert accept_invitation(db_session, token=token, user=bob, now=NOW).role == "admin"
    with pytest.raises(NotFound):
        accept_invitation(db_session, token=token, user=bob, now=NOW)
    with pytest.raises(AlreadyExists):
        invite(db_session, site, email="bob@example.com", role="viewer", acting_role="owner", now=NOW)


def test_an_invitation_expires(db_session, team):
    _, bob, site = team
    _, token = invite(db_session, site, email="bob@example.com", role="viewer", acting_role="admin", now=NOW)
    with pytest.raises(NotFound):
        accept_invitation(db_session, token=token, user=bob, now=NOW + INVITATION_LIFETIME)


@pytest.mark.parametrize(("acting", "role", "message"), [
    ("viewer", "viewer", "viewers cannot manage members"),
    (None, "viewer", "non-members cannot manage members"),
    ("admin", "owner", "admins cannot make owners"),
])
def test_who_may_invite(db_session, team, acting, role, message):
    _, _, site = team
    with pytest.raises(Forbidden, match=message):
        invite(db_session, site, email="x@example.com", role=role, acting_role=acting, now=NOW)


def test_a_site_keeps_an_owner_and_owner_id_follows_the_owners(db_session, team):
    owner, bob, site = team
    _, token = invite(db_session, site, email="bob@example.com", role="viewer", acting_role="owner", now=NOW)
    accept_invitation(db_session, token=token, user=bob, now=NOW)
    with pytest.raises(Forbidden, match="needs an owner"):
        change_role(db_session, site, user_id=owner.id, role="admin", acting_role="owner")
    with pytest.raises(Forbidden, match="admins cannot change owners"):
        change_role(db_session, site, user_id=bob.id, role="owner", acting_role="admin")
    change_role(db_session, site, user_id=bob.id, role="owner", acting_role="owner")
    remove_member(db_session, site, user_id=owner.id, acting_role="owner")
    assert site.owner_id == bob.id
    assert [(m.user_id, m.role) for m in list_members(db_session, site)] == [(bob.id, "owner")]


def test_deleting_a_site_deletes_its_members_and_invitations(db_session, team):
    owner, _, site = team
    invite(db_session, site, email="bob@example.com", role="viewer", acting_role="owner", now=NOW)
    delete_site(db_session, site)
    db_session.commit()
    assert role_of(db_session, site_id=site.id, user_id=owner.id) is None
