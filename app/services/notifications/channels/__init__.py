"""The ways a message leaves: e-mail, webhooks, Web Push. Each raises `DeliveryError`."""

from __future__ import annotations


class DeliveryError(Exception):
    """A delivery failed. Permanent ones go straight to the dead letters; others are retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class SubscriptionGone(DeliveryError):
    """The receiver says the subscription no longer exists (Web Push 404/410)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)
