"""The cleaning rules, called directly: orientation, colour, capture time, nothing else kept."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import ExifTags, Image, ImageCms, ImageStat

from app.models import PhotoVariant
from app.storage.images import Limits, clean_photo
from tests.photos import images
from tests.photos.helpers import image, metadata_of

LIMITS = Limits(
    max_pixels=40_000_000,
    display_px=1600,
    thumbnail_px=320,
    jpeg_quality=85,
    capture_timezone="Asia/Bangkok",
)


def _red_side(picture: Image.Image) -> str:
    """Which edge the red band (the sensor's top) ended up on."""
    rgb = picture.convert("RGB")
    width, height = rgb.size
    strips = {
        "top": (0, 0, width, 2),
        "bottom": (0, height - 2, width, height),
        "left": (0, 0, 2, height),
        "right": (width - 2, 0, width, height),
    }
    red = [side for side, box in strips.items() if _is_red(rgb.crop(box))]
    assert len(red) == 1, red
    return red[0]


def _is_red(strip: Image.Image) -> bool:
    red, green, _ = ImageStat.Stat(strip).mean
    return red > 180 and green < 80


@pytest.mark.parametrize(
    ("orientation", "size", "top_is_now"),
    [
        (1, (600, 400), "top"),
        (3, (600, 400), "bottom"),
        (6, (400, 600), "right"),
        (8, (400, 600), "left"),
    ],
)
def test_the_exif_orientation_is_applied_to_every_rendition(
    orientation: int, size: tuple[int, int], top_is_now: str
) -> None:
    clean = clean_photo(images.phone_jpeg(600, 400, orientation=orientation), LIMITS, name="p")

    for rendition in clean.renditions.values():
        picture = image(rendition.data)
        assert (picture.width > picture.height) == (size[0] > size[1])
        assert _red_side(picture) == top_is_now
    assert (
        clean.renditions[PhotoVariant.full].width,
        clean.renditions[PhotoVariant.full].height,
    ) == size


def test_colour_profiles_are_converted_and_dropped() -> None:
    cmyk = images.scene(400, 300).convert("CMYK")
    out = io.BytesIO()
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    cmyk.save(out, format="JPEG", icc_profile=profile, exif=images.phone_exif(1))

    clean = clean_photo(out.getvalue(), LIMITS, name="print.jpg")

    for rendition in clean.renditions.values():
        assert metadata_of(rendition.data) == {}
        assert image(rendition.data).mode == "RGB"


@pytest.mark.parametrize(
    ("taken", "offset", "expected"),
    [
        ("2026:11:20 08:15:30", "+07:00", dt.datetime(2026, 11, 20, 1, 15, 30, tzinfo=dt.UTC)),
        # No offset: the configured zone (Bangkok, UTC+7) says what the camera clock meant.
        ("2026:11:20 08:15:30", None, dt.datetime(2026, 11, 20, 1, 15, 30, tzinfo=dt.UTC)),
        ("0000:00:00 00:00:00", None, None),  # a camera whose clock was never set
        ("1970:01:01 00:00:00", "+00:00", None),  # a reset clock says nothing
        ("2099:01:01 00:00:00", "+07:00", None),  # in the future
        ("yesterday", None, None),
    ],
)
def test_only_a_plausible_capture_time_is_kept(
    taken: str, offset: str | None, expected: dt.datetime | None
) -> None:
    exif = images.phone_exif(1)
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = taken
    if offset is None:
        del details[ExifTags.Base.OffsetTimeOriginal]
    else:
        details[ExifTags.Base.OffsetTimeOriginal] = offset
    out = io.BytesIO()
    images.scene(200, 150).save(out, format="JPEG", exif=exif)

    assert clean_photo(out.getvalue(), LIMITS, name="p").captured_at == expected


def test_the_pixel_limit_is_checked_before_decoding() -> None:
    small = Limits(1_000_000, 1600, 320, 85, "UTC")

    with pytest.raises(Exception, match=r"2000×1500 pixels \(3.0 megapixels\); at most 1 "):
        clean_photo(images.phone_jpeg(2000, 1500), small, name="p")


def test_a_heic_taken_upright_comes_out_upright() -> None:
    out = io.BytesIO()
    images.scene(600, 400).save(
        out,
        format="HEIF",
        quality=60,
        exif=images.phone_exif(6).tobytes(),
        enc_params={"preset": "ultrafast"},
    )

    clean = clean_photo(out.getvalue(), LIMITS, name="IMG.HEIC")

    full = image(clean.renditions[PhotoVariant.full].data)
    assert full.size == (400, 600)
    assert _red_side(full) == "right"
    assert metadata_of(clean.renditions[PhotoVariant.full].data) == {}
    assert clean.captured_at == dt.datetime(2026, 11, 20, 1, 15, 30, tzinfo=dt.UTC)
