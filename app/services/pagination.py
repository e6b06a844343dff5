"""Opaque, signed keyset cursors: a client can hold one, never forge or reuse it elsewhere."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from app.errors import InvalidCursor


class CursorCodec:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="civicloop.cursor")

    def encode(self, *, scope: str, key: list[Any]) -> str:
        return self._serializer.dumps({"s": scope, "k": key})

    def decode(self, token: str, *, scope: str) -> list[Any]:
        """The keyset position in the cursor; `scope` ties it to the query that made it."""
        try:
            payload = self._serializer.loads(token)
        except BadSignature:
            raise InvalidCursor(
                "The cursor is not one this API issued (it may be truncated or edited); "
                "start again from the first page."
            ) from None
        if not isinstance(payload, dict) or payload.get("s") != scope:
            raise InvalidCursor(
                "The cursor belongs to a query with other filters or sorting; "
                "keep the same query parameters when following next_cursor."
            )
        key = payload.get("k")
        if not isinstance(key, list):
            raise InvalidCursor("The cursor is malformed; start again from the first page.")
        return key
