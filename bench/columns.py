"""Columns of generated rows as numpy arrays, and the two ways they leave: PostgreSQL's binary COPY
stream, built with array operations only (no Python object per value), and Python rows for
SQLite's `executemany`, in the forms the app's column types store there.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Kind = Literal["int8", "int4", "bool", "time", "text", "point"]
# PostgreSQL's binary timestamps count microseconds from 2000-01-01 00:00 UTC.
PG_EPOCH_US = 946_684_800 * 1_000_000
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
COPY_TRAILER = struct.pack("!h", -1)
# Little-endian WKB, as `app.models.types.PointType` writes it on SQLite; with the SRID (EWKB)
# for PostGIS, whose binary input takes EWKB.
WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
EWKB_POINT = np.dtype(
    [("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")]
)
EWKB_SRID_FLAG = 0x20000000


@dataclass(frozen=True)
class Column:
    """One column: `values` (times as microseconds since 1970, text as a bytes array, points as
    an (n, 2) lon/lat array) and where it is NULL."""

    kind: Kind
    values: npt.NDArray[Any]
    null: npt.NDArray[np.bool_] | None = None


def int8(values: npt.ArrayLike, null: npt.NDArray[np.bool_] | None = None) -> Column:
    return Column("int8", np.asarray(values, dtype=np.int64), null)


def int4(values: npt.ArrayLike, null: npt.NDArray[np.bool_] | None = None) -> Column:
    return Column("int4", np.asarray(values, dtype=np.int32), null)


def boolean(values: npt.ArrayLike) -> Column:
    return Column("bool", np.asarray(values, dtype=np.bool_))


def time_us(values: npt.ArrayLike, null: npt.NDArray[np.bool_] | None = None) -> Column:
    return Column("time", np.asarray(values, dtype=np.int64), null)


def text(values: npt.NDArray[np.bytes_], null: npt.NDArray[np.bool_] | None = None) -> Column:
    """UTF-8 bytes, one fixed-width numpy bytes array (trailing NULs are padding)."""
    return Column("text", values, null)


def choice(codes: npt.NDArray[np.integer[Any]], table: Sequence[str | None]) -> Column:
    """Text chosen from a small table by index (None entries are NULL)."""
    encoded = np.array([(t or "").encode() for t in table])
    nulls = np.array([t is None for t in table])
    return text(encoded[codes], nulls[codes] if nulls.any() else None)


def point(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> Column:
    return Column("point", np.column_stack([lon, lat]))


@dataclass(frozen=True)
class Rows:
    """Rows for one table: its column names, and a Column for each."""

    table: str
    columns: dict[str, Column]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())).values)

    @property
    def names(self) -> str:
        return ", ".join(self.columns)


def _bytes(array: npt.NDArray[Any], width: int) -> npt.NDArray[np.uint8]:
    return np.ascontiguousarray(array).view(np.uint8).reshape(len(array), width)


def _field(column: Column) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """The column's binary fields, a fixed-width block per row, and how many bytes each uses."""
    n = len(column.values)
    if column.kind == "text":
        width = column.values.dtype.itemsize
        data = _bytes(column.values, width) if width else np.zeros((n, 0), np.uint8)
        # UTF-8 text holds no NUL: the bytes that are not padding are its length.
        lengths = np.count_nonzero(data, axis=1).astype(np.int64)
    elif column.kind == "point":
        width = EWKB_POINT.itemsize
        wkb = np.zeros(n, EWKB_POINT)
        wkb["order"], wkb["type"], wkb["srid"] = 1, 1 | EWKB_SRID_FLAG, 4326
        wkb["x"], wkb["y"] = column.values[:, 0], column.values[:, 1]
        data, lengths = _bytes(wkb, width), np.full(n, width, np.int64)
    else:
        values = column.values - PG_EPOCH_US if column.kind == "time" else column.values
        big = {"int8": ">i8", "time": ">i8", "int4": ">i4", "bool": "u1"}[column.kind]
        width = np.dtype(big).itemsize
        data, lengths = _bytes(values.astype(big), width), np.full(n, width, np.int64)
    if column.null is not None:
        lengths = np.where(column.null, 0, lengths)
        header = np.where(column.null, -1, lengths)
    else:
        header = lengths
    block = np.concatenate([_bytes(header.astype(">i4"), 4), data], axis=1)
    return block, lengths + 4


def copy_binary(rows: Rows, *, first: bool = True, last: bool = True) -> bytes:
    """The rows in COPY's binary format: every row's fields laid side by side in one byte matrix,
    then the unused tail of each variable-width field (and NULLs' payloads) masked away."""
    n = len(rows)
    blocks = [_bytes(np.full(n, len(rows.columns), ">i2"), 2)]
    used = [np.full(n, 2, np.int64)]
    for column in rows.columns.values():
        block, size = _field(column)
        blocks.append(block)
        used.append(size)
    matrix = np.concatenate(blocks, axis=1)
    mask = np.concatenate(
        [np.arange(b.shape[1])[None, :] < u[:, None] for b, u in zip(blocks, used, strict=True)],
        axis=1,
    )
    body: bytes = matrix[mask].tobytes()
    return (COPY_SIGNATURE if first else b"") + body + (COPY_TRAILER if last else b"")


def sqlite_times(us: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    """SQLAlchemy's SQLite DATETIME text (`2026-05-01 13:45:00.000000`), which it compares as
    text: the same width and separator for every value."""
    iso = np.datetime_as_string(us.astype("datetime64[us]"), unit="us")
    codes = iso.view(np.uint32).reshape(len(iso), -1).copy()
    codes[:, 10] = ord(" ")
    return codes.view(iso.dtype).ravel()


def _python(column: Column) -> list[Any]:
    if column.kind == "text":
        values: npt.NDArray[Any] = np.char.decode(column.values, "utf-8")
    elif column.kind == "time":
        values = sqlite_times(column.values)
    elif column.kind == "point":
        wkb = np.zeros(len(column.values), WKB_POINT)
        wkb["order"], wkb["type"] = 1, 1
        wkb["x"], wkb["y"] = column.values[:, 0], column.values[:, 1]
        return [bytes(b) for b in _bytes(wkb, WKB_POINT.itemsize)]
    else:
        values = column.values.astype(np.int64)  # bools as 0/1, as SQLite stores them
    if column.null is None:
        result: list[Any] = values.tolist()
        return result
    objects = values.astype(object)
    objects[column.null] = None
    return list(objects)


def python_rows(rows: Rows) -> Iterator[tuple[Any, ...]]:
    """The rows as tuples of the values SQLite stores for the app's column types."""
    return zip(*(_python(c) for c in rows.columns.values()), strict=True)
