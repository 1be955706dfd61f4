"""Which address is the visitor's? The socket peer, unless a trusted proxy says otherwise."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address


class TrustedProxies:
    """The proxies whose `X-Forwarded-For` is believed; membership is memoised per address
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
    """1. `X-Postmetric-IP`, sent by first-party proxies (Next.js rewrites, workers) whose
    egress addresses the operator cannot list; a forged one only misplaces its sender.
    2. From a trusted proxy: the right-most address of `X-Forwarded-For` that is not itself
    a trusted proxy (left-most entries are client-supplied and may be forged).
    3. Otherwise the peer address.
    """
    forwarded_by_proxy = headers.get("x-postmetric-ip")
    if forwarded_by_proxy and _address(forwarded_by_proxy.strip()) is not None:
        return forwarded_by_proxy.strip()
    if trusted and trusted.__contains__(peer):
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
