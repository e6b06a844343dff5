"""The demo city's past weeks: a few hundred residents' reports and what became of them.

Every step goes through the services that serve requests (report, claim, start, resolve,
transfer, photos, "me too", follows, the reporter's answer and stars), each at its own moment
in the past (`replaying_at`), so deadlines, time frames and KPIs come out as they would have.
The plan is drawn from a seeded random generator: the same seed tells the same story, relative
to when it is told. Residents are device accounts (no address, so nobody is mailed); staff
are the demo agencies' agents. Told once: a database whose demo residents exist already has
its history, and a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import shapely
from PIL import Image, ImageDraw
from shapely.geometry import MultiPolygon
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from app.config import Settings
from app.demo import DEMO_EMAIL_DOMAIN
from app.demo.reports import (
    FIXED_COMMENTS,
    NOT_FIXED_COMMENTS,
    PLACES_EN,
    PLACES_TH,
    REPORTS,
    RESOLVED_NOTES,
    STARTED_NOTES,
)
from app.models import (
    Agency,
    Answer,
    Category,
    District,
    Issue,
    IssueStatus,
    PhotoKind,
    Resolution,
    User,
)
from app.models.base import replaying_at, utcnow
from app.models.types import LonLat
from app.services import accounts, duplicates, issues, lifecycle, permissions, photos
from app.services.lifecycle import Action
from app.services.notifications import feedback, follows
from app.services.notifications.tokens import FeedbackClaim
from app.spatial import SpatialBackend
from app.storage import PhotoStore
from app.storage.images import CleanPhoto

DEFAULT_SEED = 2026
RESIDENTS = 80
BANGKOK = ZoneInfo("Asia/Bangkok")
# How often each category is reported, roughly as in Bangkok (rubbish, roads and water lead).
WEIGHTS = {
    "garbage": 14,
    "footpath": 10,
    "pothole": 10,
    "flooding": 9,
    "drain-blocked": 8,
    "streetlight": 8,
    "obstruction": 7,
    "tree": 6,
    "noise": 5,
    "power-lines": 5,
    "canal": 4,
    "stray-animals": 4,
    "water-leak": 3,
    "traffic-signal": 3,
    "accessibility": 3,
    "general": 4,
}
# Where reports end up: still waiting in a step (the first three) or answered (the rest).
FATES = {
    "new": 14,
    "acknowledged": 13,
    "in_progress": 17,
    "resolved": 14,
    "closed": 30,
    "reopened": 12,
}
# How long ago a report of each answered fate was made (days).
ANSWERED_AGO = {"resolved": (2, 21), "closed": (5, 42), "reopened": (6, 42)}
LATE_SHARE = 0.12  # steps taken after their time frame
PHOTO_SHARE = 0.45  # reports with a photo
SEEN_TOO_SHARE = 0.3  # reports others back with "me too"
FOLLOW_SHARE = 0.2  # reports others follow without backing them
# The slug of the district office of each district (bangkok.yaml names them so).
DISTRICT_OFFICE = "district-{code}"
# Nothing is replayed closer to the present than this: the last step is never "just now".
MARGIN = dt.timedelta(minutes=10)


def _demo_resident(index: int) -> str:
    """A demo resident's device id (what the app on their phone would send)."""
    return f"demo-resident-{index:03d}"


@dataclass(frozen=True)
class Staff:
    agents: dict[int, User]  # agency id -> its demo agent
    admin: User
    district_office: dict[int, int]  # district id -> its district office's agency id


@dataclass
class Story:
    """One report's plan: where it ends up, whether its steps run late, and how long ago it was
    made."""

    fate: str
    late: bool
    ago: dt.timedelta


class Photographer:
    """Pictures of each category's problem and fix, drawn with Pillow and cleaned once each by
    the photo pipeline (decoded, re-encoded, thumbnailed) like any upload."""

    def __init__(self, settings: Settings) -> None:
        self.limits = photos.limits_of(settings)
        self.cleaned: dict[tuple[str, PhotoKind, int], CleanPhoto] = {}

    def photo(self, category: str, kind: PhotoKind, variant: int) -> CleanPhoto:
        key = (category, kind, variant)
        if key not in self.cleaned:
            [self.cleaned[key]] = photos.clean_uploads(
                [(f"{category}-{kind}-{variant}.jpg", _draw(*key))], self.limits
            )
        return self.cleaned[key]


