"""A small in-process cache of rendered answers, with their ETags, for public statistics."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    body: bytes
    etag: str
    expires: float


class TTLCache:
    """At most `size` answers, each kept `ttl` seconds; the oldest goes first when full."""

    def __init__(self, *, ttl: float, size: int = 256) -> None:
        self.ttl, self.size = ttl, size
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: str, compute: Callable[[], bytes]) -> Entry:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry.expires > now:
            return entry
        body = compute()
        entry = Entry(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"', now + self.ttl)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return entry
