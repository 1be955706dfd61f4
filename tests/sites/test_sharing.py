"""Share links: on/off makes new tokens, passwords gate access, changing one ends old proofs."""

import pytest

from postmetric.accounts.users import create_user
from postmetric.errors import ValidationError
from postmetric.sites.service import create_site
from postmetric.sites.sharing import get_share, may_read, set_sharing, share_by_token, unlock

SECRET = "test-secret"


@pytest.fixture
def site(db_session):
    owner = create_user(db_session, email="owner@example.com", password="long enough!")
    return create_site(db_session, owner=owner, domain="example.com")


def test_sharing_on_off_on_makes_a_new_token(db_session, site):
    first = set_sharing(db_session, site, enabled=True)
    token = first.token
    assert share_by_token(db_session, token) is first and may_read(first, None, SECRET)
    assert set_sharing(db_session, site, enabled=False) is None and get_share(db_session, site) is None
    assert share_by_token(db_session, token) is None
    assert set_sharing(db_session, site, enabled=True).token != token


def test_a_password_needs_a_proof_and_a_new_password_voids_old_proofs(db_session, site):
    share = set_sharing(db_session, site, enabled=True, password="open sesame!")
    assert not may_read(share, None, SECRET)
    assert unlock(share, "wrong password", SECRET) is None
    proof = unlock(share, "open sesame!", SECRET)
    assert may_read(share, proof, SECRET) and not may_read(share, proof, "another secret")
    set_sharing(db_session, site, enabled=True)  # password left out: kept
    assert may_read(share, proof, SECRET)
    set_sharing(db_session, site, enabled=True, password="new password!")
    assert not may_read(share, proof, SECRET)
    set_sharing(db_session, site, enabled=True, password=None)
    assert share.password_hash is None and may_read(share, None, SECRET)


@pytest.mark.parametrize(("changes", "field"), [({"enabled": "yes"}, "enabled"),
                                                 ({"enabled": True, "password": "short"}, "password")])
def test_invalid_sharing_settings_name_the_field(db_session, site, changes, field):
    with pytest.raises(ValidationError) as error:
        set_sharing(db_session, site, **changes)
    assert error.value.field == field
