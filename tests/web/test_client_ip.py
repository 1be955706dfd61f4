"""The visitor's address: peer, trusted proxy chain, or first-party proxy header."""

from ipaddress import ip_network

import pytest

from postmetric.web.client_ip import TrustedProxies, client_ip

TRUSTED = TrustedProxies([ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32")])


@pytest.mark.parametrize(
    "peer, headers, expected",
    [
        ("203.0.113.9", {}, "203.0.113.9"),
        # An untrusted peer's X-Forwarded-For is ignored: anyone can write it.
        ("203.0.113.9", {"x-forwarded-for": "1.1.1.1"}, "203.0.113.9"),
        ("127.0.0.1", {"x-forwarded-for": "198.51.100.7"}, "198.51.100.7"),
        # The right-most untrusted hop wins over a forged left-most entry.
        ("127.0.0.1", {"x-forwarded-for": "6.6.6.6, 198.51.100.7, 10.0.0.2"}, "198.51.100.7"),
        ("10.1.2.3", {"x-forwarded-for": "2001:db8::1"}, "2001:db8::1"),
        ("127.0.0.1", {"x-forwarded-for": "garbage"}, "127.0.0.1"),
        ("127.0.0.1", {"x-forwarded-for": "10.0.0.5"}, "127.0.0.1"),
        ("203.0.113.9", {"x-postmetric-ip": "192.0.2.44"}, "192.0.2.44"),
        ("203.0.113.9", {"x-postmetric-ip": "nonsense"}, "203.0.113.9"),
    ],
)
def test_client_ip(peer, headers, expected):
    assert client_ip(peer, headers, TRUSTED) == expected


def test_without_trusted_proxies_the_peer_is_the_client():
    assert client_ip("127.0.0.1", {"x-forwarded-for": "198.51.100.7"}, TrustedProxies([])) == "127.0.0.1"
