"""Sites: what users type is normalised, every invalid setting is refused with a usable message."""

import random

import pytest
from sqlalchemy import delete, func, select

from postmetric.accounts.keys import create_site_key
from postmetric.accounts.users import create_user
from postmetric.errors import AlreadyExists, ValidationError
from postmetric.sites.service import PUBLIC_ID, create_site, delete_site, get_site, update_site_settings
from postmetric.store.metadata import ApiKey, Site


@pytest.fixture
def owner(db_session):
    return create_user(db_session, email="owner@example.com", password="long enough")


@pytest.fixture
def site(db_session, owner):
    return create_site(db_session, owner=owner, domain="example.com")


@pytest.mark.parametrize(
    "typed",
    [
        "example.com",
        "Example.COM",
        " example.com ",
        "www.example.com",
        "https://www.example.com/pricing?x=1",
        "http://example.com:8080",
        "example.com.",
        "example.com/blog",
    ],
)
def test_create_site_normalises_the_domain(db_session, owner, typed):
    assert create_site(db_session, owner=owner, domain=typed).domain == "example.com"


def test_subdomains_other_than_www_are_kept(db_session, owner):
    assert create_site(db_session, owner=owner, domain="blog.example.com").domain == "blog.example.com"


def test_internationalised_domains_are_stored_as_punycode(db_session, owner):
    assert create_site(db_session, owner=owner, domain="Bücher.example").domain == "xn--bcher-kva.example"


def test_create_site_defaults(db_session, owner):
    site = create_site(db_session, owner=owner, domain="example.com")
    db_session.commit()
    assert (site.name, site.timezone, site.currency) == ("example.com", "UTC", "USD")
    assert site.owner is owner
    assert (site.allowed_hostnames, site.excluded_ips, site.excluded_paths) == ([], [], [])
    assert site.cookieless is False and site.retention_days is None
    assert site.created_at <= site.updated_at


def test_create_site_keeps_valid_choices(db_session, owner):
    site = create_site(
        db_session, owner=owner, domain="example.com", name=" Shop ", timezone="Europe/Berlin", currency="eur"
    )
    assert (site.name, site.timezone, site.currency) == ("Shop", "Europe/Berlin", "EUR")


def test_public_ids_are_pm_and_12_letters_or_digits(db_session, owner):
    site = create_site(db_session, owner=owner, domain="example.com")
    assert PUBLIC_ID.fullmatch(site.public_id)


def test_a_public_id_collision_draws_again(db_session, owner):
    first = create_site(db_session, owner=owner, domain="a.example", rng=random.Random(7))
    second = create_site(db_session, owner=owner, domain="b.example", rng=random.Random(7))
    assert PUBLIC_ID.fullmatch(second.public_id) and second.public_id != first.public_id


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"domain": ""}, "domain", "not a hostname like example.com"),
        ({"domain": "exa mple.com"}, "domain", "not a hostname"),
        ({"domain": "-example.com"}, "domain", "not a hostname"),
        ({"domain": "http://[::1"}, "domain", "not a hostname"),
        ({"domain": "a" * 64 + ".com"}, "domain", "not a hostname"),
        ({"name": "  "}, "name", "1 to 255 characters"),
        ({"name": "x" * 256}, "name", "1 to 255 characters"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not an IANA time zone like Europe/Berlin"),
        ({"timezone": "../etc/passwd"}, "timezone", "not an IANA time zone"),
        ({"timezone": ""}, "timezone", "not an IANA time zone"),
        ({"currency": "EURO"}, "currency", "3-letter ISO 4217 code"),
        ({"currency": "E1R"}, "currency", "3-letter ISO 4217 code"),
    ],
)
def test_create_site_refuses_invalid_input(db_session, owner, changes, field, message):
    arguments = {"domain": "example.com", **changes}
    with pytest.raises(ValidationError, match=message) as error:
        create_site(db_session, owner=owner, **arguments)
    assert error.value.field == field


def test_a_domain_belongs_to_one_site(db_session, owner, site):
    with pytest.raises(AlreadyExists, match="a site with domain 'example.com' already exists"):
        create_site(db_session, owner=owner, domain="https://www.example.com")


def test_get_site_by_id_public_id_or_domain(db_session, site):
    assert get_site(db_session, site.id) is site
    assert get_site(db_session, str(site.id)) is site
    assert get_site(db_session, site.public_id) is site
    assert get_site(db_session, "https://www.Example.com/") is site
    assert get_site(db_session, "pm_doesnotexist") is None
    assert get_site(db_session, "other.example") is None
    assert get_site(db_session, "not a domain") is None
    assert get_site(db_session, 10_000) is None


