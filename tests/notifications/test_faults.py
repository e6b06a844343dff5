"""Faults, with real worker processes: receivers down or failing, a worker killed mid-batch,
database connections cut under running workers. Every message arrives at least once; the
counts (enqueued, delivered, duplicates) are printed for the record (`pytest -s`)."""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Agency, LonLat, Notification, NotificationStatus, Webhook
from app.models.base import utcnow
from app.services import accounts, issues
from tests.factories import IN_WEST, make_agency, make_category
from tests.notifications.conftest import WORKER_ENV, Spawn
from tests.notifications.receivers import HttpReceiver, SmtpServer, free_port, http_receiver


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def counts(database: Database) -> dict[str, int]:
    with database.session(write=False) as session:
        rows = session.execute(
            select(Notification.status, func.count()).group_by(Notification.status)
        ).all()
    return {str(status): int(n) for status, n in rows}


def all_sent(database: Database, total: int) -> Callable[[], bool]:
    return lambda: counts(database).get("sent", 0) == total


def enqueue_reports(
    db: Session, database: Database, *, n: int, url: str | None = None, email: bool = False
) -> Agency:
    """`n` new reports by device-only reporters in an agency with no staff: each queues one
    webhook message (to `url`) or one e-mail receipt, written by the real outbox path."""
    category = make_category(db)
    agency = make_agency(db, categories=[category])
    if url is not None:
        db.add(
            Webhook(
                owner_id=accounts.device_user(db, "fault-owner-device-0001").id,
                agency_id=agency.id,
                url=url,
                secret="whsec_fault",
            )
        )
    for i in range(n):
        reporter = accounts.device_user(db, f"fault-device-{uuid.uuid4().hex}")
        if email:
            reporter.email = f"reporter{i}-{uuid.uuid4().hex[:6]}@example.org"
            reporter.email_verified_at = utcnow()  # as a confirmed sign-up: mail reaches it
        issues.create_issue(
            db,
            spatial=database.spatial,
            reporter=reporter,
            category_code=category.code,
            title=f"Fault report {i}",
            description="",
            location=LonLat(*IN_WEST),
            address=None,
        )
    db.commit()
    total = sum(counts(database).values())
    assert total == n
    return agency


def report_counts(name: str, enqueued: int, ids: list[str]) -> int:
    duplicates = len(ids) - len(set(ids))
    print(
        f"\nFAULT {name}: enqueued={enqueued} delivered={len(set(ids))} "
        f"received={len(ids)} duplicates={duplicates}"
    )
    return duplicates


def test_an_smtp_server_that_is_down_gets_everything_once_it_is_up(
    db: Session, database: Database, spawn_worker: Spawn
) -> None:
    enqueue_reports(db, database, n=20, email=True)
    port = free_port()
    worker = spawn_worker(CIVICLOOP_SMTP_HOST="127.0.0.1", CIVICLOOP_SMTP_PORT=str(port))
    wait_until(lambda: _max_attempts(database) >= 2, timeout=30, what="failed attempts")
    assert counts(database).get("sent", 0) == 0
    smtp = SmtpServer(port).start()
    try:
        wait_until(all_sent(database, 20), timeout=60, what="every e-mail sent")
    finally:
        smtp.stop()
    assert worker.poll() is None
    ids = [str(m["Message-ID"]) for m in smtp.messages]
    report_counts("smtp-down-then-up", 20, ids)
    assert len(set(ids)) == 20


def _max_attempts(database: Database) -> int:
    with database.session(write=False) as session:
        return int(session.scalar(select(func.max(Notification.attempts))) or 0)