def _draw(category: str, kind: PhotoKind, variant: int) -> bytes:
    """A street scene, different per category and variant; the problem is a dark patch, which
    a fix replaces with a clean one."""
    draw_random = random.Random(f"{category}/{variant}")
    image = Image.new("RGB", (640, 480), (135, 180, 220))
    canvas = ImageDraw.Draw(image)
    canvas.rectangle((0, 260, 640, 480), fill=(110, 110, 115))  # the road
    canvas.rectangle((0, 240, 640, 262), fill=(190, 185, 170))  # the kerb
    for x in range(0, 640, 90):  # buildings on the far side
        height = draw_random.randint(60, 200)
        shade = draw_random.randint(150, 230)
        canvas.rectangle((x, 240 - height, x + 80, 240), fill=(shade, shade - 20, shade - 40))
    hue = sum(category.encode()) % 200
    if kind == PhotoKind.report:
        x, y = draw_random.randint(120, 420), draw_random.randint(300, 400)
        canvas.ellipse((x, y, x + 160, y + 60), fill=(40 + hue // 4, 35, 30))
    else:
        canvas.rectangle((100, 330, 540, 350), fill=(240, 240, 240))  # fresh markings
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _staff(session: Session) -> Staff:
    agents = {
        u.agency_id: u
        for u in session.scalars(
            select(User).where(User.email.like(f"agent.%@{DEMO_EMAIL_DOMAIN}"))
        )
        if u.agency_id is not None
    }
    admin = session.scalars(select(User).where(User.email == f"admin@{DEMO_EMAIL_DOMAIN}")).one()
    slugs: dict[str, int] = dict(session.execute(select(Agency.slug, Agency.id)).all())
    offices = {
        district_id: slugs[DISTRICT_OFFICE.format(code=code)]
        for district_id, code in session.execute(select(District.id, District.code))
        if DISTRICT_OFFICE.format(code=code) in slugs
    }
    return Staff(agents, admin, offices)


def _point_in(area: MultiPolygon, rng: random.Random) -> LonLat:
    min_x, min_y, max_x, max_y = area.bounds
    while True:
        lon, lat = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if shapely.contains_xy(area, lon, lat):
            return LonLat(round(lon, 6), round(lat, 6))


def _daytime(moment: dt.datetime, rng: random.Random) -> dt.datetime:
    """The same day in Bangkok, at an hour people report things (07:00-22:00)."""
    local = moment.astimezone(BANGKOK)
    hour = rng.choice((7, 8, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 19, 20, 21))
    return local.replace(hour=hour, minute=rng.randrange(60)).astimezone(dt.UTC)


def _story(rng: random.Random, category: Category) -> Story:
    """A fate, whether it runs late, and an age that fits both: a report still waiting in a
    step is younger than that step's time frame, unless it is one of the late ones."""
    fate = rng.choices(list(FATES), weights=list(FATES.values()))[0]
    late = rng.random() < LATE_SHARE
    if fate in ANSWERED_AGO:
        ago = dt.timedelta(days=rng.uniform(*ANSWERED_AGO[fate]))
    else:
        hours = (
            category.acknowledge_target_hours if fate == "new" else category.resolve_target_hours
        )
        ago = dt.timedelta(hours=hours) * (rng.uniform(1.2, 3.0) if late else rng.uniform(0.1, 0.9))
    return Story(fate, late, ago)


class Teller:
    """Replays the stories, one step at a time, each at its moment."""

    def __init__(
        self,
        session: Session,
        *,
        settings: Settings,
        store: PhotoStore,
        spatial: SpatialBackend,
        rng: random.Random,
    ) -> None:
        self.session = session
        self.settings = settings
        self.store = store
        self.spatial = spatial
        self.rng = rng
        self.staff = _staff(session)
        self.photographer = Photographer(settings)
        self.residents = [
            accounts.device_user(session, _demo_resident(i)) for i in range(RESIDENTS)
        ]
        self.categories = {
            c.code: c for c in session.scalars(select(Category).where(Category.is_active))
        }
        self.districts = list(
            session.scalars(select(District).options(undefer(District.area)).order_by(District.id))
        )

    def tell(self, count: int, now: dt.datetime) -> None:
        codes = [c for c in WEIGHTS if c in self.categories]
        weights = [WEIGHTS[c] for c in codes]
        for _ in range(count):
            code = self.rng.choices(codes, weights=weights)[0]
            self._one(code, _story(self.rng, self.categories[code]), now)

    def _one(self, code: str, story: Story, now: dt.datetime) -> None:
        rng = self.rng
        district = rng.choice(self.districts)
        reporter = rng.choice(self.residents)
        title, description = rng.choice(REPORTS[code])
        english = title.isascii()
        where = rng.choice(PLACES_EN if english else PLACES_TH).format(n=rng.randint(1, 120))
        reported_at = now - story.ago
        daytime = _daytime(reported_at, rng)
        # An answered report is made at an hour people report things. One still waiting keeps
        # its exact age: that age against its time frame is what makes it on time or late now,
        # whatever the hour the demo is loaded.
        if story.fate in ANSWERED_AGO and daytime <= now - MARGIN:
            reported_at = daytime
        with replaying_at(reported_at):
            issue = issues.create_issue(
                self.session,
                spatial=self.spatial,
                reporter=reporter,
                category_code=code,
                title=title,
                description=description.format(where=f" {where} " if not english else where),
                location=_point_in(district.area, rng),
                address=f"{where}, {district.name_en}"
                if english
                else f"{where} เขต{district.name_th}",
            ).issue
            if rng.random() < PHOTO_SHARE:
                self._photo(issue, reporter, code, PhotoKind.report)
        span = now - MARGIN - reported_at
        steps = self._steps(issue, story)
        # Neighbours back it or follow it while it is still being worked on.
        horizon = next((d for d, s in steps if s == "resolve"), span)
        steps += [(horizon * rng.uniform(0.05, 0.9), "back") for _ in range(self._backers())]
        steps += [(span * rng.uniform(0.05, 0.9), "follow") for _ in range(self._followers())]
        steps.sort(key=lambda step: step[0])
        # Squeezed into the time since the report when the story would run into the future.
        last = steps[-1][0] if steps else dt.timedelta(0)
        scale = min(1.0, span / last) if last else 1.0
        others = [r for r in self.residents if r.id != reporter.id]
        rng.shuffle(others)
        for delay, step in steps:
            with replaying_at(reported_at + delay * scale):
                if step in ("back", "follow"):
                    self._neighbour(issue, others.pop(), step)
                else:
                    self._take(issue, code, step)

    def _steps(self, issue: Issue, story: Story) -> list[tuple[dt.timedelta, str]]:
        """The steps of this story, each at its delay after the report."""
        rng = self.rng
        acknowledge = issue.acknowledge_due_at - issue.created_at
        resolve = issue.resolve_due_at - issue.created_at

        def share(late: bool) -> float:
            return rng.uniform(1.2, 3.0) if late else rng.uniform(0.1, 0.9)

        steps: list[tuple[dt.timedelta, str]] = []
        if story.fate == "new":
            return steps
        claimed = acknowledge * share(story.late and rng.random() < 0.5)
        if not permissions.candidate_agency_ids(self.session, issue):
            # Nobody handles this here (the general category): an admin forwards it first.
            steps.append((claimed * 0.5, "forward"))
        steps.append((claimed, "claim"))
        if story.fate == "acknowledged":
            return steps
        resolved = max(resolve * share(story.late), claimed * 1.5)
        steps.append((claimed + (resolved - claimed) * rng.uniform(0.1, 0.5), "start"))
        if story.fate == "in_progress":
            return steps
        steps.append((resolved, "resolve"))
        answered = resolved + dt.timedelta(hours=rng.uniform(2, 72))
        if story.fate == "closed":
            steps.append((answered, "fixed" if rng.random() < 0.7 else "close"))
        elif story.fate == "reopened":
            steps.append((answered, "not_fixed"))
            if rng.random() < 0.5:
                steps.append((answered + dt.timedelta(hours=rng.uniform(4, 48)), "start"))
        return steps

    def _backers(self) -> int:
        return self.rng.randint(1, 6) if self.rng.random() < SEEN_TOO_SHARE else 0

    def _followers(self) -> int:
        return self.rng.randint(1, 3) if self.rng.random() < FOLLOW_SHARE else 0

    def _take(self, issue: Issue, code: str, step: str) -> None:
        rng = self.rng
        if step == "forward":
            office = self.staff.district_office.get(issue.district_id or 0)
            self._move(issue, Action.transfer, self.staff.admin, to_agency_id=office)
        elif step == "claim":
            self._move(issue, Action.claim, self._agent(issue))
        elif step == "start":
            self._move(issue, Action.start, self._agent(issue), note=rng.choice(STARTED_NOTES))
        elif step == "resolve":
            agent = self._agent(issue)
            if rng.random() < 0.5:
                self._photo(issue, agent, code, PhotoKind.resolution)
            self._move(
                issue,
                Action.resolve,
                agent,
                note=rng.choice(RESOLVED_NOTES),
                resolution=Resolution.fixed,
            )
        elif step == "close":
            self._move(issue, Action.close, self._agent(issue))
        elif step == "fixed":
            stars, comment = rng.choice(FIXED_COMMENTS)
            self._answer(issue, Answer.fixed, stars, comment)
        elif step == "not_fixed":
            self._answer(issue, Answer.not_fixed, rng.randint(1, 2), rng.choice(NOT_FIXED_COMMENTS))

    def _agent(self, issue: Issue) -> User:
        """The agent of the handling agency, or of the first candidate when none claimed it."""
        agency_id = issue.agency_id
        if agency_id is None:
            agency_id = min(permissions.candidate_agency_ids(self.session, issue))
        return self.staff.agents[agency_id]

    def _move(
        self,
        issue: Issue,
        action: Action,
        actor: User,
        *,
        note: str | None = None,
        resolution: Resolution | None = None,
        to_agency_id: int | None = None,
    ) -> None:
        lifecycle.transition(
            self.session,
            issue=issue,
            action=action,
            actor=actor,
            expected_version=None,
            reopen_window=self.settings.reopen_window,
            note=note,
            resolution=resolution,
            to_agency_id=to_agency_id,
        )

    def _answer(self, issue: Issue, answer: Answer, rating: int, comment: str) -> None:
        assert issue.resolved_at is not None
        # The reporter's own answer, as the signed link in their message would carry it.
        claim = FeedbackClaim(issue.id, issue.reporter_id, issue.resolved_at)
        feedback.respond(self.session, claim=claim, answer=answer, rating=rating, comment=comment)

    def _photo(self, issue: Issue, uploader: User, code: str, kind: PhotoKind) -> None:
        photos.add_photos(
            self.session,
            store=self.store,
            issue=issue,
            uploader=uploader,
            kind=kind,
            photos=[self.photographer.photo(code, kind, self.rng.randrange(2))],
            max_per_issue=self.settings.photo_max_per_issue,
        )

    def _neighbour(self, issue: Issue, resident: User, step: str) -> None:
        """Someone with the same problem says "me too" (and so follows it); someone else only
        follows it."""
        if step == "follow":
            follows.follow(self.session, issue=issue, user=resident)
        elif issue.status in (IssueStatus.open, IssueStatus.acknowledged, IssueStatus.in_progress):
            duplicates.support(self.session, issue=issue, user=resident)


def load_demo_history(
    session: Session,
    *,
    settings: Settings,
    store: PhotoStore,
    spatial: SpatialBackend,
    count: int,
    seed: int = DEFAULT_SEED,
) -> int:
    """Tell the demo city's recent past (`count` reports) once; the number of reports made
    (0 when the history is there already)."""
    if count == 0 or accounts.find_device_user(session, _demo_resident(0)) is not None:
        return 0
    teller = Teller(
        session, settings=settings, store=store, spatial=spatial, rng=random.Random(seed)
    )
    teller.tell(count, utcnow())
    session.flush()
    return count