def test_update_site_settings_normalises_every_setting(db_session, site):
    update_site_settings(
        db_session,
        site,
        name="Shop",
        timezone="America/New_York",
        currency="gbp",
        allowed_hostnames=["Shop.Example.com", "https://*.example.net/", "shop.example.com"],
        excluded_ips=[" 10.0.0.1 ", "192.168.1.7/24", "2001:db8::/32", "::1"],
        excluded_countries=["de", " FR "],
        excluded_hostnames=["staging.example.com"],
        excluded_paths=["/admin", "/blog/*/draft"],
        cookieless=True,
        retention_days=365,
    )
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(Site, site.id)
    assert stored.name == "Shop"
    assert (stored.timezone, stored.currency) == ("America/New_York", "GBP")
    assert stored.allowed_hostnames == ["shop.example.com", "*.example.net"]
    assert stored.excluded_ips == ["10.0.0.1", "192.168.1.0/24", "2001:db8::/32", "::1"]
    assert stored.excluded_countries == ["DE", "FR"]
    assert stored.excluded_hostnames == ["staging.example.com"]
    assert stored.excluded_paths == ["/admin", "/blog/*/draft"]
    assert stored.cookieless is True and stored.retention_days == 365
    assert stored.updated_at >= stored.created_at


def test_retention_can_go_back_to_forever(db_session, site):
    update_site_settings(db_session, site, retention_days=30)
    update_site_settings(db_session, site, retention_days=3650)
    assert site.retention_days == 3650
    update_site_settings(db_session, site, retention_days=None)
    assert site.retention_days is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"colour": "red"}, "colour", "is not a site setting; known settings: domain, name"),
        ({"allowed_hostnames": "example.com"}, "allowed_hostnames", "must be a list"),
        ({"allowed_hostnames": ["not a host"]}, "allowed_hostnames", "like example.com or \\*.example.com"),
        ({"allowed_hostnames": [42]}, "allowed_hostnames", "not a hostname"),
        ({"excluded_ips": ["10.0.0.300"]}, "excluded_ips", "not an IP address or CIDR range"),
        ({"excluded_ips": ["10.0.0.0/33"]}, "excluded_ips", "not an IP address or CIDR range"),
        ({"excluded_ips": [None]}, "excluded_ips", "not an IP address"),
        ({"excluded_countries": ["DEU"]}, "excluded_countries", "2-letter ISO country code"),
        ({"excluded_countries": ["1A"]}, "excluded_countries", "2-letter ISO country code"),
        ({"excluded_hostnames": ["bad_host!"]}, "excluded_hostnames", "not a hostname"),
        ({"excluded_paths": ["admin"]}, "excluded_paths", "must start with '/'"),
        ({"excluded_paths": [7]}, "excluded_paths", "must start with '/'"),
        ({"excluded_paths": ["/" + "*a" * 17]}, "excluded_paths", "more than 16 '\\*' wildcards"),
        ({"excluded_paths": ["/" + "a" * 2048]}, "excluded_paths", "longer than 2048 characters"),
        ({"excluded_paths": [f"/{n}" for n in range(101)]}, "excluded_paths", "101 entries; at most 100"),
        ({"cookieless": "yes"}, "cookieless", "true or false"),
        ({"retention_days": 0}, "retention_days", "from 30 to 3650"),
        ({"retention_days": 29}, "retention_days", "from 30 to 3650"),
        ({"retention_days": 3651}, "retention_days", "from 30 to 3650"),
        ({"retention_days": 10**30}, "retention_days", "from 30 to 3650"),
        ({"retention_days": -1}, "retention_days", "from 30 to 3650"),
        ({"retention_days": 30.5}, "retention_days", "from 30 to 3650"),
        ({"retention_days": "30"}, "retention_days", "from 30 to 3650"),
        ({"retention_days": True}, "retention_days", "from 30 to 3650"),
        ({"timezone": "Nowhere"}, "timezone", "IANA time zone"),
        ({"currency": "$"}, "currency", "ISO 4217"),
        ({"name": ""}, "name", "1 to 255"),
        ({"domain": "not a domain"}, "domain", "not a hostname"),
    ],
)
def test_update_site_settings_refuses_invalid_values(db_session, site, changes, field, message):
    with pytest.raises(ValidationError, match=message) as error:
        update_site_settings(db_session, site, **changes)
    assert error.value.field == field


def test_an_invalid_setting_leaves_the_site_unchanged(db_session, site):
    with pytest.raises(ValidationError):
        update_site_settings(db_session, site, name="New name", excluded_ips=["nonsense"])
    assert site.name == "example.com"


def test_a_site_cannot_move_to_a_domain_another_site_has(db_session, owner, site):
    other = create_site(db_session, owner=owner, domain="other.example")
    with pytest.raises(AlreadyExists):
        update_site_settings(db_session, other, domain="www.example.com")
    update_site_settings(db_session, site, domain="https://example.com/")  # its own domain is fine
    assert site.domain == "example.com"


def test_delete_site_removes_it_and_its_keys(db_session, site):
    create_site_key(db_session, site=site, name="backend")
    delete_site(db_session, site)
    db_session.commit()
    assert get_site(db_session, "example.com") is None
    assert db_session.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_the_database_itself_cascades_key_deletion(db_session, site):
    create_site_key(db_session, site=site, name="backend")
    db_session.commit()
    db_session.execute(delete(Site))  # bypasses the ORM: only the foreign key can remove the keys
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(ApiKey)) == 0
