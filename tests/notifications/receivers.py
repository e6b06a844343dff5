"""Real servers on loopback that the worker delivers to: SMTP (aiosmtpd) and HTTP receivers."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1; `security` is none, starttls or tls (with a self-signed cert)."""

    def __init__(self, port: int, *, security: str = "none", cert: Path | None = None) -> None:
        self.port = port
        self.inbox = _Inbox()
        kwargs: dict[str, Any] = {}
        if security != "none":
            assert cert is not None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, cert.with_suffix(".key"))
            if security == "starttls":
                kwargs = {"tls_context": context, "require_starttls": True}
            else:
                kwargs = {"ssl_context": context}
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port, **kwargs)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def self_signed_cert(directory: Path, *, dns_name: str = "localhost", with_ip: bool = True) -> Path:
    """A certificate for `dns_name` (and 127.0.0.1 unless `with_ip` is false), its key beside it
    as .key; it is its own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name)])
    alt_names: list[x509.GeneralName] = [x509.DNSName(dns_name)]
    if with_ip:
        alt_names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{dns_name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class HttpReceiver:
    """Answers each POST with the next scripted status (then 200 or `default`); a status of 0
    means "say nothing for longer than the client waits" (a timeout)."""

    script: list[int] = field(default_factory=list)
    default: int = 200
    stall_seconds: float = 2.0
    # Time each request takes: a slow receiver keeps a batch in flight long enough to kill it.
    delay_seconds: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    def ids(self) -> list[str]:
        """The webhook-id of every request the receiver accepted (2xx), repeats included."""
        with self.lock:
            return [r.headers["webhook-id"] for r in self.received if r.status < 300]


@contextmanager
def http_receiver(receiver: HttpReceiver, *, tls_cert: Path | None = None) -> Iterator[str]:
    """Serve the receiver on 127.0.0.1 (over TLS with `tls_cert`); yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = receiver.next_status()
            time.sleep(receiver.delay_seconds)
            if status == 0:
                # Accepted, but too late for the sender, which retries: a real duplicate.
                time.sleep(receiver.stall_seconds)
                status = 200
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                receiver.received.append(Received(self.path, headers, body, status))
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    scheme = "http"
    if tls_cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls_cert, tls_cert.with_suffix(".key"))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
