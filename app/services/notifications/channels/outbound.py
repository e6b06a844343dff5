"""SSRF guard: outbound HTTP (webhooks, push endpoints) reaches only public addresses, unless the
operator's allow-list names the host or its network."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from app.services.notifications.channels import DeliveryError


class UnsafeDestination(DeliveryError):
    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


def _allowed(
    host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow: Sequence[str]
) -> bool:
    for entry in allow:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            if entry.lower() == host.lower():
                return True
    return False


def check_destination(url: str, allow: Sequence[str]) -> None:
    """Refuse URLs that are not http(s) or whose host resolves to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeDestination(f"{url!r} is not an http(s) URL with a host.")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, ValueError) as exc:
        # A name that does not resolve may resolve later: not permanent.
        raise DeliveryError(f"cannot resolve {host!r}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        mapped = getattr(address, "ipv4_mapped", None)
        effective = mapped or address
        # Anything not globally routable: loopback, private, link-local, CGNAT, reserved...
        if not effective.is_global and not _allowed(host, effective, allow):
            raise UnsafeDestination(
                f"{host} resolves to {effective}, a private, loopback or link-local address; "
                "add it to CIVICLOOP_OUTBOUND_ALLOW_LIST if it is meant to be reached."
            )
