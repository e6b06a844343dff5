"""SSRF guard: outbound HTTP (webhooks, push endpoints) reaches only public addresses, unless the
operator's allow-list names the host or its network.

An address is judged by what it reaches: IPv6 forms that carry an IPv4 address (IPv4-mapped and
-compatible, NAT64, 6to4, Teredo) are judged by that IPv4 address. Hosts are decoded the way the
system resolver decodes them (`2130706433`, `0x7f.1` and `0177.1` are all 127.0.0.1). The check runs
again when the connection is made, on the very addresses connected to, so a name that resolves to a
public address when checked and to 127.0.0.1 a moment later (DNS rebinding) is still refused.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import httpcore
import httpx

from app.services.notifications.channels import DeliveryError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses the host resolves to (the seam tests use to play a DNS server).
Resolver = Callable[[str, int], Sequence[str]]

NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d (RFC 4291 2.5.5.1)
# Special-purpose blocks that `is_global` misses on some Python versions (their tables follow
# the IANA registry with a lag). 64:ff9b:1::/48 is local-use NAT64 (RFC 8215): where it carries an
# IPv4 address is the operator's choice, so it is never public whatever it carries.
NOT_PUBLIC = tuple(
    ipaddress.ip_network(n) for n in ("192.0.0.0/24", "64:ff9b:1::/48", "3fff::/20", "5f00::/16")
)


class UnsafeDestination(DeliveryError):
    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


def _internal(host: str, why: str) -> UnsafeDestination:
    return UnsafeDestination(
        f"{host} {why}; add it to CIVICLOOP_OUTBOUND_ALLOW_LIST if it is meant to be reached."
    )


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        # A name that does not resolve may resolve later: not permanent.
        raise DeliveryError(f"cannot resolve {host!r}: {exc}") from None
    return [str(info[4][0]) for info in infos]


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address reaches through a transition mechanism, if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.teredo is not None:
        return address.teredo[1]  # the client, already un-XOR-ed
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: not private, loopback, link-local, CGNAT, multicast, reserved,
    unspecified or documentation (Python's `is_global` knows the IANA special-purpose lists)."""
    if any(address in network for network in NOT_PUBLIC):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return False
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
    return address.is_global and not address.is_multicast


def literal_address(host: str) -> IPAddress | None:
    """The address a host names by itself (no DNS), in any spelling the C library accepts."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        # inet_aton is what getaddrinfo applies to numeric names: 127.1, 0x7f.1, 017700000001.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def normalised_host(host: str) -> str:
    """Lower case, brackets and the trailing root dot gone (`localhost.` is `localhost`)."""
    return host.strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class Guard:
    """The allow-list and the resolver; `addresses` is the one check every connection passes."""

    allow: Sequence[str]
    resolver: Resolver = system_resolver

    def _allowed(self, host: str, address: IPAddress) -> bool:
        for entry in self.allow:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                if normalised_host(entry) == host:
                    return True
        return False

    def _judge(self, host: str, address: IPAddress) -> IPAddress:
        if is_public(address) or self._allowed(host, address):
            return address
        if isinstance(address, ipaddress.IPv6Address):
            inner = embedded_ipv4(address)
            if inner is not None and self._allowed(host, inner):
                return address
        raise _internal(host, f"is {address}, a private, loopback or link-local address")

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        """Where `host` may be reached: every address it resolves to, each checked; refused
        when any of them is not public (the connection could pick any)."""
        name = normalised_host(host)
        if "%" in name:
            raise _internal(host, "names a network interface (a zone id)")
        literal = literal_address(name)
        if literal is not None:
            return [self._judge(name, literal)]
        if (name == "localhost" or name.endswith(".localhost")) and name not in self.allow:
            raise _internal(host, "is loopback by definition (RFC 6761)")
        resolved = self.resolver(name, port)
        if not resolved:
            raise DeliveryError(f"cannot resolve {host!r}")
        return [self._judge(name, ipaddress.ip_address(a.split("%", 1)[0])) for a in resolved]

    def check_url(self, url: str) -> None:
        """Refuse URLs that are not http(s) with a host, or whose host is not public."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise UnsafeDestination(f"{url!r} is not a valid URL: {exc}") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise UnsafeDestination(f"{url!r} is not an http(s) URL with a host.")
        self.addresses(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to addresses the guard has just checked; TLS (SNI, certificate) and the
    Host header still use the URL's name, as httpcore does them above this layer."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failure: httpcore.ConnectError | None = None
        for address in self.guard.addresses(host, port):
            try:
                return self.inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None  # addresses() never returns an empty list
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise UnsafeDestination("outbound requests do not use Unix sockets")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport (request and error mapping) over a connection pool that connects
    through `GuardedBackend`. httpx has no public switch for the network backend, so the pool
    it built is replaced by one with the same TLS settings. No proxy: it would connect for us."""

    def __init__(self, guard: Guard, *, verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(verify=verify, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            network_backend=GuardedBackend(guard),
        )


def guarded_client(guard: Guard, *, timeout: float) -> httpx.Client:
    """The HTTP client for every outbound request; redirects are not followed (a redirect to an
    internal address would be checked too, but a receiver has no reason to send one)."""
    return httpx.Client(
        transport=GuardedTransport(guard), timeout=timeout, follow_redirects=False, trust_env=False
    )
