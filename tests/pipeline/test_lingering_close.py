"""An answer that ends a connection reaches the client whole, even while the client is still
sending (RFC 9112 §9.6): the server half-closes, discards what still arrives, and closes once
the client has closed its side. A server that closed outright would leave unread bytes behind,
and the kernel would answer them with a reset that destroys the answer before the client reads
it. Over real sockets, against `civicloop serve` and uvicorn's h11 protocol, three times in a row
on the same server (the reset is a race: one clean answer proves little)."""

from __future__ import annotations

import asyncio
import json

from tests.pipeline.conftest import BODY_DEADLINE_S, Listening

CHUNK = b" " * 1024  # JSON whitespace: a body the server would accept if it came in time
CHUNK_EVERY_S = 0.01  # about 100 KB/s, steadily: far more than the deadline lets through
ATTEMPTS = 3


async def _send_until_answered(port: int, length: int) -> bytes:
    """POST a report declaring `length` bytes and keep sending until the server hangs up;
    everything it sent back. A reset instead of a clean end fails the test."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        "POST /api/v1/issues HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        "X-Device-Id: device-lingering\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    writer.write(head.encode())
    answer = asyncio.ensure_future(reader.read())  # until the server's side ends
    try:
        for _ in range(length // len(CHUNK)):
            if answer.done():
                break
            writer.write(CHUNK)
            await writer.drain()
            await asyncio.wait([answer], timeout=CHUNK_EVERY_S)
        return await asyncio.wait_for(answer, timeout=30)
    finally:
        writer.close()


def _status_and_problem(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    problem: dict[str, object] = json.loads(body)
    return int(head.split(b" ", 2)[1]), problem


async def test_a_body_cut_off_by_its_deadline_gets_its_whole_408(listening: Listening) -> None:
    length = int(BODY_DEADLINE_S * 5 / CHUNK_EVERY_S) * len(CHUNK)  # five deadlines' worth
    for _ in range(ATTEMPTS):
        status, problem = _status_and_problem(await _send_until_answered(listening.port, length))
        assert status == 408
        assert problem["status"] == 408
        assert str(problem["type"]).endswith("/problems/request-timeout")


async def test_a_body_declared_too_large_gets_its_whole_413_while_it_is_sent(
    listening: Listening,
) -> None:
    for _ in range(ATTEMPTS):
        status, problem = _status_and_problem(await _send_until_answered(listening.port, 4_000_000))
        assert status == 413
        assert problem["status"] == 413
        assert str(problem["type"]).endswith("/problems/payload-too-large")
