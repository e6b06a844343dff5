"""Accounts: registration, login, device-only reporters, staff accounts and API keys."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app import i18n
from app.config import Settings
from app.errors import Conflict, FieldText, Forbidden, NotFound, Unauthenticated, ValidationFailed
from app.models import Agency, ApiKey, ContactNeed, Language, Role, User
from app.models.base import utcnow
from app.security import (
    hash_password,
    issue_token,
    new_api_key,
    read_token,
    secret_digest,
    verify_password_or_dummy,
)


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def register_citizen(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    language: Language,
    device_id: str | None,
) -> User:
    """Create a citizen account; a device's earlier anonymous reports come along with it."""
    email = _normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(i18n.text("error.account.exists_login"))
    device_user = find_device_user(session, device_id) if device_id else None
    if device_user is not None and device_user.email is None:
        # The anonymous reporter becomes a full account, keeping its reports.
        user = device_user
    else:
        user = User(role=Role.citizen)
        session.add(user)
    user.email = email
    user.password_hash = hash_password(password)
    user.display_name = display_name
    user.language = language
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    """The active user with this e-mail and password; one vague error for every failure."""
    user = session.scalar(select(User).where(User.email == _normalise_email(email)))
    valid = verify_password_or_dummy(password, user.password_hash if user else None)
    if user is None or not valid or not user.is_active:
        raise Unauthenticated(i18n.text("error.auth.wrong_password"))
    return user


def tokens_for(settings: Settings, user: User) -> dict[str, str | int]:
    access, lifetime = issue_token(settings, user_id=user.id, token_type="access")
    refresh, _ = issue_token(settings, user_id=user.id, token_type="refresh")
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": lifetime,
        "refresh_token": refresh,
    }


def user_from_token(session: Session, settings: Settings, token: str, *, refresh: bool) -> User:
    claims = read_token(settings, token, expected="refresh" if refresh else "access")
    user = session.get(User, claims.user_id) if claims else None
    if user is None or not user.is_active:
        raise Unauthenticated(i18n.text("error.auth.bad_token"))
    return user


def api_key_owner(session: Session, key: str) -> tuple[ApiKey, User]:
    """The live key with this secret and its active owner."""
    api_key = session.scalar(
        select(ApiKey).where(ApiKey.secret_hash == secret_digest(key), ApiKey.revoked_at.is_(None))
    )
    user = session.get(User, api_key.user_id) if api_key else None
    if api_key is None or user is None or not user.is_active:
        raise Unauthenticated(i18n.text("error.auth.bad_api_key"))
    return api_key, user


def user_from_api_key(session: Session, key: str) -> User:
    return api_key_owner(session, key)[1]


def find_device_user(session: Session, device_id: str) -> User | None:
    return session.scalar(select(User).where(User.device_id_hash == secret_digest(device_id)))


def device_user(session: Session, device_id: str) -> User:
    """The anonymous citizen behind this device identifier, created on its first report."""
    user = find_device_user(session, device_id)
    if user is None:
        # A new device's first reports can arrive together: insert only if absent, so on
        # PostgreSQL the later one waits for the first to commit and then uses its user, instead
        # of failing on the unique constraint (SQLite serialises writers anyway).
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(User)
            .values(role=Role.citizen, device_id_hash=secret_digest(device_id))
            .on_conflict_do_nothing(index_elements=["device_id_hash"])
        )
        user = find_device_user(session, device_id)
        assert user is not None
    if not user.is_active:
        raise Forbidden(i18n.text("error.auth.device_blocked"))
    return user


def create_staff(
    session: Session,
    *,
    creator: User,
    email: str,
    password: str,
    display_name: str,
    role: Role,
    agency_id: int | None,
) -> User:
    """Admins create staff for any agency and admins; managers create staff for their own agency."""
    if creator.role == Role.manager:
        if role not in (Role.agent, Role.manager):
            raise Forbidden(i18n.text("error.account.manager_roles"))
        if agency_id not in (None, creator.agency_id):
            raise Forbidden(i18n.text("error.account.manager_agency"))
        agency_id = creator.agency_id
    if role.is_staff:
        if agency_id is None or session.get(Agency, agency_id) is None:
            raise ValidationFailed(
                i18n.text("error.account.staff_agency"),
                errors=[
                    FieldText(
                        "body.agency_id", i18n.text("error.field.unknown_agency"), "unknown_agency"
                    )
                ],
            )
    elif role == Role.admin:
        agency_id = None
    else:
        raise ValidationFailed(
            i18n.text("error.account.citizens_register"),
            errors=[FieldText("body.role", i18n.text("error.field.staff_role"), "invalid_role")],
        )
    email = _normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(i18n.text("error.account.exists"))
    user = User(
        email=email,
        password_hash=hash_password(password),
        display_name=display_name,
        role=role,
        agency_id=agency_id,
    )
    session.add(user)
    session.flush()
    return user


def create_api_key(session: Session, *, owner: User, name: str) -> tuple[ApiKey, str]:
    """A new key for the owner's integrations; the secret is returned once and never stored."""
    secret = new_api_key()
    api_key = ApiKey(
        user_id=owner.id, name=name, prefix=secret[:12], secret_hash=secret_digest(secret)
    )
    session.add(api_key)
    session.flush()
    return api_key, secret


def list_api_keys(session: Session, *, owner: User) -> list[ApiKey]:
    return list(
        session.scalars(select(ApiKey).where(ApiKey.user_id == owner.id).order_by(ApiKey.id))
    )


def revoke_api_key(session: Session, *, owner: User, key_id: int) -> ApiKey:
    api_key = session.get(ApiKey, key_id)
    if api_key is None or api_key.user_id != owner.id:
        raise NotFound(i18n.text("error.account.api_key_not_found"))
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
    return api_key


def set_contact_preferences(
    session: Session,
    *,
    user: User,
    language: Language | None = None,
    contact_needs: Collection[ContactNeed] | None = None,
) -> User:
    """A person's contact language and needs; None leaves a setting as it was. Messages queued
    from now on follow them."""
    if language is not None:
        user.language = language
    if contact_needs is not None:
        # Stored in the enum's order, once each: the profile reads the same however it was sent.
        user.contact_needs = [n.value for n in ContactNeed if n in set(contact_needs)]
    session.flush()
    return user
