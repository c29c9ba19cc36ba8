"""The client's address behind trusted proxies: X-Forwarded-For is believed only
when the peer that sent it is a listed proxy (settings.TRUSTED_PROXIES)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t.strip(), strict=False) for t in trusted)


def parse_networks(text: str) -> tuple[str, ...]:
    """Check a comma-separated list of addresses/CIDRs; raise ValueError naming a bad one."""
    items = tuple(t.strip() for t in text.split(",") if t.strip())
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(
                f"'{item}' is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)"
            ) from None
    return items


def is_trusted(address: str, trusted: tuple[str, ...]) -> bool:
    """Whether `address` is one of the trusted proxies."""
    return _in(address, _networks(tuple(trusted)))


def _in(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def forwarded_client(peer: str, forwarded_for: str, trusted: tuple[str, ...]) -> str:
    """The real client: the right-most X-Forwarded-For hop that is not a trusted proxy.

    Hops left of it were written by the client itself and prove nothing. When the peer
    is not trusted the header is ignored; a malformed hop ends the walk at the last
    trusted address seen.
    """
    networks = _networks(tuple(trusted))
    client = peer
    if not networks or not _in(peer, networks):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return client
        client = hop
        if not _in(hop, networks):
            return hop
    return client


def client_address(request: object) -> str:
    """The address to audit and throttle: REMOTE_ADDR, which TrustedProxyMiddleware
    has already replaced with the real client's address behind a trusted proxy."""
    meta = getattr(request, "META", {})
    return str(meta.get("REMOTE_ADDR", ""))[:64]
