"""Which address is the visitor's? The socket peer, unless a trusted proxy says otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_address

Networks = tuple[IPv4Network | IPv6Network, ...]


def client_ip(peer: str, headers: Mapping[str, str], trusted: Networks) -> str:
    """1. `X-Postmetric-IP`, sent by first-party proxies (Next.js rewrites, workers) whose
    egress addresses the operator cannot list; a forged one only misplaces its sender.
    2. From a trusted proxy: the right-most address of `X-Forwarded-For` that is not itself
    a trusted proxy (left-most entries are client-supplied and may be forged).
    3. Otherwise the peer address.
    """
    forwarded_by_proxy = headers.get("x-postmetric-ip")
    if forwarded_by_proxy and _valid(forwarded_by_proxy.strip()):
        return forwarded_by_proxy.strip()
    if trusted and _in(peer, trusted):
        chain = headers.get("x-forwarded-for")
        if chain:
            for hop in reversed(chain.split(",")):
                hop = hop.strip()
                if not _valid(hop):
                    break
                if not _in(hop, trusted):
                    return hop
    return peer


def _valid(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def _in(value: str, networks: Networks) -> bool:
    try:
        address = ip_address(value)
    except ValueError:
        return False
    return any(address in network for network in networks)
