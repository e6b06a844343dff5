"""`python -m bench.photos`: photo upload-and-process throughput through the real server, against
the same Pillow processing done in-process, and the server's peak memory under 8 uploads at once.

A `civicloop serve` is started on a free 127.0.0.1 port with an embedded SQLite database and the
local photo store in a temporary directory (both removed afterwards); bench/README.md explains
what is measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import math
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from app.config import Settings
from app.db import Database
from app.dbmigrate import upgrade
from app.models import Category
from app.services.photos import clean_uploads, limits_of
from bench.measure import REPO, server_process
from tests.photos.images import phone_heic, phone_jpeg

RESULTS_DIR = REPO / "bench" / "results"
DEVICE = {"X-Device-Id": "bench-photos-device-0000000001"}


@dataclass
class Run:
    photo: str
    side: str  # "in-process" or "http"
    concurrency: int
    photos: int
    mean_ms: float
    p50_ms: float
    max_ms: float
    photos_per_s: float


@dataclass
class Memory:
    photo: str
    concurrency: int
    rss_before_mib: float
    peak_rss_mib: float  # sampled every 10 ms while the uploads ran
    high_water_mib: float  # the kernel's VmHWM: the peak since the server started


def _summary(
    photo: str, side: str, concurrency: int, latencies: Sequence[float], wall: float
) -> Run:
    ordered = sorted(latencies)
    return Run(
        photo=photo,
        side=side,
        concurrency=concurrency,
        photos=len(ordered),
        mean_ms=statistics.fmean(ordered) * 1000,
        p50_ms=ordered[len(ordered) // 2] * 1000,
        max_ms=ordered[-1] * 1000,
        photos_per_s=len(ordered) / wall,
    )


def _timed(work: Callable[[], object], count: int, concurrency: int) -> tuple[list[float], float]:
    latencies: list[float] = []

    def once(_: int) -> None:
        started = time.perf_counter()
        work()
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(once, range(count)))
    return latencies, time.perf_counter() - started


def _rss_mib(pid: int, field: str) -> float:
    """VmRSS (now) or VmHWM (the peak since the process started) from /proc, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


