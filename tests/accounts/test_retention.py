"""Account records that can no longer be used do not pile up: a running `civicloop worker`
deletes login sessions ended or expired, and sign-ups confirmed or whose link expired, once
CIVICLOOP_ACCOUNT_RECORD_RETENTION_DAYS have passed since; everything still usable, or still
within its retention, stays."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import AuthSession, Language, Registration, SessionEnd
from app.models.base import utcnow
from tests.conftest import TEST_SECRET
from tests.factories import make_user
from tests.platform.server import CIVICLOOP, clean_environment

RETENTION_DAYS = 30
DAY = dt.timedelta(days=1)


def _session(db: Session, user_id: int, *, active: dt.datetime, ended: dt.datetime | None) -> int:
    row = AuthSession(
        user_id=user_id,
        generation=3,
        created_at=active - DAY,
        updated_at=active,
        ended_at=ended,
        end_reason=SessionEnd.logout if ended else None,
    )
    db.add(row)
    db.flush()
    return row.id


def _sign_up(db: Session, *, made: dt.datetime, confirmed: dt.datetime | None) -> int:
    row = Registration(
        email=f"sign-up-{made.timestamp():.0f}@example.org",
        password_hash="$argon2id$not-a-real-hash",
        display_name="Somchai",
        language=Language.th,
        created_at=made,
        updated_at=confirmed or made,
        confirmed_at=confirmed,
    )
    db.add(row)
    db.flush()
    return row.id


def test_the_worker_deletes_ended_and_expired_sessions_and_sign_ups_after_retention(
    db: Session, database: Database, database_url: str, settings: Settings, tmp_path: Path
) -> None:
    now = utcnow()
    user = make_user(db)
    kept_for = dt.timedelta(days=RETENTION_DAYS)
    refresh_life = dt.timedelta(days=settings.refresh_token_days)
    link_life = dt.timedelta(hours=settings.sign_up_link_hours)
    stays = {
        "live session": _session(db, user.id, active=now - DAY, ended=None),
        "expired within retention": _session(
            db, user.id, active=now - refresh_life - kept_for + DAY, ended=None
        ),
        "ended within retention": _session(db, user.id, active=now - 2 * DAY, ended=now - DAY),
    }
    goes = {
        "expired long ago": _session(
            db, user.id, active=now - refresh_life - kept_for - DAY, ended=None
        ),
        "ended long ago": _session(
            db, user.id, active=now - kept_for - 2 * DAY, ended=now - kept_for - DAY
        ),
    }
    sign_ups_stay = {
        "waiting for its link": _sign_up(db, made=now - dt.timedelta(hours=1), confirmed=None),
        "link expired within retention": _sign_up(
            db, made=now - link_life - kept_for + DAY, confirmed=None
        ),
        "confirmed within retention": _sign_up(db, made=now - 2 * DAY, confirmed=now - DAY),
    }
    sign_ups_go = {
        "link expired long ago": _sign_up(
            db, made=now - link_life - kept_for - DAY, confirmed=None
        ),
        "confirmed long ago": _sign_up(
            db, made=now - kept_for - 2 * DAY, confirmed=now - kept_for - DAY
        ),
    }
    db.commit()

    env = clean_environment(
        CIVICLOOP_ENVIRONMENT="test",
        CIVICLOOP_DATABASE_URL=database_url,
        CIVICLOOP_SECRET_KEY=TEST_SECRET,
        CIVICLOOP_DATA_DIR=str(tmp_path),
        CIVICLOOP_ACCOUNT_RECORD_RETENTION_DAYS=str(RETENTION_DAYS),
    )
    worker = subprocess.Popen(
        [CIVICLOOP, "worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Housekeeping runs as the worker starts (then every auto_close_check_seconds).
        deadline = time.monotonic() + 90
        while _stored(database, AuthSession, goes.values()) and time.monotonic() < deadline:
            assert worker.poll() is None, worker.communicate()[0]
            time.sleep(0.3)
        while _stored(database, Registration, sign_ups_go.values()) and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=60)[0]
    assert worker.returncode == 0, output
    assert "Traceback" not in output, output

    assert _stored(database, AuthSession, goes.values()) == set()
    assert _stored(database, AuthSession, stays.values()) == set(stays.values())
    assert _stored(database, Registration, sign_ups_go.values()) == set()
    assert _stored(database, Registration, sign_ups_stay.values()) == set(sign_ups_stay.values())


def _stored(
    database: Database, model: type[AuthSession] | type[Registration], ids: Iterable[int]
) -> set[int]:
    wanted = list(ids)
    with database.session(write=False) as session:
        return set(session.scalars(select(model.id).where(model.id.in_(wanted))))
