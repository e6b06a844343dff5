"""The HTTP/1.1 protocol `civicloop serve` runs: uvicorn's own, with a deadline for the request
line and headers.

uvicorn bounds only an idle kept-alive connection (its keep-alive timer stops at a request's
first byte) and nothing before the application runs: a client sending its headers a byte a
second would hold its connection for ever, and a few hundred such clients every file descriptor
(Slowloris). The deadline runs from the moment the server waits for a request (the connection
made, or the previous answer sent on a kept-alive one) until that request's headers are
complete; the body then has its own deadline (app.http.body). A client that misses it gets 408
problem+json and the connection is closed. Trickling resets nothing: the deadline is for the
whole of the headers, not per read.

uvicorn's two HTTP/1.1 implementations are covered, as CIVICLOOP_SERVER_HTTP chooses: httptools
(`uvicorn[standard]`, our dependency; the default) or h11.

Closing is lingering (RFC 9112 §9.6), for every answer that ends a connection: the server shuts
down its sending side and reads and discards what the client still sends, until the client
closes too or a few seconds pass. Closing outright while a client is still sending (the 408 of
a trickled body, a 413) makes the kernel reset the connection, and the reset destroys the answer
the client has not yet read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app import i18n
from app.config import Settings, get_settings
from app.errors import PROBLEM_MEDIA_TYPE, RequestTimeout
from app.http.middleware import SECURITY_HEADERS
from app.schemas.problem import Problem

log = logging.getLogger(__name__)

LINGER_SECONDS = 2.0


class LingeringTransport(asyncio.Transport):
    """The connection's transport as uvicorn's protocol sees it: `close()` half-closes, drains
    and closes after LINGER_SECONDS at most (sooner when the client closes its side)."""

    def __init__(self, inner: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.inner = inner
        self.loop = loop
        self.lingering = False
        self._timer: asyncio.TimerHandle | None = None

    def close(self) -> None:
        if self.lingering or self.inner.is_closing():
            return
        if not self.inner.can_write_eof():  # TLS: no half-close
            self.inner.close()
            return
        self.lingering = True
        self.inner.write_eof()  # sent once the answer has left the buffer
        self.inner.resume_reading()
        self._timer = self.loop.call_later(LINGER_SECONDS, self.inner.close)

    def closed(self) -> None:
        """The connection is gone: nothing left to wait for."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def is_closing(self) -> bool:
        return self.lingering or self.inner.is_closing()

    def abort(self) -> None:
        self.inner.abort()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.inner.write(data)

    def can_write_eof(self) -> bool:
        return self.inner.can_write_eof()

    def write_eof(self) -> None:
        self.inner.write_eof()

    def get_write_buffer_size(self) -> int:
        return self.inner.get_write_buffer_size()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.inner.set_write_buffer_limits(high, low)

    def pause_reading(self) -> None:
        if not self.lingering:
            self.inner.pause_reading()

    def resume_reading(self) -> None:
        self.inner.resume_reading()

    def is_reading(self) -> bool:
        return self.inner.is_reading()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.inner.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.inner.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.inner.get_protocol()


class Lingering(asyncio.Protocol):
    """Mixin for uvicorn's protocols: their transport closes lingering, and what arrives while
    it lingers is discarded (it is the rest of a request already answered)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's does not derive from asyncio.Transport).
        self.linger = LingeringTransport(
            cast(asyncio.Transport, transport), asyncio.get_running_loop()
        )
        super().connection_made(self.linger)

    def data_received(self, data: bytes) -> None:
        if not self.linger.lingering:
            super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.linger.closed()
        super().connection_lost(exc)


class HeaderDeadline:
    """One connection's timer, running while the server waits for a request's headers."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        settings: Settings,
        transport: Callable[[], asyncio.Transport | None],
    ) -> None:
        self.loop = loop
        self.settings = settings
        self.transport = transport
        self.accept_language: Callable[[], str | None] = lambda: None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def armed(self) -> bool:
        return self._timer is not None

    def arm(self) -> None:
        """Start counting now (a fresh deadline)."""
        self.cancel()
        self._timer = self.loop.call_later(self.settings.header_timeout_seconds, self._expired)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        transport = self.transport()
        if transport is None or transport.is_closing():
            return
        peer = transport.get_extra_info("peername")
        log.info(
            "request headers from %s not complete within %g s: answered 408 and closed",
            peer[0] if isinstance(peer, tuple) else peer,
            self.settings.header_timeout_seconds,
        )
        transport.write(late_headers_answer(self.settings, self.accept_language()))
        transport.close()


def late_headers_answer(settings: Settings, accept_language: str | None) -> bytes:
    """The whole 408 answer, written by hand: no request exists yet for the app to answer."""
    lang = i18n.negotiate(accept_language, None)
    seconds = f"{settings.header_timeout_seconds:g}"
    body = Problem(
        type=settings.public_base_url.rstrip("/") + f"/problems/{RequestTimeout.slug}",
        title=i18n.t(f"problem.{RequestTimeout.slug}", lang),
        status=RequestTimeout.status,
        detail=i18n.t("error.headers.timeout", lang, seconds=seconds),
        instance="",
    ).model_dump_json(exclude_none=True, exclude={"instance"})
    payload = body.encode()
    headers = {
        "Content-Type": PROBLEM_MEDIA_TYPE,
        "Content-Language": lang.value,
        "Content-Length": str(len(payload)),
        "Connection": "close",
        **SECURITY_HEADERS,
    }
    status = HTTPStatus.REQUEST_TIMEOUT
    head = f"HTTP/1.1 {status.value} {status.phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return (head + "\r\n").encode("latin-1") + payload


class H11HeaderDeadline(Lingering, H11Protocol):
    """uvicorn's h11 protocol with the header deadline. h11 tells where a connection is: both
    sides IDLE means the server waits for a request line and headers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_deadline = HeaderDeadline(self.loop, get_settings(), lambda: self.transport)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.header_deadline.arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.header_deadline.cancel()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def _follow(self) -> None:
        waiting = self.conn.their_state is h11.IDLE and self.conn.our_state is h11.IDLE
        if not waiting or self.transport.is_closing():
            self.header_deadline.cancel()
        elif not self.header_deadline.armed:
            # Armed once per request, never again while its bytes trickle in.
            self.header_deadline.arm()


class HttpToolsHeaderDeadline(Lingering, HttpToolsProtocol):
    """uvicorn's httptools protocol with the header deadline: armed when the connection is
    made and when an answer is complete with no further request parsed, stopped when a
    request's headers are complete."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_deadline = HeaderDeadline(self.loop, get_settings(), lambda: self.transport)
        self.header_deadline.accept_language = self._accept_language

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.header_deadline.arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.header_deadline.cancel()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self.header_deadline.cancel()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.cycle.response_complete:
            self.header_deadline.arm()

    def _accept_language(self) -> str | None:
        # The headers that did arrive, to word the 408 in the reader's language.
        for name, value in self.headers or ():
            if name == b"accept-language":
                return value.decode("latin-1")
        return None