class PeakRss:
    """Samples a process's resident memory every 10 ms; the kernel's VmHWM backs it up."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss_mib(self.pid, "VmRSS"))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _prepare(url: str) -> None:
    database = Database(url)
    try:
        upgrade(database.engine)
        with database.session(write=True) as session, session.begin():
            session.add(
                Category(
                    code="pothole",
                    group="roads",
                    name_th="หลุมบ่อ",
                    name_en="Pothole",
                    description_th="",
                    description_en="",
                    keywords=[],
                    acknowledge_target_hours=24,
                    resolve_target_hours=120,
                )
            )
    finally:
        database.dispose()


def _new_issue(client: httpx.Client) -> str:
    response = client.post(
        "/api/v1/issues",
        headers=DEVICE,
        json={"category": "pothole", "title": "Pothole", "latitude": 13.72, "longitude": 100.52},
    )
    response.raise_for_status()
    issue_id: str = response.json()["id"]
    return issue_id


def _uploader(base_url: str, name: str, data: bytes, per_issue: int) -> Callable[[], None]:
    local = threading.local()
    lock = threading.Lock()
    issues: list[tuple[str, int]] = []

    def upload() -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base_url, timeout=300, trust_env=False)
        client: httpx.Client = local.client
        with lock:
            if not issues or issues[-1][1] >= per_issue:
                issues.append((_new_issue(client), 0))
            issue_id, used = issues[-1]
            issues[-1] = (issue_id, used + 1)
        response = client.post(
            f"/api/v1/issues/{issue_id}/photos",
            headers=DEVICE,
            files=[("photo", (name, data, "application/octet-stream"))],
        )
        if response.status_code != 201:
            raise RuntimeError(f"upload failed: {response.status_code} {response.text[:300]}")

    return upload


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.photos", description=__doc__)
    parser.add_argument("--uploads", type=int, default=16, help="timed photos per run")
    parser.add_argument("--concurrency", type=int, default=8, help="uploads at once")
    parser.add_argument(
        "--photo-workers", type=int, default=2, help="CIVICLOOP_PHOTO_WORKERS of the server"
    )
    parser.add_argument(
        "--megapixels",
        type=float,
        default=12.0,
        help="photo size, 4:3 (12 = a phone's 4000x3000; CI's smoke run uses a small one)",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if min(args.uploads, args.concurrency, args.photo_workers, args.megapixels) <= 0:
        parser.error("--uploads, --concurrency, --photo-workers and --megapixels must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print("making the photos (a 12 MP HEIC takes a few seconds to encode) ...", flush=True)
    width = round(math.sqrt(args.megapixels * 1e6 * 4 / 3))
    height, size = width * 3 // 4, f"{args.megapixels:g}mp"
    photos = {
        f"jpeg-{size}": ("IMG_0001.jpg", phone_jpeg(width, height)),
        f"heic-{size}": ("IMG_0002.HEIC", phone_heic(width, height)),
    }
    limits = limits_of(Settings(_env_file=None))
    runs: list[Run] = []
    memory: list[Memory] = []
    for label, (name, data) in photos.items():
        clean = functools.partial(clean_uploads, [(name, data)], limits)
        clean()  # warm-up
        # Alone, and as many at once as the server processes at once (its photo workers).
        for concurrency in sorted({1, args.photo_workers}):
            latencies, wall = _timed(clean, args.uploads, concurrency)
            runs.append(_summary(label, "in-process", concurrency, latencies, wall))
    with tempfile.TemporaryDirectory(prefix="civicloop-bench-photos-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'civicloop.db'}"
        _prepare(url)
        env = {
            "CIVICLOOP_DATA_DIR": scratch,
            "CIVICLOOP_PHOTO_WORKERS": str(args.photo_workers),
            "CIVICLOOP_PHOTO_MAX_PER_ISSUE": "50",
        }
        log_path = args.results_dir / "photos-server.log"
        with server_process(url, 1, log_path, env) as (base_url, process):
            for label, (name, data) in photos.items():
                upload = _uploader(base_url, name, data, per_issue=50)
                upload()  # warm-up
                latencies, wall = _timed(upload, args.uploads, 1)
                runs.append(_summary(label, "http", 1, latencies, wall))
                before = _rss_mib(process.pid, "VmRSS")
                with PeakRss(process.pid) as sampler:
                    latencies, wall = _timed(upload, args.uploads, args.concurrency)
                runs.append(_summary(label, "http", args.concurrency, latencies, wall))
                memory.append(
                    Memory(
                        label,
                        args.concurrency,
                        before,
                        sampler.peak,
                        _rss_mib(process.pid, "VmHWM"),
                    )
                )
    print()
    print(
        f"{'photo':<10} {'side':<10} {'c':>2} {'photos':>6} {'mean ms':>9} {'p50 ms':>9} "
        f"{'max ms':>9} {'photos/s':>9}"
    )
    for run in runs:
        print(
            f"{run.photo:<10} {run.side:<10} {run.concurrency:>2} {run.photos:>6} "
            f"{run.mean_ms:>9.0f} {run.p50_ms:>9.0f} {run.max_ms:>9.0f} {run.photos_per_s:>9.2f}"
        )
    for m in memory:
        print(
            f"server RSS, {m.photo}, {m.concurrency} uploads at once: {m.rss_before_mib:.0f} MiB "
            f"before, peak {m.peak_rss_mib:.0f} MiB (high-water mark so far "
            f"{m.high_water_mib:.0f} MiB)"
        )
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.results_dir / f"photos-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "when": stamp,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "photo_workers": args.photo_workers,
                "sizes_bytes": {label: len(data) for label, (_, data) in photos.items()},
                "runs": [asdict(r) for r in runs],
                "memory": [asdict(m) for m in memory],
            },
            indent=2,
        )
    )
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
