"""Static files of the pages, served by us with their content hash in the address.

`/assets/<hash>/<path>`: the hash is the first 12 hex digits of the file's SHA-256, so an
address names one content forever and may be cached for a year (`immutable`); a new release
changes the hash, hence the address. Nothing is fetched from a CDN."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.errors import NotFound

STATIC_DIR = Path(__file__).parent / "static"
CACHE_FOREVER = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    digest: str
    media_type: str
    body: bytes
    # Compressed once at start-up; None where it would not be smaller (images).
    gzipped: bytes | None


def _media_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    kind = guessed or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or kind.endswith("script") else kind


def _load(directory: Path) -> dict[str, Asset]:
    found = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        body = path.read_bytes()
        name = path.relative_to(directory).as_posix()
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        found[name] = Asset(
            hashlib.sha256(body).hexdigest()[:12],
            _media_type(path),
            body,
            packed if len(packed) < len(body) * 0.9 else None,
        )
    return found


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
