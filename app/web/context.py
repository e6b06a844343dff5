"""What every page needs: its reader's language, the form token against cross-site requests,
who is visiting (a staff or citizen login, or an anonymous resident's device), and rendering.

Cookies, all `HttpOnly; Secure; SameSite=Lax`:
- `civicloop_session`: a signed login session (user and session id) from the sign-in form; it
  works while that login session is live (signing out, deactivation or a new password end it).
- `civicloop_device`: a random device id, made on an anonymous resident's first report; it is
  their X-Device-Id, so the API and the pages know the same anonymous reporter.
- `civicloop_csrf`: a random value; every form carries its HMAC (double submit, keyed with the
  secret key), so another site cannot post a form as the reader.
- `civicloop_lang`: the language chosen with `?lang=`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, Response

from app import i18n
from app.config import Settings
from app.db import SessionDep
from app.errors import DomainError, Forbidden
from app.models import Language, User
from app.services import accounts, city, sessions
from app.web.assets import ASSETS

LANG_COOKIE = "civicloop_lang"
CSRF_COOKIE = "civicloop_csrf"
SESSION_COOKIE = "civicloop_session"
DEVICE_COOKIE = "civicloop_device"
CSRF_FIELD = "csrf_token"
_SESSION_SALT = "civicloop.page-session"

THAI_MONTHS = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip
ENGLISH_MONTHS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip
# The Buddhist Era is 543 years ahead of the Common Era (Thai official calendar).
BUDDHIST_ERA_OFFSET = 543


def choose_language(request: Request, settings: Settings) -> Language:
    """`?lang=`, then the cookie it leaves, then the browser's Accept-Language, then the city's
    default language."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if chosen is not None and chosen in Language.__members__:
            return Language(chosen)
    return i18n.accepted(request.headers.get("accept-language")) or Language(
        settings.default_language
    )


def format_when(value: dt.datetime | None, lang: Language, zone: ZoneInfo) -> str:
    """A moment in the city's time zone, worded for the reader: Thai dates in the Buddhist
    calendar with Thai month names."""
    if value is None:
        return ""
    local = value.astimezone(zone)
    if lang == Language.th:
        month, year = THAI_MONTHS[local.month - 1], local.year + BUDDHIST_ERA_OFFSET
    else:
        month, year = ENGLISH_MONTHS[local.month - 1], local.year
    return f"{local.day} {month} {year} {local:%H:%M}"


def format_number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _csrf_digest(settings: Settings, nonce: str) -> str:
    key = hashlib.sha256(f"csrf:{settings.secret_key}".encode()).digest()
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def _csrf_nonce(request: Request) -> str:
    nonce: str | None = getattr(request.state, "csrf_nonce", None)
    if nonce is None:
        nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        request.state.csrf_nonce = nonce
    return nonce


def csrf_token(request: Request, settings: Settings) -> str:
    """The token this reader's forms carry."""
    return _csrf_digest(settings, _csrf_nonce(request))


def check_csrf(request: Request, settings: Settings, submitted: str | None) -> None:
    """Refuse a form that does not carry this reader's token (sent from another site, or
    from a page so old that its cookie is gone)."""
    nonce = request.cookies.get(CSRF_COOKIE)
    if not (nonce and submitted and hmac.compare_digest(submitted, _csrf_digest(settings, nonce))):
        raise Forbidden(i18n.text("web.error.csrf"))


def _session_serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=_SESSION_SALT)


def session_cookie(settings: Settings, *, user_id: int, session_id: int) -> str:
    return _session_serializer(settings).dumps([user_id, session_id])


def read_session_cookie(settings: Settings, value: str) -> tuple[int, int] | None:
    try:
        user_id, session_id = _session_serializer(settings).loads(
            value, max_age=settings.refresh_token_days * 86_400
        )
    except (BadSignature, ValueError, TypeError):
        return None
    if not all(isinstance(n, int) and n > 0 for n in (user_id, session_id)):
        return None
    return user_id, session_id


def signed_in(request: Request, session: Session, settings: Settings) -> User | None:
    """The user of a live login session named by the session cookie, if any."""
    raw = request.cookies.get(SESSION_COOKIE)
    found = read_session_cookie(settings, raw) if raw else None
    if found is None:
        return None
    try:
        return sessions.live_user(session, user_id=found[0], session_id=found[1])
    except DomainError:
        return None  # the login ended: the reader is anonymous again


def valid_device_cookie(value: str | None) -> str | None:
    return value if value and 16 <= len(value) <= 128 and value.isalnum() else None


