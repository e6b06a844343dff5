"""Password hashing, JWT access/refresh tokens, API-key and device-id secrets."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

import jwt
from pwdlib import PasswordHash

from app.config import Settings
from app.models.base import MAX_ID

_password_hash = PasswordHash.recommended()  # argon2id with the library's current parameters
JWT_ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]
API_KEY_PREFIX = "clk_"


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _password_hash.verify(password, password_hash)


# Verifying against a real hash for unknown e-mails keeps login timing from revealing accounts.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def verify_password_or_dummy(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        verify_password(password, _DUMMY_HASH)
        return False
    return verify_password(password, password_hash)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    # The login session the token belongs to (app.models.AuthSession): it works while that is live.
    session_id: int
    # Refresh tokens: which of the session's rotations issued it (a replay names an old one).
    generation: int
    token_type: TokenType


def issue_token(
    settings: Settings,
    *,
    user_id: int,
    session_id: int,
    token_type: TokenType,
    generation: int = 0,
) -> tuple[str, int]:
    """A signed token and its lifetime in seconds."""
    lifetime = (
        dt.timedelta(minutes=settings.access_token_minutes)
        if token_type == "access"
        else dt.timedelta(days=settings.refresh_token_days)
    )
    now = dt.datetime.now(dt.UTC)
    payload = {
        "sub": str(user_id),
        "sid": session_id,
        "gen": generation,
        "typ": token_type,
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_hex(8),
    }
    token = jwt.encode(payload, settings.secret_key, algorithm=JWT_ALGORITHM)
    return token, int(lifetime.total_seconds())


def read_token(settings: Settings, token: str, *, expected: TokenType) -> TokenClaims | None:
    """The claims of a valid, unexpired token of the expected type, else None."""
    try:
        payload = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "sid", "gen", "exp", "iat", "typ"]},
        )
    except jwt.PyJWTError:
        return None
    subject = str(payload["sub"])
    numbers = (int(subject) if subject.isdigit() else -1, payload["sid"], payload["gen"])
    # Numbers a row id cannot be must not reach the driver (an overflow there is a 500).
    if payload.get("typ") != expected or not all(
        type(n) is int and 0 <= n <= MAX_ID for n in numbers
    ):
        return None
    return TokenClaims(
        user_id=numbers[0],
        session_id=payload["sid"],
        generation=payload["gen"],
        token_type=expected,
    )


def secret_digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (API key, device id): fast lookup, nothing reversible."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)
