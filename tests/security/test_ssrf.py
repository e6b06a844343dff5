"""Outbound requests (webhooks, Web Push) reach only public addresses, however the address is
spelled, and the address connected to is the one that was checked (DNS rebinding).

Names resolve through a small zone of our own (the resolver seam), so the table does not depend
on this machine's DNS; numeric forms never reach a resolver at all."""

from __future__ import annotations

import itertools
import ssl
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from app.services.notifications.channels import DeliveryError, webhook
from app.services.notifications.channels.outbound import (
    Guard,
    GuardedTransport,
    UnsafeDestination,
    guarded_client,
)
from tests.notifications.receivers import HttpReceiver, http_receiver, self_signed_cert

PUBLIC_V4 = "93.184.215.14"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ZONE = {
    "public.test": [PUBLIC_V4],
    "public6.test": ["2606:4700:4700::1111"],
    "internal.test": ["10.1.2.3"],
    "metadata.test": ["169.254.169.254"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "nat64.test": ["64:ff9b::a00:1"],
    # One good answer does not make up for a bad one: the connection could pick either.
    "mixed.test": [PUBLIC_V4, "127.0.0.1"],
}


def zone(host: str, port: int) -> Sequence[str]:
    return ZONE.get(host, [])


REFUSED = [
    # loopback, in every IPv4 spelling inet_aton accepts
    "http://127.0.0.1/",
    "https://127.0.0.1:443/x",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://017700000001/",
    "http://0177.0.0.1/",
    "http://127.0.0.1./",
    "http://0/",
    "http://0.0.0.0/",
    # names that are loopback by definition
    "http://localhost/",
    "http://localhost./",
    "http://LOCALHOST/",
    "http://api.localhost/",
    # userinfo does not change the host
    "http://good.example@127.0.0.1/",
    "http://user:pass@[::1]:8080/",
    # private, link-local, CGNAT, multicast, reserved, documentation, benchmarking
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://192.0.2.1/",
    "http://198.51.100.7/",
    "http://203.0.113.9/",
    "http://198.18.0.1/",
    "http://192.0.0.8/",
    # IPv6 of its own
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[ff02::1]/",
    "http://[ff0e::1]/",
    "http://[2001:db8::1]/",
    "http://[100::1]/",
    "http://[3fff::1]/",
    # IPv6 carrying an internal IPv4 address
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:0.0.0.0]/",
    "http://[::127.0.0.1]/",
    "http://[::10.0.0.1]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[64:ff9b:1::808:808]/",  # local-use NAT64: whatever it carries
    "http://[2002:7f00:1::]/",
    "http://[2002:a00:1::1]/",
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1 (XOR-ed)
    "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",  # Teredo, client 10.0.0.1
    # names that resolve inward
    "http://internal.test/",
    "http://internal.test./",
    "http://metadata.test/",
    "http://mapped.test/",
    "http://nat64.test/",
    "http://mixed.test/",
    # not http(s) with a host, or not a URL at all
    "ftp://public.test/",
    "file:///etc/passwd",
    "http:///x",
    "http://①②⑦.0.0.1/",
]

ALLOWED = [
    f"http://{PUBLIC_V4}/",
    "https://8.8.8.8/hook",
    "http://134744072/",  # 8.8.8.8 as one decimal number
    "http://[2606:4700:4700::1111]/",
    "http://[::ffff:8.8.8.8]/",
    "http://[64:ff9b::8.8.8.8]/",
    "http://[2002:808:808::1]/",
    "http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/",  # Teredo, client 8.8.8.8
    "http://public.test/",
    "http://public.test./",
    "https://PUBLIC6.test:8443/x",
    "http://127.0.0.1:80\\@public.test/",  # the host is public.test, as httpx reads it
]


@pytest.mark.parametrize("url", REFUSED)
def test_internal_destinations_are_refused_in_every_spelling(url: str) -> None:
    with pytest.raises(UnsafeDestination):
        Guard([], resolver=zone).check_url(url)


