"""Turn an uploaded photo into clean renditions: proven whole, upright, without metadata.

The type is decided from the bytes alone. The image is fully decoded (a damaged or truncated
file fails here), turned upright by its EXIF orientation, converted to sRGB, and re-encoded
from pixels only: EXIF (with the GPS position), XMP, maker notes, comments and colour profiles
are all left behind. Only the capture time survives, as a value for the database.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zoneinfo
from dataclasses import dataclass

import pillow_heif
from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageOps, UnidentifiedImageError

from app import i18n
from app.errors import InvalidPhoto, UnsupportedPhotoType
from app.models import PhotoVariant

pillow_heif.register_heif_opener()

# Magic numbers of what phones send. Decided here, never from a file name or a declared type.
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"heif"}
# Markup a browser or an old content sniffer would act on, looked for where sniffers look.
MARKUP = re.compile(
    rb"<(?:html|script|svg|!doctype|body|head|iframe|object|embed|meta|img|a\s|\?php)|javascript:",
    re.IGNORECASE,
)
SNIFF_WINDOW = 4096
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class Limits:
    max_pixels: int
    display_px: int
    thumbnail_px: int
    jpeg_quality: int
    capture_timezone: str


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class CleanPhoto:
    content_type: str
    renditions: dict[PhotoVariant, Rendition]
    captured_at: dt.datetime | None


def sniff(data: bytes) -> str | None:
    """The Pillow format named by the file's first bytes, if it is one we accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "HEIF"
    return None


def _capture_time(image: Image.Image, timezone: str) -> dt.datetime | None:
    exif = image.getexif().get_ifd(ExifTags.IFD.Exif)
    taken = exif.get(ExifTags.Base.DateTimeOriginal)
    if not isinstance(taken, str):
        return None
    try:
        moment = dt.datetime.strptime(taken.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        offset = exif.get(ExifTags.Base.OffsetTimeOriginal)
        if isinstance(offset, str) and re.fullmatch(r"[+-]\d\d:\d\d", offset.strip("\x00 ")):
            moment = dt.datetime.fromisoformat(moment.isoformat() + offset.strip("\x00 "))
        else:
            moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(timezone))
    except ValueError:
        return None  # a camera with its clock unset writes "0000:00:00 00:00:00"
    moment = moment.astimezone(dt.UTC)
    # A clock years off or in the future says nothing useful about when the photo was taken.
    if not dt.datetime(1990, 1, 1, tzinfo=dt.UTC) <= moment <= dt.datetime.now(dt.UTC):
        return None
    return moment


def _to_srgb(image: Image.Image) -> Image.Image:
    """Pixels in sRGB (RGB or RGBA), with no profile: sRGB is what an untagged image means."""
    alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    mode = "RGBA" if alpha else "RGB"
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None  # a broken profile: keep the numbers, drop the profile
        if converted is not None:
            image = converted
    clean = image.convert(mode) if image.mode != mode else image.copy()
    clean.info = {}
    return clean


def _encode(image: Image.Image, limits: Limits) -> tuple[str, bytes]:
    out = io.BytesIO()
    if image.mode == "RGBA":
        image.save(out, format="PNG", compress_level=6)
        return "image/png", out.getvalue()
    image.save(out, format="JPEG", quality=limits.jpeg_quality, optimize=False)
    return "image/jpeg", out.getvalue()


def _shrunk(image: Image.Image, longest: int) -> Image.Image:
    if max(image.size) <= longest:
        return image
    return ImageOps.contain(image, (longest, longest), Image.Resampling.LANCZOS)


def clean_photo(data: bytes, limits: Limits, *, name: str | i18n.Text) -> CleanPhoto:
    """Decode, check and re-encode one photo; `name` says which one in error messages."""
    if not data:
        raise InvalidPhoto(i18n.text("error.photo.empty", name=name))
    kind = sniff(data)
    if kind is None:
        raise UnsupportedPhotoType(i18n.text("error.photo.type", name=name))
    if MARKUP.search(data[:SNIFF_WINDOW]):
        raise UnsupportedPhotoType(i18n.text("error.photo.markup", name=name))
    try:
        # Opening reads only the header: the declared size is checked before any decoding.
        image = Image.open(io.BytesIO(data), formats=[kind])
        width, height = image.size
        if width * height > limits.max_pixels:
            raise InvalidPhoto(
                i18n.text(
                    "error.photo.pixels",
                    name=name,
                    width=width,
                    height=height,
                    megapixels=f"{width * height / 1e6:.1f}",
                    max=f"{limits.max_pixels / 1e6:g}",
                )
            )
        captured_at = _capture_time(image, limits.capture_timezone)
        image.load()  # the whole image: a truncated or corrupt file fails here
        upright = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError:
        raise InvalidPhoto(
            i18n.text("error.photo.bomb", name=name, max=f"{limits.max_pixels / 1e6:g}")
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidPhoto(i18n.text("error.photo.damaged", name=name, reason=str(exc))) from None
    full = _to_srgb(upright)
    display = _shrunk(full, limits.display_px)
    thumbnail = _shrunk(display, limits.thumbnail_px)
    renditions: dict[PhotoVariant, Rendition] = {}
    content_type = ""
    for variant, picture in (
        (PhotoVariant.full, full),
        (PhotoVariant.display, display),
        (PhotoVariant.thumbnail, thumbnail),
    ):
        content_type, encoded = _encode(picture, limits)
        renditions[variant] = Rendition(encoded, picture.width, picture.height)
    return CleanPhoto(content_type, renditions, captured_at)


@dataclass(frozen=True)
class Region:
    """A rectangle of a photo in fractions of its width and height (0 to 1, from the top left),
    so a region chosen on a small rendition means the same on the full one."""

    left: float
    top: float
    width: float
    height: float


def fill_region(data: bytes, region: Region) -> bytes:
    """The photo with the region painted over in solid black, as PNG (lossless, so nothing of
    it survives as compression noise); a blur could be undone, a fill cannot."""
    image = Image.open(io.BytesIO(data))
    image.load()
    w, h = image.size
    box = (
        round(region.left * w),
        round(region.top * h),
        round((region.left + region.width) * w),
        round((region.top + region.height) * h),
    )
    filled = image.convert("RGB")
    ImageDraw.Draw(filled).rectangle(box, fill=(0, 0, 0))
    out = io.BytesIO()
    filled.save(out, format="PNG")
    return out.getvalue()
