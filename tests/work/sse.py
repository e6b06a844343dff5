"""Reading a text/event-stream as the HTML standard's EventSource does (the parts we use)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Message:
    id: str | None  # None: the message had no `id:` line
    data: dict[str, Any]


def parse(lines: Iterable[str]) -> tuple[list[Message], int]:
    """The messages in the stream's lines, and how many heartbeat comments came with them."""
    messages: list[Message] = []
    heartbeats = 0
    event_id: str | None = None
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                messages.append(Message(event_id, json.loads("\n".join(data))))
            event_id, data = None, []
        elif line.startswith(":"):
            heartbeats += 1
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "id":
                event_id = value
            elif name == "data":
                data.append(value)
    return messages, heartbeats


def messages_of(body: str) -> list[Message]:
    return parse(body.replace("\r\n", "\n").split("\n"))[0]