def test_a_webhook_receiver_answering_500_or_timing_out_is_retried(
    db: Session, database: Database, spawn_worker: Spawn
) -> None:
    receiver = HttpReceiver(script=[500, 500, 0, 503, 0, 500], stall_seconds=1.0)
    with http_receiver(receiver) as base:
        enqueue_reports(db, database, n=30, url=f"{base}/hook")
        spawn_worker()
        wait_until(all_sent(database, 30), timeout=60, what="every webhook delivered")
        ids = receiver.ids()
    duplicates = report_counts("webhook-500-and-timeouts", 30, ids)
    assert len(set(ids)) == 30
    # A timed-out request may still have been handled by the receiver: the only duplicates.
    assert duplicates <= 2
    assert _max_attempts(database) >= 2


def test_a_worker_killed_mid_batch_loses_nothing(
    db: Session, database: Database, spawn_worker: Spawn
) -> None:
    receiver = HttpReceiver(delay_seconds=0.02)
    with http_receiver(receiver) as base:
        enqueue_reports(db, database, n=150, url=f"{base}/hook")
        doomed = spawn_worker()
        wait_until(lambda: len(receiver.ids()) >= 30, timeout=60, what="the first deliveries")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        at_kill = len(set(receiver.ids()))
        assert at_kill < 150, "the worker finished before it could be killed"
        spawn_worker()
        wait_until(all_sent(database, 150), timeout=90, what="every message after the kill")
        ids = receiver.ids()
    duplicates = report_counts(f"sigkill-mid-batch (killed after {at_kill})", 150, ids)
    assert set(ids) == {r.message_id for r in _rows(database)}
    # At most the messages in flight when the process died: one per sending thread.
    assert duplicates <= int(WORKER_ENV["CIVICLOOP_WORKER_CONCURRENCY"])


def test_two_workers_share_the_outbox_without_sending_twice_and_stop_on_sigterm(
    db: Session, database: Database, spawn_worker: Spawn
) -> None:
    receiver = HttpReceiver(delay_seconds=0.005)
    with http_receiver(receiver) as base:
        enqueue_reports(db, database, n=200, url=f"{base}/hook")
        workers = [spawn_worker(), spawn_worker()]
        wait_until(all_sent(database, 200), timeout=90, what="every message")
        ids = receiver.ids()
    duplicates = report_counts("two-workers", 200, ids)
    assert duplicates == 0
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        assert worker.wait(timeout=15) == 0


def test_workers_recover_when_their_database_connections_are_cut(
    db: Session, database: Database, database_url: str, db_kind: str, spawn_worker: Spawn
) -> None:
    if db_kind != "postgis":
        pytest.skip("cutting server-side connections is a PostgreSQL scenario")
    name = f"civicloop-fault-{uuid.uuid4().hex[:8]}"
    url = make_url(database_url).update_query_dict({"application_name": name})
    receiver = HttpReceiver(delay_seconds=0.02)
    admin = create_engine(make_url(database_url).set(drivername="postgresql+psycopg"))
    cuts = 0
    try:
        with http_receiver(receiver) as base:
            enqueue_reports(db, database, n=150, url=f"{base}/hook")
            workers = [spawn_worker(url.render_as_string(hide_password=False)) for _ in range(2)]
            while counts(database).get("sent", 0) < 150:
                with admin.connect() as connection:
                    cuts += int(
                        connection.scalar(
                            text(
                                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE application_name = :name"
                            ),
                            {"name": name},
                        )
                        or 0
                    )
                time.sleep(0.5)
                assert all(w.poll() is None for w in workers), "a worker died"
                assert cuts < 10_000
            ids = receiver.ids()
    finally:
        admin.dispose()
    duplicates = report_counts(f"pg-connections-cut ({cuts} backends terminated)", 150, ids)
    assert cuts > 0
    assert len(set(ids)) == 150
    assert duplicates <= cuts  # at most one in-flight message per cut connection
    assert all(w.poll() is None for w in workers)


def _rows(database: Database) -> list[Notification]:
    with database.session(write=False) as session:
        return list(
            session.scalars(
                select(Notification).where(Notification.status == NotificationStatus.sent)
            )
        )
