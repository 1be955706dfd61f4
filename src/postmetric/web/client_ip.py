"""Which address is the visitor's? The socket peer, unless a trusted proxy says otherwise.

Forwarding headers are believed only from a peer in `POSTMETRIC_TRUSTED_PROXIES`: from anyone
else they are text the client wrote, and believing them would let one client pass every per-IP
limit (ingest, login, password reset, share passwords), dodge IP exclusions and pick its country.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

# Headers a proxy sets to one address, in the order they are believed (see `client_ip`).
SINGLE_ADDRESS_HEADERS = ("x-postmetric-ip", "cf-connecting-ip")
FORWARDING_HEADERS = (*SINGLE_ADDRESS_HEADERS, "x-forwarded-for")


class TrustedProxies:
    """The proxies whose forwarding headers are believed; membership is memoised per address
    string, because parsing an address costs more than the rest of the lookup."""

    def __init__(self, networks: Iterable[IPv4Network | IPv6Network]) -> None:
        self._networks = tuple(networks)
        self.__contains__ = lru_cache(maxsize=4096)(self._contains)

    def __bool__(self) -> bool:
        return bool(self._networks)

    def _contains(self, value: str) -> bool:
        address = _address(value)
        return address is not None and any(address in network for network in self._networks)


def client_ip(peer: str, headers: Mapping[str, str], trusted: TrustedProxies) -> str:
    """The peer, or, when the peer is a trusted proxy, the address it forwards:
    1. `X-Postmetric-IP`, set by first-party rewrites (Next.js, Vercel, Netlify, Workers);
    2. `CF-Connecting-IP`, set by Cloudflare;
    3. the right-most address of `X-Forwarded-For` that is not itself a trusted proxy (nginx,
       Caddy, load balancers; left-most entries are client-supplied and may be forged).
    An unparsable header is skipped, never an error.
    """
    if not trusted or not trusted.__contains__(peer):
        return peer
    for name in SINGLE_ADDRESS_HEADERS:
        value = headers.get(name)
        if value and _address(value.strip()) is not None:
            return value.strip()
    chain = headers.get("x-forwarded-for")
    if chain:
        for hop in reversed(chain.split(",")):
            hop = hop.strip()
            if _address(hop) is None:
                break
            if not trusted.__contains__(hop):
                return hop
    return peer


@lru_cache(maxsize=65_536)
def _address(value: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(value)
    except ValueError:
        return None
