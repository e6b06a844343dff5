"""`civicloop` command: serve, migrate, worker, mail-in, demo-data, create-admin, import."""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import os
import signal
import sys
import tempfile
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from app.config import Settings, get_settings

# Reports in the demo city's past weeks: enough for every status, district and KPI to show.
DEFAULT_DEMO_ISSUES = 300

if TYPE_CHECKING:
    from app.db import Database

# uvicorn's two HTTP/1.1 implementations, each with the header deadline (app.http.server).
SERVER_PROTOCOLS = {"httptools": "HttpToolsHeaderDeadline", "h11": "H11HeaderDeadline"}


def _database() -> Database:
    from app.db import Database

    return Database.from_settings(get_settings())


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn takes the client's address (and scheme) from X-Forwarded-For/-Proto only when the
    peer is one of CIVICLOOP_TRUSTED_PROXIES; with none configured, from no one: rate limits
    count the address, and any client can write that header."""
    return {
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": settings.trusted_proxies or None,
    }


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.observability import configure_logging, logging_config

    # Every worker process reads its share of the database connections from it (Settings.workers).
    os.environ["CIVICLOOP_WORKERS"] = str(args.workers)
    get_settings.cache_clear()
    settings = get_settings()
    if settings.uses_development_key and not _is_loopback(args.host):
        # Anyone can sign tokens with the public development key: only this machine may connect.
        print(
            f"civicloop: refusing to serve on {args.host} with the development signing key; "
            "set CIVICLOOP_SECRET_KEY to at least 32 random characters "
            "(e.g. `openssl rand -hex 32`), or serve on 127.0.0.1",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings.log_level, settings.log_format)
    if settings.auto_migrate:
        migrate(args)
    # After its graceful shutdown uvicorn re-raises SIGTERM to whatever handler was there before:
    # make that an exit with status 0, as the multi-worker supervisor already does, so that
    # `docker stop` and process managers see a stop they asked for as a clean one.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    with tempfile.TemporaryDirectory(prefix="civicloop-metrics-") as metrics_dir:
        if args.workers > 1:
            # Each worker writes its counts here and /metrics sums them (see app.observability).
            os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            # uvicorn's protocol with a deadline for the request line and headers (its own has
            # none): imported by name, so that every worker process builds it from the settings.
            http=f"app.http.server:{SERVER_PROTOCOLS[settings.server_http]}",
            loop=settings.server_loop,
            **proxy_options(settings),
            log_level=settings.log_level.lower(),
            log_config=logging_config(settings.log_level, settings.log_format),
        )
    return 0


def _upgrade() -> str:
    """Migrate the configured database; its URL without the password."""
    from app.dbmigrate import upgrade

    database = _database()
    try:
        upgrade(database.engine)
    finally:
        database.dispose()
    return database.engine.url.render_as_string(hide_password=True)


def migrate(args: argparse.Namespace) -> int:
    print(f"database migrated: {_upgrade()}")
    return 0


def worker(args: argparse.Namespace) -> int:
    """Deliver the outbox and do the housekeeping (auto-close, retention) until SIGTERM/SIGINT
    (or, with --once, until nothing is due)."""
    import logging
    import signal
    import threading

    from app.services import housekeeping
    from app.services.notifications.delivery import Worker

    settings = get_settings()
    logging.basicConfig(level=settings.log_level)
    database = _database()
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        # Finish the message in hand, hand the rest of the batch back, then exit.
        logging.getLogger("civicloop.worker").info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    loop = Worker(database, settings, housekeeping=lambda: housekeeping.run(database, settings))
    try:
        if args.once:
            housekeeping.run(database, settings)
            while not stop.is_set() and loop.run_once(stop):
                pass
        else:
            loop.run(stop)
    finally:
        loop.close()
        database.dispose()
    tally = loop.tally
    print(
        f"worker stopped: {tally.sent} sent, {tally.retried} to retry, {tally.dead} dead-lettered"
    )
    return 0


def mail_in(args: argparse.Namespace) -> int:
    """Receive replies to notification e-mails over SMTP until SIGTERM/SIGINT; each becomes a
    comment on its issue."""
    import logging
    import threading

    from app.services.notifications.channels.mail_in import receiver

    settings = get_settings()
    logging.basicConfig(level=settings.log_level)
    if not settings.reply_domain:
        print("civicloop: set CIVICLOOP_REPLY_DOMAIN to receive replies", file=sys.stderr)
        return 2
    database = _database()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    host, port = args.host or settings.mail_in_host, args.port or settings.mail_in_port
    smtp = receiver(settings, database, host=host, port=port)
    smtp.start()
    print(f"mail-in: receiving replies for @{settings.reply_domain} on {host}:{port}", flush=True)
    try:
        stop.wait()
    finally:
        smtp.stop()
        database.dispose()
    return 0


def demo_data(args: argparse.Namespace) -> int:
    from app.demo import DEMO_EMAIL_DOMAIN, load_demo_city
    from app.demo.history import load_demo_history
    from app.spatial import backend_for
    from app.storage import store_for

    settings = get_settings()
    if settings.environment == "production":
        print("refusing to load demo accounts into a production database", file=sys.stderr)
        return 2
    migrate(args)
    database = _database()
    try:
        with database.session(write=True) as session, session.begin():
            summary = load_demo_city(session, password=args.password)
            made = load_demo_history(
                session,
                settings=settings,
                store=store_for(settings),
                spatial=backend_for(database.engine),
                count=args.issues,
            )
    finally:
        database.dispose()
    print(
        f"demo city loaded: {summary.categories} new categories, {summary.agencies} new agencies, "
        f"{summary.districts} new districts, "
        f"{summary.users} new users, {made} new issues\n"
        f"log in as admin@{DEMO_EMAIL_DOMAIN}, manager.district-bang-rak@{DEMO_EMAIL_DOMAIN} or "
        f"agent.district-bang-rak@{DEMO_EMAIL_DOMAIN} with password {args.password!r}"
    )
    return 0


def city_apply(args: argparse.Namespace) -> int:
    """Make the database match the city file; with --dry-run, only print what would change."""
    from pathlib import Path

    from app import city
    from app.spatial import backend_for

    try:
        loaded = city.load(Path(args.file))
    except city.CityFileError as exc:
        print(f"civicloop: {args.file} was not applied:\n{exc}", file=sys.stderr)
        return 2
    _upgrade()
    database = _database()
    try:
        with database.session(write=True) as session:
            changes = city.apply(session, city=loaded, spatial=backend_for(database.engine))
            if args.dry_run:
                session.rollback()
            else:
                session.commit()
    finally:
        database.dispose()
    for repair in loaded.repairs:
        print(f"repaired {repair}")
    for change in changes:
        print(change)
    verb = "would change" if args.dry_run else "changed"
    print(f"{loaded.spec.city.name[loaded.default_language]}: {verb} {len(changes)}")
    return 0


def create_admin(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app import i18n
    from app.errors import ValidationFailed
    from app.models import Role, User
    from app.models.base import utcnow
    from app.security import hash_password
    from app.services import passwords

    password = os.environ.get("CIVICLOOP_ADMIN_PASSWORD") or getpass.getpass("password: ")
    email = args.email.strip().lower()
    try:
        passwords.check_strength(password, user_inputs=[email, args.name], field="password")
    except ValidationFailed as weak:
        print(weak.errors_in(i18n.FALLBACK)[0].message, file=sys.stderr)
        return 2
    database = _database()
    try:
        with database.session(write=True) as session, session.begin():
            if session.scalar(select(User.id).where(User.email == email)) is not None:
                print(f"{email} already exists", file=sys.stderr)
                return 1
            session.add(
                User(
                    email=email,
                    password_hash=hash_password(password),
                    display_name=args.name,
                    role=Role.admin,
                    # The operator typed the address at the server's console: it is theirs.
                    email_verified_at=utcnow(),
                )
            )
    finally:
        database.dispose()
    print(f"admin {email} created")
    return 0


def rollups_rebuild(args: argparse.Namespace) -> int:
    """Recompute the statistics rollups from the issue table, in one transaction."""
    from app.services import rollups

    database = _database()
    try:
        with database.session(write=True) as session, session.begin():
            counted = rollups.rebuild(session)
    finally:
        database.dispose()
    print(f"rollups rebuilt from {counted} issues")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="civicloop", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser(
        "serve", help="run the API (migrates first unless CIVICLOOP_AUTO_MIGRATE=false)"
    )
    p.add_argument("--host", default=os.environ.get("CIVICLOOP_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("CIVICLOOP_PORT", "8000")))
    p.add_argument("--workers", type=int, default=int(os.environ.get("CIVICLOOP_WORKERS", "1")))
    p.set_defaults(handler=serve)
    commands.add_parser(
        "migrate", help="upgrade the database schema to the latest revision"
    ).set_defaults(handler=migrate)
    p = commands.add_parser(
        "worker", help="deliver queued notifications (e-mail, webhooks, web push) until stopped"
    )
    p.add_argument("--once", action="store_true", help="do what is due now, then exit")
    p.set_defaults(handler=worker)
    p = commands.add_parser(
        "mail-in", help="receive replies to notification e-mails (SMTP) as comments until stopped"
    )
    p.add_argument("--host", help="default: CIVICLOOP_MAIL_IN_HOST (127.0.0.1)")
    p.add_argument("--port", type=int, help="default: CIVICLOOP_MAIL_IN_PORT (2525)")
    p.set_defaults(handler=mail_in)
    p = commands.add_parser(
        "demo-data", help="load the Bangkok demo city (districts, categories, staff)"
    )
    p.add_argument("--password", default="civicloop-demo", help="password of every demo user")
    p.add_argument(
        "--issues",
        type=int,
        default=DEFAULT_DEMO_ISSUES,
        help="reports in the demo's past weeks, made once (0: none)",
    )
    p.set_defaults(handler=demo_data)
    p = commands.add_parser("city", help="describe the city in one file (YAML or JSON)")
    city_commands = p.add_subparsers(dest="city_command", required=True)
    p = city_commands.add_parser(
        "apply",
        help="create or update the city (districts, agencies, categories) to match FILE, "
        "in one transaction; a second run changes only what changed",
    )
    p.add_argument("file", help="the city file (.yaml, .yml or .json)")
    p.add_argument("--dry-run", action="store_true", help="print the changes, apply nothing")
    p.set_defaults(handler=city_apply)
    p = commands.add_parser("rollups", help="the statistics rollups")
    p.add_subparsers(dest="rollups_command", required=True).add_parser(
        "rebuild",
        help="recompute them from the issues (after a bulk load that bypassed the API)",
    ).set_defaults(handler=rollups_rebuild)
    p = commands.add_parser(
        "create-admin", help="create an admin (password from CIVICLOOP_ADMIN_PASSWORD or a prompt)"
    )
    p.add_argument("--email", required=True)
    p.add_argument("--name", default="Administrator")
    p.set_defaults(handler=create_admin)
    from app.importers.cli import add_parser as add_import_parser

    add_import_parser(commands)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ValidationError as exc:
        # A setting is wrong: say which and why, without a traceback.
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper()
            where = f"CIVICLOOP_{name}: " if name else ""
            message = error["msg"].removeprefix("Value error, ")
            print(f"civicloop: invalid configuration: {where}{message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
