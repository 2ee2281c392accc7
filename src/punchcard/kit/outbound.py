"""Requests we make to addresses someone else chose (a webhook's URL, a member's push endpoint): which of them we
refuse to reach, so that neither becomes a way into the shop's own network (SSRF).

One check for every feature that posts to a URL it was given. It resolves the name itself, so a name that resolves
to a private address only between this check and the connection (DNS rebinding within a second) is not covered;
closing that would mean connecting to the checked address ourselves, which breaks TLS name checks.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


def private(address: str) -> bool:
    """Whether ``address`` (an IP) is not on the public internet: loopback, private, link-local, multicast,
    reserved or unspecified."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def addresses(host: str, port: int) -> list[str]:
    """The IP addresses ``host`` resolves to (an IP literal is its own); none when it does not resolve."""
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})
    except (socket.gaierror, UnicodeError):
        return []


@dataclass(frozen=True)
class Blocked:
    """Why a URL may not be reached: ``reason`` names the host and what it resolved to."""

    reason: str
    private: bool
    """The host resolves to a non-public address (else: to nothing at all)."""


def blocked(url: str) -> Blocked | None:
    """Why ``url`` must not be reached (its host resolves to nothing, or to a loopback, private or other non-public
    address), or ``None`` when every address it resolves to is public."""
    parts = urlsplit(url)
    found = _resolved(url)
    if not found:
        return Blocked(f"{parts.hostname} does not resolve", private=False)
    refused = [address for address in found if private(address)]
    if refused:
        return Blocked(f"{parts.hostname} is {refused[0]}, not a public address", private=True)
    return None


def only_private(url: str) -> bool:
    """Whether ``url``'s host resolves, and only to non-public addresses (a stand-in on this machine)."""
    found = _resolved(url)
    return bool(found) and all(private(address) for address in found)


def _resolved(url: str) -> list[str]:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port out of range
        return []
    return addresses(parts.hostname or "", port)