@pytest.mark.parametrize("url", ALLOWED)
def test_public_destinations_pass_in_every_spelling(url: str) -> None:
    Guard([], resolver=zone).check_url(url)


def test_the_table_is_large_enough() -> None:
    assert len(REFUSED) + len(ALLOWED) >= 40


@pytest.mark.parametrize(
    ("allow", "url"),
    [
        (["127.0.0.1"], "http://127.0.0.1:9/x"),
        (["127.0.0.1"], "http://[::ffff:127.0.0.1]:9/x"),
        (["10.1.0.0/16"], "http://internal.test/"),
        (["internal.test"], "http://internal.test./"),
        (["localhost"], "http://localhost./"),
    ],
)
def test_the_allow_list_admits_what_it_names(allow: list[str], url: str) -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "localhost" else ["10.1.2.3"]

    Guard(allow, resolver=resolver).check_url(url)


def test_the_allow_list_admits_nothing_else() -> None:
    with pytest.raises(UnsafeDestination):
        Guard(["127.0.0.1"], resolver=zone).check_url("http://127.0.0.2/")
    with pytest.raises(UnsafeDestination):
        Guard(["10.1.0.0/16"], resolver=zone).check_url("http://metadata.test/")


def post(client: httpx.Client, url: str) -> None:
    webhook.post(client, url=url, secret=SECRET, message_id="msg_1", body=b"{}")


def test_the_connection_goes_to_the_checked_address_with_the_name_kept() -> None:
    receiver = HttpReceiver()
    with http_receiver(receiver) as base:
        port = int(base.rsplit(":", 1)[1])
        guard = Guard(["127.0.0.1"], resolver=lambda host, _: ["127.0.0.1"])
        with guarded_client(guard, timeout=5) as client:
            post(client, f"http://hooks.test:{port}/hook")
    [request] = receiver.received
    assert request.path == "/hook"
    assert request.headers["host"] == f"hooks.test:{port}"


def test_tls_is_checked_against_the_name_while_connecting_to_the_checked_address(
    tmp_path: Path,
) -> None:
    """The receiver's certificate names hooks.test only: the request to https://hooks.test
    succeeds (SNI and certificate check on the name, connection to 127.0.0.1), the same
    receiver as https://127.0.0.1 fails its certificate check."""
    cert = self_signed_cert(tmp_path, dns_name="hooks.test", with_ip=False)
    trust = ssl.create_default_context(cafile=str(cert))
    guard = Guard(["127.0.0.1"], resolver=lambda host, _: ["127.0.0.1"])
    receiver = HttpReceiver()
    with (
        http_receiver(receiver, tls_cert=cert) as base,
        httpx.Client(transport=GuardedTransport(guard, verify=trust), timeout=5) as client,
    ):
        port = base.rsplit(":", 1)[1]
        post(client, f"https://hooks.test:{port}/hook")
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            post(client, f"https://127.0.0.1:{port}/hook")
    [request] = receiver.received
    assert request.headers["host"] == f"hooks.test:{port}"


def test_a_name_that_rebinds_to_loopback_after_the_check_is_refused_when_connecting() -> None:
    """The resolver answers a public address to the check and 127.0.0.1 to the connection, as a
    rebinding DNS server does; a real receiver listens on 127.0.0.1 and must get nothing."""
    answers = itertools.chain([[PUBLIC_V4]], itertools.repeat(["127.0.0.1"]))
    guard = Guard([], resolver=lambda host, _: next(answers))
    receiver = HttpReceiver()
    with http_receiver(receiver) as base:
        url = f"http://rebind.test:{base.rsplit(':', 1)[1]}/hook"
        guard.check_url(url)  # what a check-then-connect guard relies on
        with (
            guarded_client(guard, timeout=5) as client,
            pytest.raises(UnsafeDestination) as refused,
        ):
            post(client, url)
    assert "127.0.0.1" in str(refused.value)
    assert refused.value.permanent
    assert receiver.received == []
