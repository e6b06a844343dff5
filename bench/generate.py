"""Scale data: N issues with their reporters, candidates, flags, timelines, photos, supports and
follows, generated chunk by chunk with numpy, so 10 million issues never sit in memory at once.

What each row holds is what the app would have stored had the history happened through it
(`app.services`): the issue's status, timestamps, version (one per change of the row) and
deadlines (`priorities.assess_report`), the reporter following their report, a `photo_added`
event per photo with the upload bumping the issue's version, a `supported` event and a follow per
"me too". Both loaders (`bench.seed` for PostGIS, `bench.seed_sqlite`) write the same chunks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.ops import unary_union
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app import i18n
from app.demo import district_code, district_slug
from app.models import Category, EventAction, IssueStatus, PhotoKind, Resolution
from app.models.map_cell import cell_at
from app.models.types import LonLat
from app.services import priorities
from app.services.issues import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH
from bench import columns as c
from bench.data import CityModel, district_features

Array = npt.NDArray[Any]
CHUNK = 100_000
DEVICE_ID_PREFIX = "civicloop-bench-device-"
BENCH_EMAIL_DOMAIN = "bench.civicloop.example"

# How the issues are spread: most reports pile up on the same street as a real report (a flooded
# soi, a dark road), the rest are scattered over its neighbourhood.
NEAR_SHARE, NEAR_SIGMA_M, FAR_SIGMA_M = 0.6, 120.0, 1200.0
SAME_CATEGORY_AS_CENTRE = 0.5
METRES_PER_DEGREE = 111_195.0
DAYS = 365
RAINY_MONTHS = frozenset({5, 6, 7, 8, 9, 10})  # Bangkok's wet season: more floods, more reports
RAINY_FACTOR, WEEKEND_FACTOR = 1.35, 0.8
REPORTERS_PER_ISSUE = 0.25
REGISTERED_SHARE = 0.15

# The lifecycle: delays are log-normal around a median, in hours.
NEVER_CLAIMED = 0.04
STARTED = 0.7
STALLED = 0.04  # claimed (and maybe started) but never resolved
CLOSED = 0.85
REOPENED = 0.02
RESOLUTIONS = {"fixed": 78, "duplicate": 8, "not_actionable": 6, "referred": 5, "wont_fix": 3}

# Photos, as in the Traffy sample: every report has one (some more), and about nine in ten
# finished cases an "after" photo (108 of 1,000 rows, 98 finished).
REPORT_PHOTOS = {1: 88, 2: 9, 3: 3}
AFTER_PHOTO_SHARE = 0.85  # of issues resolved as fixed
AFTER_PHOTOS = {1: 80, 2: 20}
CAPTURED_SHARE = 0.9  # photos whose EXIF kept a capture time
# Phone cameras' full sizes (12 MP, 8 MP, a messaging app's 1600 px) and the app's renditions
# (`photo_display_px`, `photo_thumbnail_px` defaults); JPEG at quality 85 is about this many
# bytes per pixel, more for small renditions.
SOURCE_SIZES = ((4000, 3000, 60), (3264, 2448, 25), (1600, 1200, 15))
PORTRAIT_SHARE = 0.4
DISPLAY_PX, THUMBNAIL_PX = 1600, 320
BYTES_PER_PIXEL = {"full": 0.25, "display": 0.3, "thumbnail": 0.45}
# "Me too": a share of the issues is backed by other citizens while still open (a few by many);
# a few more are followed by people who did not report it.
SUPPORTED_SHARE, SUPPORTS_P, MAX_SUPPORTS = 0.12, 0.45, 30
FOLLOWED_SHARE = 0.05

STATUSES = tuple(s.value for s in IssueStatus)
OPEN, ACKNOWLEDGED, IN_PROGRESS, RESOLVED, CLOSED_ = range(5)
ACTIONS = tuple(a.value for a in EventAction)
RESOLVED_CODES = tuple(RESOLUTIONS)
assert set(RESOLVED_CODES) == {r.value for r in Resolution}
ROLES = ("citizen", "agent")
US = 1_000_000


def device_id(index: int) -> str:
    return f"{DEVICE_ID_PREFIX}{index:09d}"


def device_hash(device: str) -> str:
    return hashlib.sha256(device.encode()).hexdigest()  # as app.security.secret_digest


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    code: str
    acknowledge_hours: int
    resolve_hours: int
    flags: tuple[str, ...]
    priority: str
    # The deadlines the app fixes when reported: seconds after the report.
    acknowledge_due_s: int
    resolve_due_s: int


@dataclass
class Catalog:
    """What the generator and the benchmark need to know about the loaded demo city."""

    categories: dict[str, CategoryInfo]
    handles: dict[int, set[int]]  # agency id -> category ids
    citywide: list[int]  # agencies whose jurisdiction is the whole city
    district_agency: list[int | None]  # by district feature index
    district_id: list[int | None]  # by district feature index
    district_code: list[str | None]  # by district feature index
    agent_of: dict[int, int]  # agency id -> one of its agents
    password_hash: str
    first_user_id: int
    first_ids: dict[str, int]  # table -> first free id


def read_catalog(session: Session) -> Catalog:
    """The demo city as loaded, and what the app decides per category (flags, priority,
    deadlines) asked of the app's own rules."""
    rules_at = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    categories = {}
    for category in session.scalars(
        select(Category).where(Category.is_active).order_by(Category.id)
    ):
        assessed = priorities.assess_report(
            session, category=category, stated=(), reported_at=rules_at
        )
        categories[category.code] = CategoryInfo(
            category.id,
            category.code,
            category.acknowledge_target_hours,
            category.resolve_target_hours,
            tuple(sorted(f.value for f in assessed.flags)),
            assessed.priority.value,
            round((assessed.acknowledge_due_at - rules_at).total_seconds()),
            round((assessed.resolve_due_at - rules_at).total_seconds()),
        )

    def rows(query: str) -> list[Any]:
        return list(session.execute(text(query)).all())

    slugs = dict(rows("SELECT slug, id FROM agency"))
    features = district_features()
    district_agency = [slugs.get(district_slug(f["properties"]["ADM2_EN"])) for f in features]
    codes = dict(rows("SELECT code, id FROM district"))
    feature_codes = [district_code(f["properties"]["ADM2_EN"]) for f in features]
    handles: dict[int, set[int]] = {}
    for agency_id, category_id in rows("SELECT agency_id, category_id FROM agency_category"):
        handles.setdefault(agency_id, set()).add(category_id)
    districts = {a for a in district_agency if a is not None}
    agent_of = dict(
        rows("SELECT agency_id, min(id) FROM user_account WHERE role = 'agent' GROUP BY agency_id")
    )
    user_max, password_hash = rows(
        "SELECT max(id), max(password_hash) FROM user_account WHERE password_hash IS NOT NULL"
    )[0]
    first_ids = {
        table: int(rows(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")[0][0])
        for table in ("issue", "issue_event", "photo", "follow", "support", "user_account")
    }
    return Catalog(
        categories=categories,
        handles=handles,
        citywide=sorted(set(handles) - districts),
        district_agency=district_agency,
        district_id=[codes.get(code) for code in feature_codes],
        district_code=[code if code in codes else None for code in feature_codes],
        agent_of=agent_of,
        password_hash=password_hash,
        first_user_id=max(int(user_max), first_ids["user_account"] - 1) + 1,
        first_ids=first_ids,
    )


@dataclass
class Chunk:
    """One slice of the generated city, table by table."""

    issues: c.Rows  # with `centre`: whose text the row takes (the loaders join it)
    tables: list[c.Rows]


@dataclass
class Totals:
    issues: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    unrouted: int = 0


def _weights_picker(weights: dict[Any, float] | dict[Any, int]) -> tuple[list[Any], Array]:
    keys = list(weights)
    cumulative = np.cumsum([float(weights[k]) for k in keys])
    return keys, cumulative / cumulative[-1]


def _pick(rng: np.random.Generator, cumulative: Array, n: int) -> Array:
    return np.searchsorted(cumulative, rng.random(n), side="right")


def _hex_keys(rng: np.random.Generator, n: int) -> Array:
    """`ab/cd/abcd….jpg`, as `app.storage.content_key` names a file by its SHA-256."""
    hex_pairs = np.array([f"{b:02x}".encode() for b in range(256)])
    digits = hex_pairs[rng.integers(0, 256, (n, 32), dtype=np.uint8)]
    hexes = np.ascontiguousarray(digits).view(np.uint8).reshape(n, 64)
    slash = np.full((n, 1), ord("/"), np.uint8)
    suffix = np.tile(np.frombuffer(b".jpg", np.uint8), (n, 1))
    key = np.concatenate([hexes[:, :2], slash, hexes[:, 2:4], slash, hexes, suffix], axis=1)
    return np.ascontiguousarray(key).view("S74").ravel()


def _public_ids(ids: Array) -> Array:
    """Unique 10-character public ids: a bijection of the issue id over 50 bits (multiplying by
    an odd number modulo 2^50 permutes them), so no two can collide and none needs checking."""
    mask = (1 << (5 * PUBLIC_ID_LENGTH)) - 1
    mixed = (ids.astype(np.uint64) * np.uint64(0x2545F4914F6CDD1D) + np.uint64(0x9E3779B9)) & (
        np.uint64(mask)
    )
    alphabet = np.frombuffer(PUBLIC_ID_ALPHABET.encode(), np.uint8)
    digits = np.stack(
        [alphabet[(mixed >> np.uint64(5 * k)) & np.uint64(31)] for k in range(PUBLIC_ID_LENGTH)],
        axis=1,
    )
    return np.ascontiguousarray(digits).view(f"S{PUBLIC_ID_LENGTH}").ravel()


def _group_offsets(counts: Array) -> tuple[Array, Array]:
    """For rows repeated `counts` times: each row's group, and its rank inside the group."""
    group = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return group, np.arange(len(group)) - starts[group]


def _dimensions(rng: np.random.Generator, n: int) -> dict[str, tuple[Array, Array]]:
    widths, heights, shares = zip(*SOURCE_SIZES, strict=True)
    cumulative = np.cumsum(shares) / sum(shares)
    kind = _pick(rng, cumulative, n)
    long_side, short_side = np.array(widths)[kind], np.array(heights)[kind]
    portrait = rng.random(n) < PORTRAIT_SHARE
    full = (np.where(portrait, short_side, long_side), np.where(portrait, long_side, short_side))

    def shrunk(limit: int, size: tuple[Array, Array]) -> tuple[Array, Array]:
        scale = np.minimum(1.0, limit / np.maximum(size[0], size[1]))
        return np.maximum(1, np.round(size[0] * scale)), np.maximum(1, np.round(size[1] * scale))

    display = shrunk(DISPLAY_PX, full)
    return {"display": display, "full": full, "thumbnail": shrunk(THUMBNAIL_PX, display)}


class Generator:
    """The whole city's report times are drawn up front (8 bytes an issue, sorted so that ids
    follow `created_at`); everything else chunk by chunk."""

    def __init__(
        self, seed: int, city: CityModel, catalog: Catalog, count: int, now: float
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.city, self.catalog, self.count, self.now = city, catalog, count, now
        self.end = math.floor(now / 86400) * 86400  # today 00:00 UTC: every report is past
        self.reporters = max(1000, int(count * REPORTERS_PER_ISSUE))
        self.next_ids = dict(catalog.first_ids)
        self.totals = Totals()
        self._codes = list(catalog.categories)
        infos = [catalog.categories[k] for k in self._codes]
        self._cat_id = np.array([i.id for i in infos])
        self._ack_h = np.array([i.acknowledge_hours for i in infos], float)
        self._res_h = np.array([i.resolve_hours for i in infos], float)
        self._ack_due = np.array([i.acknowledge_due_s for i in infos], np.int64)
        self._res_due = np.array([i.resolve_due_s for i in infos], np.int64)
        self._priority = [i.priority for i in infos]
        self._priority_code = np.arange(len(infos))
        self._flags = [(k, flag) for k, i in enumerate(infos) for flag in i.flags]
        index = {code: k for k, code in enumerate(self._codes)}
        centres = city.centres
        self._centre_lon = np.array([x.lon for x in centres])
        self._centre_lat = np.array([x.lat for x in centres])
        self._centre_cat = np.array([index.get(x.category_code or "", -1) for x in centres])
        weights = {index[k]: w for k, w in city.category_weights.items() if k in index}
        self._cat_keys, self._cat_cum = _weights_picker(weights)
        self._res_keys, self._res_cum = _weights_picker(RESOLUTIONS)
        self._geometries = [shapely.geometry.shape(f["geometry"]) for f in district_features()]
        self._tree = shapely.STRtree(self._geometries)
        self._city = unary_union(self._geometries)
        shapely.prepare(self._city)
        big = 1 << 30
        self._district_agency = np.array([a or -1 for a in catalog.district_agency])
        self._district_id = np.array([d or -1 for d in catalog.district_id])
        # The app picks the covering district whose code sorts first (byte order).
        order = sorted(
            (code.encode(), k) for k, code in enumerate(catalog.district_code) if code is not None
        )
        self._district_rank = np.full(len(catalog.district_code), big)
        for rank, (_code, k) in enumerate(order):
            self._district_rank[k] = rank
        self._rank_district = np.array([self._district_id[k] for _c, k in order] + [-1])
        top = max([*catalog.handles, 0]) + 1
        self._handles = np.zeros((top, len(infos)), bool)
        for agency, category_ids in catalog.handles.items():
            for k, category_id in enumerate(self._cat_id):
                self._handles[agency, k] = category_id in category_ids
        self._agent = np.full(top, -1)
        for agency, agent in catalog.agent_of.items():
            self._agent[agency] = agent
        self._created = self._created_times()
        kind = PhotoKind.report, PhotoKind.resolution
        self._photo_messages = [
            json.dumps(
                i18n.stored(
                    i18n.text("message.photo_added", kind=i18n.text(f"label.photo_kind.{k}"))
                )[1]
            )
            for k in kind
        ]

    def _created_times(self) -> Array:
        """Report times over the year before today: seasons, weekdays, hours of the sample."""
        start = self.end - DAYS * 86400
        dates = [dt.datetime.fromtimestamp(start + d * 86400, dt.UTC) for d in range(DAYS)]
        day_weights = {
            d: (RAINY_FACTOR if x.month in RAINY_MONTHS else 1.0)
            * (WEEKEND_FACTOR if x.weekday() >= 5 else 1.0)
            for d, x in enumerate(dates)
        }
        _, days = _weights_picker(day_weights)
        _, hours = _weights_picker(dict(enumerate(self.city.hour_weights)))
        n, rng = self.count, self.rng
        times = (
            start
            + 86400.0 * _pick(rng, days, n)
            + 3600.0 * _pick(rng, hours, n)
            + 3600.0 * rng.random(n)
        )
        times.sort()
        return times

    def _lognormal_s(self, median_hours: Array | float, sigma: float, n: int) -> Array:
        return 3600.0 * self.rng.lognormal(np.log(median_hours), sigma, n)

    def _ids(self, table: str, n: int) -> Array:
        first = self.next_ids[table]
        self.next_ids[table] = first + n
        return np.arange(first, first + n, dtype=np.int64)

    def users(self) -> Iterator[c.Rows]:
        """Citizens: every one has a device; some also registered an e-mail."""
        for lo in range(0, self.reporters, CHUNK):
            k = np.arange(lo, min(lo + CHUNK, self.reporters))
            n, rng = len(k), self.rng
            registered = rng.random(n) < REGISTERED_SHARE
            joined = ((self.end - 86400 * rng.uniform(DAYS, 3 * DAYS, n)) * US).astype(np.int64)
            names = np.array([f"Citizen {i}".encode() for i in k.tolist()])
            self.totals.rows["user_account"] += n
            yield c.Rows(
                "user_account",
                {
                    "id": c.int8(self._ids("user_account", n)),
                    "email": c.text(
                        np.char.add(names, f"@{BENCH_EMAIL_DOMAIN}".encode()), ~registered
                    ),
                    "password_hash": c.choice(
                        registered.astype(int), [None, self.catalog.password_hash]
                    ),
                    "device_id_hash": c.text(
                        np.array([device_hash(device_id(i)).encode() for i in k.tolist()])
                    ),
                    "display_name": c.text(np.where(registered, names, b"")),
                    "role": c.choice(np.zeros(n, int), ["citizen"]),
                    "language": c.choice((rng.random(n) >= 0.1).astype(int), ["en", "th"]),
                    "is_active": c.boolean(np.ones(n, bool)),
                    "created_at": c.time_us(joined),
                    "updated_at": c.time_us(joined),
                },
            )

    def chunks(self) -> Iterator[Chunk]:
        for lo in range(0, self.count, CHUNK):
            yield self._chunk(self._created[lo : lo + CHUNK])

    def _routing(
        self, lon: Array, lat: Array, cat: Array
    ) -> tuple[Array, Array, Array, Array, Array]:
        """Candidates (issue, agency) as the app routes, their count per issue, and the district."""
        n = len(lon)
        points = shapely.points(lon, lat)
        p, d = self._tree.query(points, predicate="covered_by")
        agency = self._district_agency[d]
        keep = (agency >= 0) & self._handles[np.maximum(agency, 0), cat[p]]
        issue_part, agency_part = [p[keep]], [agency[keep]]
        in_city = shapely.covered_by(points, self._city)
        for body in self.catalog.citywide:
            covered = np.flatnonzero(in_city & self._handles[body, cat])
            issue_part.append(covered)
            agency_part.append(np.full(len(covered), body))
        key = np.unique(np.concatenate(issue_part) * 4096 + np.concatenate(agency_part))
        pair_issue, pair_agency = key // 4096, key % 4096
        counts = np.bincount(pair_issue, minlength=n)
        rank = np.full(n, len(self._rank_district) - 1)
        np.minimum.at(rank, p, np.minimum(self._district_rank[d], len(self._rank_district) - 1))
        return pair_issue, pair_agency, counts, self._rank_district[rank], in_city

    def _chunk(self, created: Array) -> Chunk:
        rng, n, now = self.rng, len(created), self.now
        ids = self._ids("issue", n)
        # Where and what: a real report to cluster around, a position near it, a category.
        centre = rng.integers(0, len(self._centre_lon), n)
        sigma = np.where(rng.random(n) < NEAR_SHARE, NEAR_SIGMA_M, FAR_SIGMA_M)
        lat = np.round(
            self._centre_lat[centre] + rng.normal(0, 1, n) * sigma / METRES_PER_DEGREE, 7
        )
        lon = np.round(
            self._centre_lon[centre]
            + rng.normal(0, 1, n) * sigma / (METRES_PER_DEGREE * np.cos(np.radians(lat))),
            7,
        )
        own = self._centre_cat[centre]
        mixed = np.array(self._cat_keys)[_pick(rng, self._cat_cum, n)]
        cat = np.where((own >= 0) & (rng.random(n) < SAME_CATEGORY_AS_CENTRE), own, mixed)
        pair_issue, pair_agency, n_candidates, district, _in_city = self._routing(lon, lat, cat)
        starts = np.cumsum(n_candidates) - n_candidates
        routed = n_candidates > 0
        chosen = starts + np.floor(rng.random(n) * np.maximum(n_candidates, 1)).astype(int)
        agency = np.where(routed, pair_agency[np.minimum(chosen, len(pair_agency) - 1)], -1)
        reporter_k = np.floor(self.reporters * rng.random(n) ** 2).astype(np.int64)  # a few a lot
        reporter = self.catalog.first_user_id + reporter_k
        agent = self._agent[np.maximum(agency, 0)]

        # The lifecycle: each step's time, whether it is taken at all, cut at now.
        t0 = created
        claim_t = t0 + self._lognormal_s(self._ack_h[cat] * 0.6, 1.1, n)
        started = rng.random(n) < STARTED
        start_t = claim_t + self._lognormal_s(8.0, 1.0, n)
        work_from = np.where(started, start_t, claim_t)
        resolve_t = work_from + self._lognormal_s(self._res_h[cat] * 0.5, 1.0, n)
        reopen_t = resolve_t + np.minimum(self._lognormal_s(36.0, 0.8, n), 29 * 86400.0)
        resolve2_t = reopen_t + self._lognormal_s(self._res_h[cat] * 0.3, 1.0, n)
        reopened = rng.random(n) < REOPENED
        close_t = np.where(reopened, resolve2_t, resolve_t) + self._lognormal_s(48.0, 1.0, n)
        claimed = routed & (rng.random(n) >= NEVER_CLAIMED)
        resolves = claimed & (rng.random(n) >= STALLED)
        closes = resolves & (rng.random(n) < CLOSED)
        h_claim = claimed & (claim_t <= now)
        h_start = h_claim & started & (start_t <= now)
        h_res = resolves & (resolve_t <= now)
        h_reo = h_res & reopened & (reopen_t <= now)
        h_res2 = h_reo & (resolve2_t <= now)
        h_close = closes & (close_t <= now)
        res1 = _pick(rng, self._res_cum, n)
        res2 = _pick(rng, self._res_cum, n)
        status = np.full(n, OPEN)
        for happened, to in (
            (h_claim, ACKNOWLEDGED),
            (h_start, IN_PROGRESS),
            (h_res, RESOLVED),
            (h_reo, ACKNOWLEDGED),
            (h_res2, RESOLVED),
            (h_close, CLOSED_),
        ):
            status[happened] = to
        resolution = np.where(h_res2, res2, np.where(h_res & ~h_reo, res1, -1))
        transitions = sum(h.astype(int) for h in (h_claim, h_start, h_res, h_reo, h_res2, h_close))
        last_step = np.select(
            [h_close, h_res2, h_reo, h_res, h_start, h_claim],
            [close_t, resolve2_t, reopen_t, resolve_t, start_t, claim_t],
            t0,
        )

        events = _Events()
        before_work = np.where(h_start, IN_PROGRESS, ACKNOWLEDGED)
        events.add(np.arange(n), t0, "reported", reporter, None, None, OPEN, None, -1, 0)
        for happened, at, action, actor_is_agent, frm, to, res in (
            (h_claim, claim_t, "claimed", True, OPEN, ACKNOWLEDGED, None),
            (h_start, start_t, "started", True, ACKNOWLEDGED, IN_PROGRESS, None),
            (h_res, resolve_t, "resolved", True, before_work, RESOLVED, res1),
            (h_reo, reopen_t, "reopened", False, RESOLVED, ACKNOWLEDGED, None),
            (h_res2, resolve2_t, "resolved", True, ACKNOWLEDGED, RESOLVED, res2),
            (h_close, close_t, "closed", True, RESOLVED, CLOSED_, np.where(h_reo, res2, res1)),
        ):
            k = np.flatnonzero(happened)
            events.add(
                k,
                at[k],
                action,
                (agent if actor_is_agent else reporter)[k],
                agency[k] if actor_is_agent else None,
                np.asarray(frm)[k] if np.ndim(frm) else frm,
                to,
                agency[k] if action == "claimed" else None,
                res[k] if res is not None else -1,
                int(actor_is_agent),
            )

        # Photos: one upload of report photos just after the report; the fixer's "after" photos
        # just before resolving. Each upload is one change of the issue row (version + 1).
        first_after = np.where(h_claim, claim_t, now)
        report_at = t0 + np.minimum(self._lognormal_s(1 / 60, 1.0, n), 0.5 * (first_after - t0))
        keys, cum = _weights_picker(REPORT_PHOTOS)
        report_count = np.array(keys)[_pick(rng, cum, n)]
        after = h_res & (res1 == 0) & (rng.random(n) < AFTER_PHOTO_SHARE)
        after_k = np.flatnonzero(after)
        keys, cum = _weights_picker(AFTER_PHOTOS)
        after_count = np.array(keys)[_pick(rng, cum, len(after_k))]
        after_at = resolve_t[after_k] - np.minimum(
            self._lognormal_s(1 / 6, 1.0, len(after_k)), 0.5 * (resolve_t - work_from)[after_k]
        )
        upload_issue = np.concatenate([np.arange(n), after_k])
        upload_at = np.concatenate([report_at, after_at])
        upload_kind = np.concatenate([np.zeros(n, int), np.ones(len(after_k), int)])
        upload_count = np.concatenate([report_count, after_count])
        upload_status = np.concatenate([np.full(n, OPEN), before_work[after_k]])
        order = np.lexsort((upload_at, upload_issue))
        group, _rank = _group_offsets(upload_count[order])
        photo_upload = order[group]
        photo_issue = upload_issue[photo_upload]
        photo_at = upload_at[photo_upload]
        photo_kind = upload_kind[photo_upload]
        photo_ids = self._ids("photo", len(photo_issue))
        uploader = np.where(photo_kind == 0, reporter[photo_issue], agent[photo_issue])
        events.add(
            photo_issue,
            photo_at,
            "photo_added",
            uploader,
            np.where(photo_kind == 0, -1, agency[photo_issue]),
            upload_status[photo_upload],
            upload_status[photo_upload],
            None,
            -1,
            photo_kind,
            photo_ids=photo_ids,
            message=photo_kind,
        )
        n_photos = len(photo_ids)
        captured = rng.random(n_photos) < CAPTURED_SHARE
        captured_at = photo_at - self._lognormal_s(1 / 12, 1.5, n_photos)
        photos = c.Rows(
            "photo",
            {
                "id": c.int8(photo_ids),
                "issue_id": c.int8(ids[photo_issue]),
                "kind": c.choice(photo_kind, [k.value for k in PhotoKind]),
                "uploader_id": c.int8(uploader),
                "created_at": c.time_us(_us(photo_at)),
                "captured_at": c.time_us(_us(captured_at), ~captured),
            },
        )
        sizes = _dimensions(rng, n_photos)
        variants = list(sizes)
        file_photo = np.repeat(photo_ids, len(variants))
        width = np.stack([sizes[v][0] for v in variants], axis=1).ravel().astype(np.int64)
        height = np.stack([sizes[v][1] for v in variants], axis=1).ravel().astype(np.int64)
        per_pixel = np.tile([BYTES_PER_PIXEL[v] for v in variants], n_photos)
        byte_size = (width * height * per_pixel * rng.lognormal(0, 0.3, len(width))).astype(int)
        photo_files = c.Rows(
            "photo_file",
            {
                "photo_id": c.int8(file_photo),
                "variant": c.choice(np.tile(np.arange(len(variants)), n_photos), variants),
                "key": c.text(_hex_keys(rng, len(file_photo))),
                "content_type": c.choice(np.zeros(len(file_photo), int), ["image/jpeg"]),
                "byte_size": c.int4(byte_size),
                "width": c.int4(width),
                "height": c.int4(height),
            },
        )

        # "Me too" while the issue is still being worked on, each by a different citizen (never
        # the reporter), who then follows it; a few others only follow.
        supported = np.flatnonzero(rng.random(n) < SUPPORTED_SHARE)
        counts = np.minimum(rng.geometric(SUPPORTS_P, len(supported)), MAX_SUPPORTS)
        s_issue = supported[_group_offsets(counts)[0]]
        step = max(1, self.reporters // (2 * MAX_SUPPORTS))
        s_user = self._distinct_users(reporter_k[supported], counts, step, forward=True)
        open_until = np.where(h_res, resolve_t, now)
        s_at = t0[s_issue] + rng.random(len(s_issue)) * (open_until - t0)[s_issue]
        s_status = np.where(
            h_start[s_issue] & (start_t[s_issue] <= s_at),
            IN_PROGRESS,
            np.where(h_claim[s_issue] & (claim_t[s_issue] <= s_at), ACKNOWLEDGED, OPEN),
        )
        order = np.lexsort((s_at, s_issue))
        s_issue, s_user, s_at, s_status = (
            s_issue[order],
            s_user[order],
            s_at[order],
            s_status[order],
        )
        events.add(s_issue, s_at, "supported", s_user, None, s_status, s_status, None, -1, 0)
        supports = c.Rows(
            "support",
            {
                "id": c.int8(self._ids("support", len(s_issue))),
                "issue_id": c.int8(ids[s_issue]),
                "user_id": c.int8(s_user),
                "created_at": c.time_us(_us(s_at)),
            },
        )
        followed = np.flatnonzero(rng.random(n) < FOLLOWED_SHARE)
        f_counts = 1 + (rng.random(len(followed)) < 0.3)
        f_issue = followed[_group_offsets(f_counts)[0]]
        f_user = self._distinct_users(reporter_k[followed], f_counts, step, forward=False)
        f_at = t0[f_issue] + rng.random(len(f_issue)) * np.minimum(now - t0, 30 * 86400.0)[f_issue]
        follow_issue = np.concatenate([np.arange(n), s_issue, f_issue])
        follow_user = np.concatenate([reporter, s_user, f_user])
        follow_at = np.concatenate([t0, s_at, f_at])
        order = np.lexsort((follow_at, follow_issue))
        follows = c.Rows(
            "follow",
            {
                "id": c.int8(self._ids("follow", len(order))),
                "issue_id": c.int8(ids[follow_issue[order]]),
                "user_id": c.int8(follow_user[order]),
                "created_at": c.time_us(_us(follow_at[order])),
            },
        )

        uploads = np.bincount(upload_issue, minlength=n)
        updated = last_step.copy()  # the row's last change: a step or a photo upload
        np.maximum.at(updated, upload_issue, upload_at)
        flag_issue, flag_value = self._issue_flags(cat)
        issues = c.Rows(
            "issue",
            {
                "id": c.int8(ids),
                "centre": c.int4(centre),
                "public_id": c.text(_public_ids(ids)),
                "category_id": c.int8(self._cat_id[cat]),
                "reporter_id": c.int8(reporter),
                "agency_id": c.int8(agency, ~h_claim),
                "district_id": c.int8(district, district < 0),
                "location": c.point(lon, lat),
                # The map's cell, as the model's insert default places every issue.
                "h3_cell": c.int8(
                    [cell_at(LonLat(x, y)) for x, y in zip(lon.tolist(), lat.tolist(), strict=True)]
                ),
                "status": c.choice(status, STATUSES),
                "resolution": c.choice(resolution, [*RESOLVED_CODES, None]),
                "priority": c.choice(cat, self._priority),
                "acknowledged_at": c.time_us(_us(claim_t), ~h_claim),
                "started_at": c.time_us(_us(start_t), ~h_start),
                "resolved_at": c.time_us(
                    _us(np.where(h_res2, resolve2_t, resolve_t)), ~(h_res2 | (h_res & ~h_reo))
                ),
                "closed_at": c.time_us(_us(close_t), ~h_close),
                "reopened_at": c.time_us(_us(reopen_t), ~h_reo),
                "reopen_count": c.int4(h_reo.astype(int)),
                "acknowledge_due_at": c.time_us(_us(t0) + self._ack_due[cat] * US),
                "resolve_due_at": c.time_us(_us(t0) + self._res_due[cat] * US),
                "version": c.int4(1 + transitions + uploads),
                "created_at": c.time_us(_us(t0)),
                "updated_at": c.time_us(_us(updated)),
            },
        )
        candidates = c.Rows(
            "issue_candidate",
            {"issue_id": c.int8(ids[pair_issue]), "agency_id": c.int8(pair_agency)},
        )
        flags = c.Rows(
            "issue_flag", {"issue_id": c.int8(ids[flag_issue]), "flag": c.text(flag_value)}
        )
        timeline = events.rows(self, ids, self._photo_messages)
        totals = self.totals
        totals.issues += n
        totals.unrouted += int((~routed).sum())
        totals.statuses.update(
            dict(zip(STATUSES, np.bincount(status, minlength=5).tolist(), strict=True))
        )
        totals.categories.update(
            dict(
                zip(self._codes, np.bincount(cat, minlength=len(self._codes)).tolist(), strict=True)
            )
        )
        tables = [candidates, flags, photos, photo_files, timeline, supports, follows]
        for rows in [issues, *tables]:
            totals.rows[rows.table] += len(rows)
        return Chunk(issues, tables)

    def _distinct_users(
        self, reporter_k: Array, counts: Array, step: int, *, forward: bool
    ) -> Array:
        """Citizens other than the reporter, distinct within each issue: increasing offsets from
        the reporter (forward and backward never meet: together they stay under one lap)."""
        group, _rank = _group_offsets(counts)
        increments = self.rng.integers(1, step + 1, len(group))
        cumulative = np.cumsum(increments)
        starts = (np.cumsum(counts) - counts)[counts > 0]
        # Offsets restart at each issue: the running sum less what came before its first row.
        before = np.zeros(len(counts), np.int64)
        before[counts > 0] = cumulative[starts] - increments[starts]
        offset = cumulative - before[group]
        signed = offset if forward else -offset
        users: Array = self.catalog.first_user_id + (reporter_k[group] + signed) % self.reporters
        return users

    def _issue_flags(self, cat: Array) -> tuple[Array, Array]:
        issue_part, flag_part = [], []
        for k, flag in self._flags:
            found = np.flatnonzero(cat == k)
            issue_part.append(found)
            flag_part.append(np.full(len(found), flag.encode()))
        if not issue_part:
            return np.zeros(0, int), np.zeros(0, "S1")
        issue = np.concatenate(issue_part)
        flags = np.concatenate(flag_part)
        order = np.argsort(issue, kind="stable")
        return issue[order], flags[order]


def _us(seconds: Array) -> Array:
    return np.round(seconds * US).astype(np.int64)


class _Events:
    """Timeline rows from every kind of step, put in order (issue, time) and numbered."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Array]] = []

    def add(
        self,
        issue: Array,
        at: Array,
        action: str,
        actor: Array,
        actor_agency: Array | None,
        from_status: Array | int | None,
        to_status: Array | int,
        to_agency: Array | None,
        resolution: Array | int,
        role: Array | int,
        *,
        photo_ids: Array | None = None,
        message: Array | None = None,
    ) -> None:
        m = len(issue)

        def full(value: Array | int | None, missing: int = -1) -> Array:
            if value is None:
                return np.full(m, missing, np.int64)
            return np.broadcast_to(np.asarray(value, np.int64), (m,)).copy()

        self.parts.append(
            {
                "issue": np.asarray(issue, np.int64),
                "at": np.asarray(at, float),
                "action": np.full(m, ACTIONS.index(action)),
                "actor": full(actor),
                "actor_agency": full(actor_agency),
                "from_status": full(from_status),
                "to_status": full(to_status),
                "to_agency": full(to_agency),
                "resolution": full(resolution),
                "role": full(role),
                "photo": full(photo_ids),
                "message": full(message),
            }
        )

    def rows(self, generator: Generator, ids: Array, messages: list[str]) -> c.Rows:
        merged = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        # Ties (the photos of one upload) keep the order they were added in.
        order = np.lexsort((np.arange(len(merged["at"])), merged["at"], merged["issue"]))
        e = {k: v[order] for k, v in merged.items()}
        n = len(order)
        return c.Rows(
            "issue_event",
            {
                "id": c.int8(generator._ids("issue_event", n)),
                "issue_id": c.int8(ids[e["issue"]]),
                "created_at": c.time_us(_us(e["at"])),
                "action": c.choice(e["action"], ACTIONS),
                "actor_id": c.int8(e["actor"]),
                "actor_agency_id": c.int8(e["actor_agency"], e["actor_agency"] < 0),
                "from_status": c.choice(e["from_status"], [*STATUSES, None]),
                "to_status": c.choice(e["to_status"], STATUSES),
                "to_agency_id": c.int8(e["to_agency"], e["to_agency"] < 0),
                "resolution": c.choice(e["resolution"], [*RESOLVED_CODES, None]),
                "message_key": c.choice(
                    np.where(e["message"] < 0, 1, 0), ["message.photo_added", None]
                ),
                "message_params": c.choice(e["message"], [*messages, None]),
                "is_public": c.boolean(np.ones(n, bool)),
                "actor_role": c.choice(e["role"], ROLES),
                "photo_id": c.int8(e["photo"], e["photo"] < 0),
            },
        )
