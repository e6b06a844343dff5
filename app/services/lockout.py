"""Log-in back-off: an account whose password keeps failing makes its next try wait, twice as long
after each further failure, up to a cap; a success forgets the failures.

It is a back-off, not a lock: a guesser can only make the owner wait (at most the cap, after
which the owner's next try is heard), never shut them out, and per-address limits
(app.http.limits) stop one address spraying many accounts. A try made while the account waits is
refused unheard: it neither checks the password nor counts as a failure, so hammering does not
lengthen the wait.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits.aio.storage import Storage

from app import i18n
from app.config import Settings
from app.errors import TooManyRequests

# Doubling stops long before any cap could be reached by a larger exponent.
_MAX_DOUBLINGS = 40


@dataclass(frozen=True)
class BackoffRule:
    free_failures: int
    base_seconds: int
    max_seconds: int
    window_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BackoffRule:
        return cls(
            free_failures=settings.login_backoff_free_failures,
            base_seconds=settings.login_backoff_base_seconds,
            max_seconds=settings.login_backoff_max_seconds,
            window_seconds=settings.login_backoff_window_seconds,
        )

    def wait_after(self, failures: int) -> int:
        """Seconds an account waits after its `failures`-th failure in a row."""
        if failures <= self.free_failures:
            return 0
        doublings = min(failures - self.free_failures - 1, _MAX_DOUBLINGS)
        return min(self.base_seconds << doublings, self.max_seconds)


class LoginBackoff:
    """The rule, kept in the rate limits' storage: memory, or the Redis every process shares."""

    def __init__(self, storage: Storage, rule: BackoffRule) -> None:
        self._storage = storage
        self._rule = rule

    @staticmethod
    def _failures(account: str) -> str:
        return f"login-backoff/failures/{account}"

    @staticmethod
    def _waiting(account: str) -> str:
        return f"login-backoff/waiting/{account}"

    async def check(self, account: str) -> None:
        """Refuses a try while the account waits (429 with the seconds left)."""
        key = self._waiting(account)
        if await self._storage.get(key):
            left = math.ceil(await self._storage.get_expiry(key) - time.time())
            seconds = max(left, 1)
            raise TooManyRequests(
                i18n.text("error.login.backoff", seconds=seconds), retry_after=seconds
            )

    async def failed(self, account: str) -> None:
        failures = await self._storage.incr(self._failures(account), self._rule.window_seconds)
        if wait := self._rule.wait_after(failures):
            key = self._waiting(account)
            # A fresh key: its expiry is set by the increment that creates it.
            await self._storage.clear(key)
            await self._storage.incr(key, wait)

    async def succeeded(self, account: str) -> None:
        await self._storage.clear(self._failures(account))
        await self._storage.clear(self._waiting(account))
