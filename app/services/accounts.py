"""Accounts: registration, login, device-only reporters, staff accounts and API keys."""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app import i18n
from app.db import rows_changed
from app.errors import (
    Conflict,
    FieldText,
    Forbidden,
    InvalidLink,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from app.models import (
    Agency,
    ApiKey,
    ContactNeed,
    Language,
    Registration,
    Role,
    SessionEnd,
    User,
)
from app.models.base import utcnow
from app.security import (
    hash_password,
    new_api_key,
    secret_digest,
    verify_password_or_dummy,
)
from app.services import passwords, sessions
from app.services.notifications import account_mail
from app.services.notifications.account_mail import AccountMail

# Who switched which account off or on: the record operators keep of admin actions on people.
audit = logging.getLogger("civicloop.audit")


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
) -> None:
    """Sign-up answers alike for every address, so it tells no one which have accounts: a new
    address is mailed a link that makes the account; a taken one's owner is told that someone
    tried (and how to reset a forgotten password)."""
    email = _normalise_email(email)
    passwords.check_strength(password, user_inputs=[email, display_name], field="body.password")
    # Hashed whether or not the address is taken: the time to answer tells nothing either.
    password_hash = hash_password(password)
    owner = session.scalar(select(User).where(User.email == email))
    # An address that only follows issues by e-mail (no password) signs up like a new one.
    if owner is not None and owner.password_hash is not None:
        if owner.mail_to is None:
            # Its owner has not shown it is theirs: nothing but the verification reaches it.
            request_verification(session, user=owner)
        else:
            account_mail.enqueue(
                session,
                mail=AccountMail.exists,
                to=email,
                language=owner.language,
                user_id=owner.id,
            )
        return
    registration = Registration(
        email=email,
        password_hash=password_hash,
        display_name=display_name,
        language=language,
        device_id_hash=secret_digest(device_id) if device_id else None,
    )
    session.add(registration)
    session.flush()
    account_mail.enqueue(
        session,
        mail=AccountMail.confirm,
        to=email,
        language=language,
        registration_id=registration.id,
    )


def confirm_registration(session: Session, *, registration_id: int) -> User:
    """The citizen account a mailed sign-up link makes, once; the reports the device made
    before signing up come along with it."""
    # First use wins: a conditional UPDATE, so two clicks cannot make two accounts.
    claimed = rows_changed(
        session,
        update(Registration)
        .where(Registration.id == registration_id, Registration.confirmed_at.is_(None))
        .values(confirmed_at=utcnow()),
    )
    registration = session.get(Registration, registration_id)
    if registration is None or not claimed:
        raise InvalidLink(i18n.text("error.link.sign_up_used"))
    owner = session.scalar(select(User).where(User.email == registration.email))
    if owner is not None and owner.password_hash is not None:
        raise Conflict(i18n.text("error.account.exists_login"))
    device_user = (
        session.scalar(select(User).where(User.device_id_hash == registration.device_id_hash))
        if registration.device_id_hash
        else None
    )
    if owner is not None:
        # The address only followed issues by e-mail: its follows become the account's.
        user = owner
    elif device_user is not None and device_user.email is None:
        # The anonymous reporter becomes a full account, keeping its reports.
        user = device_user
    else:
        user = User(role=Role.citizen)
        session.add(user)
    user.email = registration.email
    user.email_verified_at = utcnow()  # the mailed link came back: the address is theirs
    user.password_hash = registration.password_hash
    user.display_name = registration.display_name
    user.language = registration.language
    session.flush()
    return user


def request_password_reset(session: Session, *, email: str) -> None:
    """Mail a reset link if the address is an active account's; the answer is the same either
    way."""
    user = session.scalar(select(User).where(User.email == _normalise_email(email), User.is_active))
    if user is None or user.email is None or user.password_hash is None:
        return
    if user.mail_to is None:
        request_verification(session, user=user)
        return
    account_mail.enqueue(
        session,
        mail=AccountMail.reset,
        to=user.email,
        language=user.language,
        user_id=user.id,
        fingerprint=account_mail.password_fingerprint(user.password_hash),
    )


def reset_password(session: Session, *, user_id: int, fingerprint: str, password: str) -> None:
    """A new password from a mailed reset link, which works once; every login session ends
    (whoever knew the old password is logged out)."""
    user = session.get(User, user_id)
    if (
        user is None
        or not user.is_active
        or user.password_hash is None
        or account_mail.password_fingerprint(user.password_hash) != fingerprint
    ):
        raise InvalidLink(i18n.text("error.link.reset_used"))
    passwords.check_strength(
        password, user_inputs=[user.email or "", user.display_name], field="body.password"
    )
    # First use wins: only the password the link was sent against is replaced.
    changed = rows_changed(
        session,
        update(User)
        .where(User.id == user.id, User.password_hash == user.password_hash)
        .values(password_hash=hash_password(password), updated_at=utcnow()),
    )
    if not changed:
        raise InvalidLink(i18n.text("error.link.reset_used"))
    sessions.end_all(session, user_id=user.id, reason=SessionEnd.password_reset)


def authenticate(session: Session, *, email: str, password: str) -> User:
    """The active user with this e-mail and password; one vague error for every failure."""
    user = session.scalar(select(User).where(User.email == _normalise_email(email)))
    valid = verify_password_or_dummy(password, user.password_hash if user else None)
    if user is None or not valid or not user.is_active:
        raise Unauthenticated(i18n.text("error.auth.wrong_password"))
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
    passwords.check_strength(password, user_inputs=[email, display_name], field="body.password")
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
    # An address an admin typed: its messages (alerts, resets) wait until its owner confirms it.
    request_verification(session, user=user)
    return user


def request_verification(session: Session, *, user: User) -> None:
    """Mail the link that verifies the account's address, unless it is verified already."""
    if user.email is None or user.mail_to is not None:
        return
    account_mail.enqueue(
        session,
        mail=AccountMail.verify,
        to=user.email,
        language=user.language,
        user_id=user.id,
        email=user.email,
    )


def confirm_email(session: Session, *, user_id: int, email: str) -> User:
    """The verification link came back: the address it was sent to is its account's (a link for
    an address the account no longer has verifies nothing). Idempotent."""
    user = session.get(User, user_id)
    if user is None or user.email != email or not user.is_active:
        raise InvalidLink(i18n.text("error.link.verify_stale"))
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        session.flush()
    return user


def user_for_address(session: Session, *, email: str, language: Language) -> User:
    """The account that receives messages for an address its owner just confirmed by a mailed
    link: theirs if they have one (now verified), else one that only receives mail (no password:
    signing up later goes through the password reset the sign-up mail offers)."""
    email = _normalise_email(email)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, role=Role.citizen, language=language, display_name="")
        session.add(user)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    session.flush()
    return user


def set_active(session: Session, *, actor: User, user_id: int, active: bool) -> User:
    """An admin switches an account off or back on. Off takes effect on the caller's next
    request: every login session ends, and its API keys and device stop being accepted (they
    work again if the account is switched back on; sessions do not come back)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(i18n.text("error.account.user_not_found"))
    if user.id == actor.id and not active:
        # The last admin could lock everyone out; another admin can do it.
        raise Conflict(i18n.text("error.account.deactivate_self"))
    if user.is_active != active:
        user.is_active = active
        if not active:
            sessions.end_all(session, user_id=user.id, reason=SessionEnd.deactivated)
        audit.info(
            "account %s by admin %s: %s",
            "activated" if active else "deactivated",
            actor.id,
            user.id,
            extra={
                "action": "account.active",
                "actor_id": actor.id,
                "user_id": user.id,
                "active": active,
            },
        )
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
