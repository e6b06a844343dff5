"""Static files of the pages, served by us with their content hash in the address.

`/assets/<hash>/<path>`: the hash is the first 12 hex digits of the file's SHA-256, so an
address names one content forever and may be cached for a year (`immutable`); a new release
changes the hash, hence the address. `bundles/` names scripts joined into one (`BUNDLES`).
Nothing is fetched from a CDN."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from app.errors import NotFound

STATIC_DIR = Path(__file__).parent / "static"
CACHE_FOREVER = "public, max-age=31536000, immutable"
# The site's icon: every page links it; `/favicon.ico` sends there whoever asks without a link.
ICON = "img/icon.svg"


@dataclass(frozen=True)
class Asset:
    digest: str
    media_type: str
    body: bytes
    # Compressed once at start-up; None where it would not be smaller (images).
    gzipped: bytes | None


# Scripts a page runs together, served as one file: over HTTP/1.1 a browser opens at most six
# connections to a host, so a page's seventh request waits a whole round trip (0.56 s on a
# "Fast 3G" phone). Each part is a whole script; ours keep "use strict" inside their function.
BUNDLES: dict[str, tuple[str, ...]] = {
    "bundles/map.js": (
        "vendor/leaflet/leaflet.js",
        "vendor/markercluster/leaflet.markercluster.js",
        "js/map-common.js",
        "js/map.js",
    ),
}


def _media_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    kind = guessed or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or kind.endswith("script") else kind


def _asset(name: str, body: bytes) -> Asset:
    packed = gzip.compress(body, compresslevel=9, mtime=0)
    return Asset(
        hashlib.sha256(body).hexdigest()[:12],
        _media_type(name),
        body,
        packed if len(packed) < len(body) * 0.9 else None,
    )


def _load(directory: Path) -> dict[str, Asset]:
    bodies = {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(p for p in directory.rglob("*") if p.is_file())
    }
    for name, parts in BUNDLES.items():
        # A statement left open by one part must not swallow the next.
        bodies[name] = b"\n;\n".join(bodies[part] for part in parts)
    return {name: _asset(name, body) for name, body in bodies.items()}


class Assets:
    """Every file under app/web/static, read once at start-up."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.files = _load(directory)

    def url(self, name: str) -> str:
        """The address of a static file (a KeyError names a file that is not there)."""
        return f"/assets/{self.files[name].digest}/{name}"


router = APIRouter(include_in_schema=False)
ASSETS = Assets()


def _accepts_gzip(request: Request) -> bool:
    return any(
        part.split(";")[0].strip().lower() == "gzip" and not part.replace(" ", "").endswith(";q=0")
        for part in request.headers.get("accept-encoding", "").split(",")
    )


@router.get("/assets/{digest}/{name:path}")
def get_asset(digest: str, name: str, request: Request) -> Response:
    asset = ASSETS.files.get(name)
    if asset is None or asset.digest != digest:
        # An old page asking for a file of another release: 404 rather than the wrong content
        # under an address cached as immutable.
        raise NotFound(f"No asset {name!r} with that hash.")
    headers = {"Cache-Control": CACHE_FOREVER, "ETag": f'"{asset.digest}"'}
    if asset.gzipped is None:
        return Response(asset.body, media_type=asset.media_type, headers=headers)
    headers["Vary"] = "Accept-Encoding"
    if not _accepts_gzip(request):
        return Response(asset.body, media_type=asset.media_type, headers=headers)
    headers["Content-Encoding"] = "gzip"
    return Response(asset.gzipped, media_type=asset.media_type, headers=headers)


@router.get("/favicon.ico")
def get_favicon() -> Response:
    # Not permanent: the icon's address changes with its content, and a browser keeps a 301
    # for good. A day's caching spares a redirect per page without pinning an old address.
    return RedirectResponse(
        ASSETS.url(ICON), status_code=302, headers={"Cache-Control": "public, max-age=86400"}
    )
