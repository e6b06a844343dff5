"""Settings, read once from CIVICLOOP_* environment variables."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import limits
from fastapi import Depends, Request
from pydantic import AfterValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only signing secret: it is public (it is in this file), so it is refused in
# production (see _refuse_unsafe_defaults) and `civicloop serve` binds only to loopback with it.
DEV_SECRET_KEY = "civicloop-development-secret-change-me"
# How long a SQLite writer waits for another's write lock before its request answers 503.
SQLITE_BUSY_TIMEOUT_S = 30.0


def _rate_limits(value: str) -> str:
    """A `limits` string ("10/minute;100/hour"), checked when the settings are read so that a
    typo stops the start instead of the first request; empty means no limit."""
    if value:
        limits.parse_many(value)
    return value


RateLimit = Annotated[str, AfterValidator(_rate_limits)]


class Settings(BaseSettings):
    """Every knob of the service; the README documents each one."""

    model_config = SettingsConfigDict(env_prefix="CIVICLOOP_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var")
    # Empty means the embedded SQLite database under data_dir.
    database_url: str = ""
    auto_migrate: bool = Field(
        default=True, description="Run Alembic migrations before `civicloop serve` starts."
    )
    secret_key: str = DEV_SECRET_KEY
    access_token_minutes: int = Field(default=15, ge=1, le=1440)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    # How long the links mailed for a sign-up and a password reset work.
    sign_up_link_hours: int = Field(default=24, ge=1, le=720)
    password_reset_link_minutes: int = Field(default=60, ge=5, le=1440)
    reopen_window_days: int = Field(default=30, ge=0)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    # Deadlines for a WHOLE request body (README "Request hygiene"): a client still sending after
    # them gets 408. Photo uploads are larger and come from phones, so they get longer.
    body_timeout_seconds: float = Field(default=30, gt=0, le=3600)
    # Deadline for a request's line and headers, from the moment `civicloop serve` waits for them
    # (a new connection, or the previous answer sent on a kept-alive one): 408 and closed after.
    header_timeout_seconds: float = Field(default=10, gt=0, le=600)
    upload_timeout_seconds: float = Field(default=300, gt=0, le=3600)
    # `civicloop serve --workers` (its default too): every worker process reads it, to take its
    # share of the database connections below.
    workers: int = Field(default=1, ge=1, le=64)
    # The HTTP/1.1 parser and event loop `civicloop serve` runs (bench/README.md: measured).
    server_http: Literal["httptools", "h11"] = "httptools"
    server_loop: Literal["uvloop", "asyncio"] = "uvloop"
    # Database connections all API processes together may hold at a peak: each of the workers
    # keeps a pool of a share of them (`db_pool_per_process`), unless db_pool_size fixes it. And
    # how long a request waits for one before it is answered 503 with Retry-After.
    db_max_connections: int = Field(default=20, ge=2, le=2000)
    db_pool_size: int | None = Field(default=None, ge=1, le=200)
    db_pool_timeout_seconds: float = Field(default=5, gt=0, le=60)
    page_size_default: int = Field(default=50, ge=1, le=500)
    page_size_max: int = Field(default=200, ge=1, le=1000)
    max_radius_m: float = Field(default=50_000, gt=0)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    sqlite_busy_timeout_seconds: float = Field(default=SQLITE_BUSY_TIMEOUT_S, gt=0, le=600)
    cors_origins: list[str] = []
    # Prometheus scrapes /metrics with `Authorization: Bearer <token>`; empty: no /metrics (404).
    metrics_token: SecretStr = SecretStr("")
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = Field(
        default="json", description="json: one object per line with the request id; text: plain."
    )
    # The city's IANA time zone: Open311 dates are written in it, statistics count its hours.
    timezone: str = "UTC"
    open311_jurisdiction_id: str = Field(default="civicloop.example", min_length=1)
    open311_contact: str = ""
    open311_key_service: str = ""
    open_data_licence: str = "CC-BY-4.0"
    open_data_licence_url: str = "https://creativecommons.org/licenses/by/4.0/"
    stats_cache_seconds: int = Field(default=60, ge=0, le=86400)

    # Photos: limits, processing and where the files go (README, "Photos").
    photo_max_bytes: int = Field(default=10_000_000, ge=1024)
    photo_max_per_issue: int = Field(default=5, ge=1, le=50)
    # Pillow itself refuses more than ~179 megapixels as a decompression bomb.
    photo_max_pixels: int = Field(default=40_000_000, ge=10_000, le=150_000_000)
    photo_display_px: int = Field(default=1600, ge=64)
    photo_thumbnail_px: int = Field(default=320, ge=32)
    photo_jpeg_quality: int = Field(default=85, ge=30, le=95)
    # Photos decoded at once per process: each 12 MP photo needs ~150 MB while it is processed.
    photo_workers: int = Field(default=2, ge=1, le=64)
    # The zone of EXIF capture times that carry no offset (most older cameras).
    photo_capture_timezone: str = "UTC"
    photo_cache_seconds: int = Field(default=31_536_000, ge=0)
    storage_backend: Literal["local", "s3"] = "local"
    # Empty means `photos/` under data_dir.
    storage_dir: Path | None = None
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr = SecretStr("")
    s3_prefix: str = "photos/"
    # Hand out presigned bucket URLs instead of serving the bytes through the API.
    s3_presigned_urls: bool = False
    s3_presigned_seconds: int = Field(default=3600, ge=60, le=604_800)

    # The live feed (GET /api/v1/feed, README "Live feed"): how often each stream asks the
    # database for new events, its heartbeat, how long a client that stops reading is given
    # before it is dropped, and how long one stream lasts before the client reconnects.
    feed_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    feed_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    feed_send_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    feed_max_seconds: float = Field(default=3600.0, gt=0)
    # An event committed this long after a later one (a slow concurrent transaction) is still
    # sent; after it, the stream stops waiting for it.
    feed_late_event_seconds: float = Field(default=30.0, ge=0, le=600)

    # The address citizens and clients use: every absolute link (e-mails, Location, problem
    # types, Open311 discovery, export links) is built from it, never from a request's Host.
    public_base_url: str = "http://127.0.0.1:8000"
    # Host names (without port) a request may name in its Host header; "*" allows any. Empty
    # means the host of public_base_url in production, and any host in development and tests.
    allowed_hosts: list[str] = []
    display_timezone: str = "Asia/Bangkok"
    # The pages (app/web): the language of a reader who chose none and whose browser names
    # neither Thai nor English; the map's tile server ({z}/{x}/{y} URL template, empty for
    # none: markers and boundaries still draw) and the attribution its licence asks for.
    default_language: Literal["th", "en"] = "en"
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© OpenStreetMap contributors"
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "civicloop <no-reply@civicloop.example>"
    # A CA bundle to trust for STARTTLS/TLS besides the system's (a private relay's own CA).
    smtp_ca_file: Path | None = None
    smtp_timeout_seconds: float = Field(default=10, gt=0)
    # Replies to notification e-mails become comments (`civicloop mail-in`, an SMTP receiver
    # that this domain's MX points to): each message about an issue carries
    # Reply-To: reply+<signed token>@reply_domain. Empty: no reply address, no replies.
    reply_domain: str = Field(default="", max_length=200)
    mail_in_host: str = "127.0.0.1"
    mail_in_port: int = Field(default=2525, ge=1, le=65535)
    mail_in_max_bytes: int = Field(default=10_000_000, ge=10_000)
    webhook_timeout_seconds: float = Field(default=10, gt=0)
    # LINE Messaging API (POST /channels/line/webhook): the channel's secret (verifies
    # X-Line-Signature) and access token, and the API's addresses (a test server's in tests).
    line_channel_secret: SecretStr = SecretStr("")
    line_channel_access_token: SecretStr = SecretStr("")
    line_api_base_url: str = "https://api.line.me"
    line_data_api_base_url: str = "https://api-data.line.me"
    line_timeout_seconds: float = Field(default=10, gt=0)
    # Hosts or networks (e.g. "127.0.0.1", "10.1.0.0/16", "hooks.internal") webhooks and push
    # endpoints may reach although they are private, loopback or link-local.
    outbound_allow_list: list[str] = []
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:no-reply@civicloop.example"
    notify_max_attempts: int = Field(default=8, ge=1)
    notify_backoff_base_seconds: float = Field(default=30, gt=0)
    notify_backoff_max_seconds: float = Field(default=3600, gt=0)
    # How long a claimed message stays invisible to other workers: a worker that dies mid-batch
    # leaves its messages to be taken again after this.
    notify_lease_seconds: float = Field(default=120, gt=0)
    worker_batch_size: int = Field(default=50, ge=1, le=1000)
    # Messages a worker sends at once: receivers far away are slow, the CPU is not.
    worker_concurrency: int = Field(default=4, ge=1, le=64)
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    feedback_link_days: int = Field(default=14, ge=1)
    auto_close_days: int = Field(default=7, ge=1)
    # The longest an agency may make a contractor's link last (each hand-over may be shorter).
    contractor_link_max_days: int = Field(default=30, ge=1, le=365)
    # The city's emergency number, for reports of emergencies where the district has none.
    emergency_number: str = Field(default="", max_length=32)
    auto_close_check_seconds: float = Field(default=300, gt=0)
    # The city's retention policy: a closed issue's personal data (its reporter, followers,
    # message addresses) and photo originals are removed this many days after it closed.
    # None keeps them.
    retention_days: int | None = Field(default=None, ge=1, le=36_500)
    # How long the worker keeps login sessions after they ended or expired, and sign-ups after
    # they were confirmed or their link expired, before deleting them (a sign-up holds a
    # password hash; neither is needed once it can no longer be used).
    account_record_retention_days: int = Field(default=30, ge=0, le=3650)

    # Abuse limits (README "Rate limits and lockout"). Each action has an allowance per account or
    # device (per e-mail for log-in and sign-up) and one per client address
    # (the *_ip twin); a request over either answers 429. Off in the test environment unless a
    # test turns them on.
    rate_limits_enabled: bool = True
    # Empty: counted in each process's memory. Several API processes share a Redis.
    redis_url: str = ""
    rate_limit_prefix: str = "civicloop"
    # Peers whose X-Forwarded-For/-Proto `civicloop serve` believes (uvicorn's
    # forwarded_allow_ips): a client's address is never taken from a header it can forge.
    trusted_proxies: list[str] = []
    rate_limit_login: RateLimit = "10/minute;60/hour"
    rate_limit_login_ip: RateLimit = "30/minute;300/hour"
    rate_limit_register: RateLimit = "3/hour"
    rate_limit_register_ip: RateLimit = "10/hour;50/day"
    rate_limit_password_reset: RateLimit = "3/hour"
    rate_limit_password_reset_ip: RateLimit = "10/hour;50/day"
    rate_limit_report: RateLimit = "10/hour;50/day"
    rate_limit_report_ip: RateLimit = "60/hour;500/day"
    rate_limit_photo: RateLimit = "30/hour"
    rate_limit_photo_ip: RateLimit = "120/hour"
    rate_limit_comment: RateLimit = "30/hour"
    rate_limit_comment_ip: RateLimit = "120/hour"
    rate_limit_flag: RateLimit = "20/hour"
    rate_limit_flag_ip: RateLimit = "100/hour"
    # Verification messages (follow by e-mail, verify an address): each one mails an address.
    rate_limit_verify: RateLimit = "3/hour;10/day"
    rate_limit_verify_ip: RateLimit = "10/hour;50/day"
    rate_limit_support: RateLimit = "60/hour"
    rate_limit_support_ip: RateLimit = "300/hour"
    rate_limit_export: RateLimit = "20/hour"
    rate_limit_export_ip: RateLimit = "60/hour"
    # Requests through one contractor link, and from one address to any contractor link.
    rate_limit_contractor: RateLimit = "60/hour"
    rate_limit_contractor_ip: RateLimit = "300/hour"
    # LINE's servers call the webhook for every resident: only a flood is refused.
    rate_limit_line: RateLimit = ""
    rate_limit_line_ip: RateLimit = "3000/minute"
    rate_limit_my_data: RateLimit = "5/hour"
    rate_limit_my_data_ip: RateLimit = "20/hour"
    # Reads of the SeeClickFix-compatible surface: a map client pans and zooms in bursts.
    rate_limit_seeclickfix: RateLimit = "120/minute;3000/hour"
    rate_limit_seeclickfix_ip: RateLimit = "300/minute;6000/hour"
    # Log-in back-off per account: after the free failures each failure doubles the wait, up to
    # the cap; a success forgets them. Failures are counted over the window.
    login_backoff_free_failures: int = Field(default=3, ge=0, le=100)
    login_backoff_base_seconds: int = Field(default=1, ge=1)
    login_backoff_max_seconds: int = Field(default=900, ge=1)
    login_backoff_window_seconds: int = Field(default=86_400, ge=60)

    @model_validator(mode="after")
    def _limits_off_in_tests(self) -> Settings:
        # Tests share addresses and accounts freely; those about limits turn them on.
        if self.environment == "test" and "rate_limits_enabled" not in self.model_fields_set:
            self.rate_limits_enabled = False
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET_KEY:
            raise ValueError(
                "CIVICLOOP_SECRET_KEY is not set (or is the public development key): set it to "
                "at least 32 random characters in production, e.g. `openssl rand -hex 32`"
            )
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("CIVICLOOP_SECRET_KEY must be at least 32 characters in production")
        parts = urlsplit(self.public_base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "CIVICLOOP_PUBLIC_BASE_URL must be an absolute http(s) URL, "
                f"not {self.public_base_url!r}"
            )
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ValueError("CIVICLOOP_S3_BUCKET must be set when CIVICLOOP_STORAGE_BACKEND=s3")
        if self.photo_thumbnail_px > self.photo_display_px:
            raise ValueError(
                "CIVICLOOP_PHOTO_THUMBNAIL_PX must not exceed CIVICLOOP_PHOTO_DISPLAY_PX"
            )
        return self

    @model_validator(mode="after")
    def _known_timezone(self) -> Settings:
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"CIVICLOOP_TIMEZONE {self.timezone!r} is not an IANA time zone"
            ) from None
        return self

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def uses_development_key(self) -> bool:
        return self.secret_key == DEV_SECRET_KEY

    @property
    def host_allow_list(self) -> frozenset[str] | None:
        """The Host names requests may use; None when any will do."""
        hosts = self.allowed_hosts
        if not hosts and self.environment == "production":
            hosts = [urlsplit(self.public_base_url).hostname or ""]
        if not hosts or "*" in hosts:
            return None
        return frozenset(host.lower() for host in hosts)

    @property
    def db_pool_per_process(self) -> int:
        """Each process's pool: a peak doubles it (SQLAlchemy's overflow), so the workers together
        stay within db_max_connections (20 by default: a pool of 10 for one worker, 5 for two).
        """
        if self.db_pool_size is not None:
            return self.db_pool_size
        return max(1, self.db_max_connections // (2 * self.workers))

    @property
    def photo_dir(self) -> Path:
        return self.storage_dir or self.data_dir / "photos"

    @property
    def upload_max_bytes(self) -> int:
        """Largest multipart body: every photo a request may carry, plus room for the form."""
        return self.photo_max_bytes * self.photo_max_per_issue + 1_000_000

    @property
    def idempotency_ttl(self) -> dt.timedelta:
        return dt.timedelta(hours=self.idempotency_ttl_hours)

    @property
    def reopen_window(self) -> dt.timedelta:
        return dt.timedelta(days=self.reopen_window_days)

    @property
    def feedback_link_max_age(self) -> dt.timedelta:
        return dt.timedelta(days=self.feedback_link_days)

    @property
    def auto_close_after(self) -> dt.timedelta:
        return dt.timedelta(days=self.auto_close_days)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'civicloop.db').resolve()}"


@functools.cache
def get_settings() -> Settings:
    return Settings()


async def get_app_settings(request: Request) -> Settings:
    """The running application's settings (tests build apps with settings of their own)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
