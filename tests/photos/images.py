"""Photos made the way phones and attackers make them, with Pillow."""

from __future__ import annotations

import functools
import io
import struct
import zlib

import pillow_heif
from PIL import ExifTags, Image, ImageDraw

pillow_heif.register_heif_opener()

# Where the reporter was standing: must never leave the server.
HOME = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (13.0, 43.0, 34.32),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (100.0, 31.0, 44.4),
}
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="13,43.572N"/></rdf:RDF>'
    b'</x:xmpmeta><?xpacket end="w"?>'
)


def scene(width: int, height: int) -> Image.Image:
    """A photo-like picture whose top is marked, so orientation can be checked: a red band along
    the top edge of the sensor image; below it texture at several scales, so encoders have real
    work to do (pure noise would be unlike any photo, and very slow to encode as HEVC)."""
    coarse = Image.effect_noise((max(width // 16, 1), max(height // 16, 1)), 80)
    fine = Image.effect_noise((max(width // 2, 1), max(height // 2, 1)), 20)
    texture = Image.blend(
        coarse.resize((width, height), Image.Resampling.BICUBIC),
        fine.resize((width, height), Image.Resampling.NEAREST),
        0.3,
    )
    picture = Image.merge(
        "RGB", (texture, texture.rotate(180), Image.new("L", (width, height), 90))
    )
    ImageDraw.Draw(picture).rectangle((0, 0, width, height // 10), fill=(220, 20, 20))
    return picture


def phone_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Civicphone"
    exif[ExifTags.Base.Model] = "CP 12"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = HOME
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = "2026:11:20 08:15:30"
    details[ExifTags.Base.OffsetTimeOriginal] = "+07:00"
    details[ExifTags.Base.MakerNote] = b"Civicphone\x00serial=CP12-0042;owner=somchai"
    return exif


@functools.cache
def phone_jpeg(width: int = 4000, height: int = 3000, *, orientation: int = 6) -> bytes:
    """A 12-megapixel phone photo by default: landscape on the sensor, orientation 6 (the phone
    was held upright), GPS position, capture time, maker note and XMP."""
    out = io.BytesIO()
    scene(width, height).save(out, format="JPEG", quality=90, exif=phone_exif(orientation), xmp=XMP)
    return out.getvalue()


@functools.cache
def phone_heic(width: int = 2016, height: int = 1512) -> bytes:
    """An iPhone-style HEIC (smaller than a phone's by default: HEVC encoding is slow)."""
    out = io.BytesIO()
    scene(width, height).save(
        out,
        format="HEIF",
        quality=60,
        exif=phone_exif(1).tobytes(),
        enc_params={"preset": "ultrafast"},
    )
    return out.getvalue()


def png(width: int = 800, height: int = 600, *, alpha: bool = False) -> bytes:
    picture = scene(width, height)
    if alpha:
        picture.putalpha(200)
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def webp(width: int = 800, height: int = 600) -> bytes:
    out = io.BytesIO()
    scene(width, height).save(out, format="WEBP", quality=80, exif=phone_exif(1))
    return out.getvalue()


def truncated_jpeg() -> bytes:
    whole = phone_jpeg(1200, 900, orientation=1)
    return whole[: len(whole) * 2 // 3]


def jpeg_with_html() -> bytes:
    """A real JPEG whose comment segment carries a page: a polyglot that old sniffers render."""
    whole = phone_jpeg(400, 300, orientation=1)
    page = b"<html><body><script>fetch('/steal?c='+document.cookie)</script></body></html>"
    comment = b"\xff\xfe" + struct.pack(">H", len(page) + 2) + page
    return whole[:2] + comment + whole[2:]


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG declaring ten billion pixels: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.domain)</script></svg>"
)
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
TEXT = b"Pothole on Soi 5, about 1 m wide. Please fix soon.\n"
