"""The client's address, resolved once for everything that keys by client (admin lockouts,
rate limits): `REMOTE_ADDR`, unless that peer is one of `TRUSTED_PROXIES`, in which case the
`X-Forwarded-For` chain is read from the right, skipping trusted proxies, and the first address
no trusted proxy vouches for is the client. A direct connection cannot pick its own address by
sending the header, and a spoofed left part of the chain is never read past an untrusted hop.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    if address is None:
        return False
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    return any(address.version == net.version and address in net for net in networks)


def client_ip(request: HttpRequest) -> str:
    """The client's address as text ("" when the request carries none that parses)."""
    peer = _address(str(request.META.get("REMOTE_ADDR", "")))
    if peer is None:
        return ""
    if not _trusted(peer):
        return str(peer)
    chain = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    client = peer
    for hop in reversed(chain):
        address = _address(hop)
        if address is None:
            break  # garbage in the chain: stop at the last address we could vouch for
        client = address
        if not _trusted(address):
            break
    return str(client)
