"""No client holds a connection by sending its request headers slowly (Slowloris): a request
line and headers not complete within CIVICLOOP_HEADER_TIMEOUT_SECONDS of the moment the server
waits for them (a new connection, or the previous answer on a kept-alive one) are answered 408
problem+json and the connection is closed, however steadily the bytes trickle. Meanwhile every
other client is served as usual. Over real sockets, against `civicloop serve` (uvicorn with
httptools) and against uvicorn's h11 protocol with the same deadline."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx

from tests.pipeline.conftest import HEADER_DEADLINE_S as DEADLINE_S
from tests.pipeline.conftest import Listening

TRICKLE_EVERY_S = 0.25  # a byte at a time: the headers below would take over 20 s
HEAD = (
    b"GET /api/v1/categories HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\n"
    b"Accept-Language: th\r\n"
    b"User-Agent: one-byte-at-a-time/1.0 (a slow or hostile client)\r\n"
    b"\r\n"
)


@dataclass(frozen=True)
class Outcome:
    answer: bytes  # everything the server sent before it closed the connection
    sent: int  # bytes of the trickled request that had been sent by then

    @property
    def status(self) -> int:
        return int(self.answer.split(b" ", 2)[1])

    def headers(self) -> dict[str, str]:
        head = self.answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        return {
            name.lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head.split("\r\n")[1:])
        }

    def problem(self) -> dict[str, object]:
        body: dict[str, object] = json.loads(self.answer.split(b"\r\n\r\n", 1)[1])
        return body


async def _trickle(port: int, data: bytes, *, before: bytes = b"", at_once: int = 0) -> Outcome:
    """Send `before` (a whole earlier request) and wait for its answer, then the first
    `at_once` bytes of `data` at once and the rest a byte at a time, until the server answers
    or hangs up; what it sent back, and how far the request got."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = b""
    if before:
        writer.write(before)
        await writer.drain()
        answer = await _one_answer(reader)
    writer.write(data[:at_once])
    await writer.drain()
    closed = asyncio.create_task(reader.read())  # until the server closes the connection
    sent = at_once
    try:
        for byte in data[at_once:]:
            if closed.done():
                break
            try:
                writer.write(bytes([byte]))
                await writer.drain()
            except ConnectionError:
                break
            sent += 1
            await asyncio.wait([closed], timeout=TRICKLE_EVERY_S)
        rest = await asyncio.wait_for(closed, timeout=60)
    finally:
        writer.close()
    return Outcome(answer=rest, sent=sent) if not before else Outcome(answer + rest, sent)


async def _stall(port: int, partial: bytes) -> Outcome:
    """Send the start of a request at once, then nothing: what came back before the close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(partial)
        await writer.drain()
        return Outcome(answer=await asyncio.wait_for(reader.read(), timeout=60), sent=len(partial))
    finally:
        writer.close()


async def _one_answer(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head + await reader.readexactly(length)


async def _served_meanwhile(port: int, until: asyncio.Future[Any]) -> list[int]:
    """A well-behaved client asking again and again while the slow ones trickle."""
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        while not until.done() or not statuses:
            statuses.append((await client.get("/api/v1/categories")).status_code)
            await asyncio.sleep(0.1)
    return statuses


def _assert_408_and_closed(outcome: Outcome, request: bytes) -> None:
    assert outcome.answer.startswith(b"HTTP/1.1 408 "), outcome.answer
    assert outcome.sent < len(request), "the whole request went through: no deadline"
    headers = outcome.headers()
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert headers["x-content-type-options"] == "nosniff"
    problem = outcome.problem()
    assert problem["status"] == 408
    assert str(problem["type"]).endswith("/problems/request-timeout")


async def test_a_client_trickling_its_headers_is_answered_408_while_others_are_served(
    listening: Listening,
) -> None:
    port = listening.port
    slow = asyncio.gather(
        # The request line and Accept-Language at once, then a byte at a time.
        _trickle(port, HEAD, at_once=HEAD.index(b"User-Agent")),
        _stall(port, HEAD[:40]),  # sends half the headers at once, then nothing more
        _trickle(port, b""),  # connects and never sends a byte
    )
    others = asyncio.create_task(_served_meanwhile(port, slow))
    trickled, stalled, silent = await slow
    statuses = await others

    for outcome, request in ((trickled, HEAD), (stalled, HEAD), (silent, HEAD)):
        _assert_408_and_closed(outcome, request)
    assert stalled.sent == 40
    assert silent.sent == 0
    # Worded in the language the headers that did arrive asked for (httptools hands them over
    # as they come; h11 only once they are complete, so its 408 is in English).
    language = "th" if listening.parser == "httptools" else "en"
    assert trickled.headers()["content-language"] == language
    assert f"{DEADLINE_S:g}" in str(trickled.problem()["detail"])
    assert statuses
    assert set(statuses) == {200}, statuses


async def test_a_kept_alive_connection_gets_a_new_deadline_for_each_request(
    listening: Listening,
) -> None:
    first = HEAD.replace(b"User-Agent", b"X-First: yes\r\nUser-Agent")
    # The first request arrives whole and is answered; the next one on the same connection
    # trickles, and is cut off at its own deadline.
    outcome = await _trickle(listening.port, HEAD, before=first)
    assert outcome.answer.startswith(b"HTTP/1.1 200 "), outcome.answer
    second = outcome.answer[outcome.answer.index(b"HTTP/1.1 408 ") :]
    _assert_408_and_closed(Outcome(second, outcome.sent), HEAD)


async def test_headers_that_arrive_in_pieces_within_the_deadline_are_served(
    listening: Listening,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", listening.port)
    try:
        for piece in (HEAD[:20], HEAD[20:60], HEAD[60:]):
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.1)
        answer = await asyncio.wait_for(_one_answer(reader), timeout=30)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 200 "), answer
