"""The visitor's address: the socket peer, unless that peer is a trusted proxy that forwards one.

The class of bug: a forwarding header believed from anyone lets one client pass every per-IP
limit, dodge IP exclusions and choose its country. Every path that reads the client IP (ingest
rate limit, exclusions and geolocation on the three ingestion routes; the login limiter behind
login and password reset) is driven with every forwarding header forged from an untrusted peer,
and once more from a trusted proxy, which shows the same headers do work when they may.
"""

from ipaddress import ip_network

import orjson
import pytest
from starlette.testclient import TestClient

from postmetric.app import create_app
from postmetric.sites.service import get_site, update_site_settings
from postmetric.store.database import create_engine, session_factory
from postmetric.web.client_ip import TrustedProxies, client_ip

from account_support import PASSWORD, signup
from factories import CHROME_UA
from web_support import PROXY_PEER, stored_events

TRUSTED = TrustedProxies([ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32")])
UNTRUSTED_PEER = ("203.0.113.9", 40000)
GB_ADDRESS = "81.2.69.142"  # GB in the geolocation database; the peers are documentation addresses


def forged(address: str) -> dict[str, str]:
    """Every header a proxy might use to name the client, all naming `address`."""
    return {"X-Postmetric-IP": address, "X-Forwarded-For": address, "CF-Connecting-IP": address,
            "X-Real-IP": address, "Forwarded": f"for={address}", "True-Client-IP": address}


@pytest.mark.parametrize(
    "peer, headers, expected",
    [
        ("203.0.113.9", {}, "203.0.113.9"),
        # From an untrusted peer every forwarding header is text the client wrote.
        ("203.0.113.9", {"x-forwarded-for": "1.1.1.1"}, "203.0.113.9"),
        ("203.0.113.9", {"x-postmetric-ip": "192.0.2.44"}, "203.0.113.9"),
        ("203.0.113.9", {"cf-connecting-ip": "192.0.2.44"}, "203.0.113.9"),
        ("testclient", {"x-postmetric-ip": "192.0.2.44"}, "testclient"),
        ("127.0.0.1", {"x-forwarded-for": "198.51.100.7"}, "198.51.100.7"),
        # The right-most untrusted hop wins over a forged left-most entry.
        ("127.0.0.1", {"x-forwarded-for": "6.6.6.6, 198.51.100.7, 10.0.0.2"}, "198.51.100.7"),
        ("10.1.2.3", {"x-forwarded-for": "2001:db8::1"}, "2001:db8::1"),
        ("127.0.0.1", {"x-forwarded-for": "garbage"}, "127.0.0.1"),
        ("127.0.0.1", {"x-forwarded-for": "10.0.0.5"}, "127.0.0.1"),
        # A trusted first-party proxy or Cloudflare names the client in one header.
        ("127.0.0.1", {"x-postmetric-ip": "192.0.2.44", "x-forwarded-for": "198.51.100.7"}, "192.0.2.44"),
        ("10.0.0.7", {"cf-connecting-ip": " 2001:db8::9 ", "x-forwarded-for": "198.51.100.7"}, "2001:db8::9"),
        ("127.0.0.1", {"x-postmetric-ip": "nonsense", "x-forwarded-for": "198.51.100.7"}, "198.51.100.7"),
    ],
)
def test_client_ip(peer, headers, expected):
    assert client_ip(peer, headers, TRUSTED) == expected


def test_without_trusted_proxies_the_peer_is_the_client():
    for name in ("x-forwarded-for", "x-postmetric-ip", "cf-connecting-ip"):
        assert client_ip("127.0.0.1", {name: "198.51.100.7"}, TrustedProxies([])) == "127.0.0.1"


# -- through HTTP, on every path that reads the client IP ------------------------------------


def event_body(site) -> bytes:
    return orjson.dumps({"websiteId": site.public_id, "type": "pageview", "href": "https://example.com/"})


def send(client: TestClient, route: str, site, headers: dict[str, str]):
    if route == "POST /api/events":
        return client.post("/api/events", content=event_body(site), headers=headers)
    if route == "GET /api/events.gif":
        return client.get("/api/events.gif", params={"websiteId": site.public_id, "type": "pageview",
                                                     "href": "https://example.com/"},
                          headers=headers)
    return client.post("/api/v1/events", content=event_body(site),
                       headers={**headers, "Authorization": f"Bearer {site.key}"})


INGEST_ROUTES = ["POST /api/events", "GET /api/events.gif", "POST /api/v1/events"]
PEERS = [pytest.param(UNTRUSTED_PEER, False, id="untrusted-peer"), pytest.param(PROXY_PEER, True, id="trusted-proxy")]


@pytest.mark.parametrize("peer, believed", PEERS)
@pytest.mark.parametrize("route", ["POST /api/events", "GET /api/events.gif"])
def test_forged_addresses_share_the_peers_ingest_rate_limit(settings, clock, site, route, peer, believed):
    limited = settings.model_copy(update={"ingest_rate_limit": "2/minute"})
    with TestClient(create_app(limited, clock=clock), headers={"user-agent": CHROME_UA}, client=peer) as client:
        codes = [send(client, route, site, forged(f"198.51.100.{n}")).status_code for n in range(1, 5)]
    assert codes == ([202 if route.startswith("POST") else 200] * 4 if believed else codes[:2] + [429, 429])


@pytest.mark.parametrize("peer, believed", PEERS)
@pytest.mark.parametrize("route", INGEST_ROUTES)
def test_forged_addresses_neither_dodge_an_exclusion_nor_pick_a_country(settings, clock, site, route, peer, believed):
    _change_site(settings, site, excluded_ips=["203.0.113.0/24"])  # the untrusted peer's network
    with TestClient(create_app(settings, clock=clock), headers={"user-agent": CHROME_UA}, client=peer) as client:
        response = send(client, route, site, forged(GB_ADDRESS))
        assert response.status_code in (200, 202), response.text
        rows = stored_events(client)
    if believed:  # the proxy's visitor: stored, located by the forwarded address
        assert [row["country"] for row in rows] == ["GB"]
    else:  # the peer itself: excluded, whatever it claims
        dropped = response.headers.get("x-postmetric-dropped") or response.json()["dropped"][0]["reason"]
        assert dropped == "excluded_ip" and rows == []


@pytest.mark.parametrize("peer, believed", PEERS)
@pytest.mark.parametrize("route", INGEST_ROUTES)
def test_a_forged_address_does_not_locate_the_visitor(settings, clock, site, route, peer, believed):
    with TestClient(create_app(settings, clock=clock), headers={"user-agent": CHROME_UA}, client=peer) as client:
        assert send(client, route, site, forged(GB_ADDRESS)).status_code in (200, 202)
        [row] = stored_events(client)
    assert (row["country"] == "GB") is believed


@pytest.mark.parametrize("peer, believed", PEERS)
@pytest.mark.parametrize("route", ["login", "password reset"])
def test_forged_addresses_share_the_peers_login_limit(settings, clock, site, smtp, route, peer, believed):
    """Each attempt names another email, so only the per-IP budget (2) can refuse the third."""
    controller, _ = smtp
    limited = settings.model_copy(update={
        "login_rate_limit": "2/minute",
        "smtp_url": f"smtp://{controller.hostname}:{controller.port}?from=stats@example.com"})
    with TestClient(create_app(limited, clock=clock), client=peer) as client:
        codes = []
        for n in range(1, 5):
            path, body = (("/api/v1/auth/login", {"email": f"user{n}@example.com", "password": PASSWORD})
                          if route == "login" else ("/api/v1/auth/password-reset", {"email": f"user{n}@example.com"}))
            codes.append(client.post(path, json=body, headers=forged(f"198.51.100.{n}")).status_code)
    answer = 401 if route == "login" else 202
    assert codes == ([answer] * 4 if believed else [answer, answer, 429, 429])


def test_a_signed_up_user_from_an_untrusted_peer_is_limited_by_the_peer(settings, clock, site):
    """The same through a session's own login: the limit follows the socket, not the header."""
    limited = settings.model_copy(update={"login_rate_limit": "3/minute", "signup": "open"})
    with TestClient(create_app(limited, clock=clock), client=UNTRUSTED_PEER) as client:
        signup(client, "ada@example.com")
        codes = [client.post("/api/v1/auth/login", json={"email": f"u{n}@example.com", "password": "wrong"},
                             headers=forged(f"192.0.2.{n}")).status_code for n in range(4)]
    assert codes == [401, 401, 401, 429]


def _change_site(settings, site, **changes) -> None:
    engine = create_engine(settings.metadata_url)
    with session_factory(engine)() as session:
        update_site_settings(session, get_site(session, site.public_id), **changes)
        session.commit()
    engine.dispose()
