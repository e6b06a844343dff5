"""Closing the loop: the outbox written with each change, and its delivery by the worker."""