@dataclass
class Page:
    """One page request: the reader's language, who they are, and what the answer will set."""

    request: Request
    settings: Settings
    lang: Language
    user: User | None
    # The city's time zone: the dates a page shows are local.
    zone: ZoneInfo
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def device_id(self) -> str | None:
        return valid_device_cookie(
            self.cookies.get(DEVICE_COOKIE) or self.request.cookies.get(DEVICE_COOKIE)
        )

    def t(self, key: str, **params: Any) -> str:
        return i18n.t(key, self.lang, **params)

    def when(self, value: dt.datetime | None) -> str:
        return format_when(value, self.lang, self.zone)

    def reporter(self, session: Session) -> User:
        """Who reports from this browser: the signed-in user, else the device's anonymous
        citizen (a device id is made for a first report and kept in a cookie)."""
        if self.user is not None:
            return self.user
        device = self.device_id
        if device is None:
            device = secrets.token_hex(24)
            self.cookies[DEVICE_COOKIE] = device
        self.user = accounts.device_user(session, device)
        return self.user

    def check_csrf(self, submitted: str | None) -> None:
        check_csrf(self.request, self.settings, submitted)


def get_page(request: Request, session: SessionDep) -> Page:
    settings: Settings = request.app.state.settings
    lang = choose_language(request, settings)
    # Errors and labels on this request are worded in the page's language (app.i18n).
    request.state.page_language = lang
    user = signed_in(request, session, settings)
    if user is None and (device := valid_device_cookie(request.cookies.get(DEVICE_COOKIE))):
        user = accounts.find_device_user(session, device)
        if user is not None and not user.is_active:
            user = None
    zone = city.time_zone(session, fallback=settings.display_timezone)
    return Page(request=request, settings=settings, lang=lang, user=user, zone=zone)


PageDep = Annotated[Page, Depends(get_page)]

_environment = Environment(
    loader=PackageLoader("app.web", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def content_security_policy(settings: Settings) -> str:
    """No inline script or style anywhere; images from us and the tile server only."""
    images = "'self' data: blob:"
    if settings.tile_url:
        parts = urlsplit(settings.tile_url.replace("{s}", "a"))
        host = parts.netloc.replace("a.", "*.", 1) if "{s}" in settings.tile_url else parts.netloc
        images += f" {parts.scheme}://{host}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; font-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )


def set_cookie(response: Response, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="lax"
    )


def apply_cookies(page: Page, response: Response) -> None:
    """The cookies a page request leaves: its CSRF value, a chosen language, a new device."""
    request = page.request
    if CSRF_COOKIE not in request.cookies:
        set_cookie(response, CSRF_COOKIE, _csrf_nonce(request), max_age=None)
    asked = request.query_params.get("lang")
    if (
        asked is not None
        and asked in Language.__members__
        and request.cookies.get(LANG_COOKIE) != asked
    ):
        set_cookie(response, LANG_COOKIE, asked, max_age=365 * 86_400)
    for name, value in page.cookies.items():
        set_cookie(response, name, value, max_age=365 * 86_400)


def language_switch_path(request: Request) -> str:
    """The page the language switch opens again in the other language: this one, but for an
    answer to a form (an address that only takes a POST) the page the form was on when it
    was ours, else the home page."""
    if request.method in ("GET", "HEAD"):
        return request.url.path
    referrer = urlsplit(request.headers.get("referer", ""))
    return (referrer.path or "/") if referrer.netloc == request.url.netloc else "/"


def render(page: Page, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in its reader's language, with the security headers of pages."""
    request = page.request
    other = Language.en if page.lang == Language.th else Language.th
    body = _environment.get_template(template).render(
        page=page,
        lang=page.lang.value,
        other_lang=other.value,
        # The switch names the other language in that language.
        other_name=i18n.t("web.nav.language_name", other),
        t=page.t,
        when=page.when,
        number=format_number,
        asset=ASSETS.url,
        csrf=csrf_token(request, page.settings),
        csrf_field=CSRF_FIELD,
        switch_path=language_switch_path(request),
        query=request.url.query,
        **context,
    )
    response = HTMLResponse(body, status_code=status)
    response.headers["Content-Security-Policy"] = content_security_policy(page.settings)
    # Pages say who is signed in and carry a form token: never kept by a shared cache.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Language"] = page.lang.value
    # A form posted from a page names that page to us (language_switch_path), and to no one else.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Vary"] = "Accept-Language, Cookie"
    apply_cookies(page, response)
    return response


def redirect(page: Page, location: str) -> Response:
    """After a form: see the result with a GET (303), so a reload does not send it again."""
    response = Response(status_code=303, headers={"Location": location})
    apply_cookies(page, response)
    return response


def _digest(kind: str, value: str) -> str:
    # As app.http.limits keys its subjects: no cookie or e-mail address is kept in the store.
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


async def by_page_visitor(request: Request) -> str | None:
    """Whom a page's form counts against (app.http.limits): the login or the device."""
    for name in (SESSION_COOKIE, DEVICE_COOKIE):
        if value := request.cookies.get(name):
            return _digest(name, value)
    return None


async def by_form_email(request: Request) -> str | None:
    """The account a sign-in form names."""
    email = (await request.form()).get("email")
    return _digest("email", email.strip().lower()) if isinstance(email, str) and email else None
