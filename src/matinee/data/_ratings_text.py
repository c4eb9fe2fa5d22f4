"""Reading MovieLens text files: a folder or zip :class:`Source`, and the ratings parser.

Ratings rows are read by the strict compiled parser of :mod:`matinee.data._strict_text`, block
by block on all cores, straight into narrow numpy columns (int32 ids, float32 rating, int64
time); a 25M-rating file is never held whole, neither as text nor as a second set of columns.
A file with rows in a form that parser does not accept (quotes, exponents, spaces) is read again
by pyarrow's general streaming reader. Raw ids are mapped to contiguous indices with a dense
lookup table (MovieLens ids are small non-negative ints), in O(n) and without sorting. Blank
lines are skipped.

A rating outside the release's scale, a negative id, or a row that does not parse is a
:class:`MalformedFileError` naming the file and 1-based line, found by re-scanning the file only
after the readers have failed.
"""

from __future__ import annotations

import logging
import re
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from matinee.data import _id_kernels
from matinee.data._columns import DTYPES, FIELDS, RatingsColumns, RawRatings
from matinee.data._strict_text import parse_strict
from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import DataError, MalformedFileError
from matinee.types import IndexArray

log = logging.getLogger(__name__)

__all__ = [
    "BLOCK_BYTES",
    "CSV_RATINGS",
    "DAT_RATINGS",
    "TAB_RATINGS",
    "RatingsFormat",
    "RawRatings",
    "Source",
    "map_ids",
    "ratings_from_raw",
    "read_raw_ratings",
]

BLOCK_BYTES = 1 << 20
"""Bytes of ratings text pyarrow's general reader parses per block."""

_INTEGER = re.compile(rb"\s*-?\d+\s*")

DENSE_TABLE_FACTOR = 8
"""A dense id table may have at most this many entries per rating (else ids are sorted)."""


class Source:
    """A folder, or a folder inside a zip, that holds one release's files."""

    def __init__(self, path: Path, prefix: str = "") -> None:
        self.is_zip = path.is_file()
        if not self.is_zip and prefix:
            path, prefix = path / prefix, ""
        self.path = path
        self.prefix = prefix  # the folder inside a zip, ending in "/"; empty for folders

    def __repr__(self) -> str:
        return f"Source({str(self.path)!r}, prefix={self.prefix!r})"

    def display(self, name: str) -> str:
        """How a file is named in messages (``x.zip/folder/ratings.csv`` inside a zip)."""
        return str(self.path / self.prefix / name)

    def has(self, name: str) -> bool:
        """Whether the release holds ``name``."""
        if not self.is_zip:
            return (self.path / name).is_file()
        with zipfile.ZipFile(self.path) as archive:
            return self.prefix + name in archive.NameToInfo

    def size(self, name: str) -> int:
        """Uncompressed size of a file in bytes."""
        try:
            if not self.is_zip:
                return (self.path / name).stat().st_size
            with zipfile.ZipFile(self.path) as archive:
                return archive.getinfo(self.prefix + name).file_size
        except (FileNotFoundError, KeyError):
            raise DataError(f"{self.display(name)} is missing") from None
        except (OSError, zipfile.BadZipFile) as error:
            raise DataError(f"{self.display(name)} cannot be read: {error}") from None

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """Open a file for binary reading (straight from the zip, without unpacking).

        Raises:
            DataError: the file is missing, unreadable, or a damaged zip member (the error is
                raised while reading it, inside the ``with`` block); the message names it.
        """
        try:
            if not self.is_zip:
                with (self.path / name).open("rb") as stream:
                    yield stream
                return
            with zipfile.ZipFile(self.path) as archive, archive.open(self.prefix + name) as stream:
                yield stream
        except (FileNotFoundError, KeyError):
            raise DataError(
                f"{self.display(name)} is missing; this MovieLens layout needs it beside the "
                "ratings file"
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise DataError(f"{self.display(name)} is a damaged zip member: {error}") from None
        except OSError as error:
            raise DataError(f"{self.display(name)} cannot be read: {error}") from None

    def read_text(self, name: str, encoding: str = "utf-8") -> str:
        """A whole (small) file as text; latin-1 when it is not valid in ``encoding``."""
        with self.open(name) as stream:
            data = stream.read()
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            return data.decode("latin-1")


@dataclass(frozen=True)
class RatingsFormat:
    """How a ratings file is laid out: field separator and whether a header comes first."""

    separator: str
    """``,``, a tab, or ``::``."""
    header: tuple[str, ...] = ()
    """Expected header names of user, movie, rating, time (empty when there is no header)."""


CSV_RATINGS = RatingsFormat(",", ("userId", "movieId", "rating", "timestamp"))
TAB_RATINGS = RatingsFormat("\t")
DAT_RATINGS = RatingsFormat("::")


def _arrow_options(
    fmt: RatingsFormat,
) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    """Single-threaded streaming options; ``::`` is read as ``:`` around empty columns."""
    names = list(FIELDS)
    if fmt.separator == "::":
        names = ["user", "_1", "movie", "_2", "rating", "_3", "timestamp"]
    read = pacsv.ReadOptions(
        column_names=names,
        skip_rows=1 if fmt.header else 0,
        block_size=BLOCK_BYTES,
        use_threads=False,
    )
    parse = pacsv.ParseOptions(delimiter=fmt.separator[0], quote_char=False)
    convert = pacsv.ConvertOptions(
        column_types={
            field: pa.from_numpy_dtype(dtype) for field, dtype in zip(FIELDS, DTYPES, strict=True)
        },
        include_columns=list(FIELDS),
        null_values=[],
        quoted_strings_can_be_null=False,
    )
    return read, parse, convert


def _parse(source: Source, name: str, fmt: RatingsFormat) -> RawRatings:
    """Parse a ratings file: the strict compiled parser, else pyarrow's general reader."""
    size = max(source.size(name), 1)
    with source.open(name) as stream:
        raw = parse_strict(stream, size, fmt.separator, skip_header=bool(fmt.header))
    if raw is not None:
        return raw
    log.info("%s has rows in an unusual form; reading it with the general reader", name)
    return parse_general(source, name, fmt)


def parse_general(source: Source, name: str, fmt: RatingsFormat) -> RawRatings:
    """Parse a ratings file with pyarrow's streaming reader, which takes any CSV number form."""
    size = max(source.size(name), 1)
    columns = RatingsColumns()
    with source.open(name) as stream:
        for batch in pacsv.open_csv(stream, *_arrow_options(fmt)):
            if columns.n == 0:
                columns.reserve(int(size * batch.num_rows / min(BLOCK_BYTES, size) * 1.05) + 1024)
            columns.append(batch)
    return columns.result()


def read_raw_ratings(
    source: Source, name: str, fmt: RatingsFormat, *, rating_scale: tuple[float, float]
) -> RawRatings:
    """Read a ratings file into raw columns; malformed rows raise naming the file and line."""
    if fmt.header:
        _check_header(source, name, fmt)
    try:
        raw = _parse(source, name, fmt)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise _locate(source, name, fmt, rating_scale, str(error)) from None
    if raw.rating.size and (
        raw.user_id.min() < 0
        or raw.movie_id.min() < 0
        or raw.rating.min() < rating_scale[0]
        or raw.rating.max() > rating_scale[1]
        or np.isnan(raw.rating).any()
    ):
        raise _locate(source, name, fmt, rating_scale, "a value is out of range")
    return raw


def _check_header(source: Source, name: str, fmt: RatingsFormat) -> None:
    """Raise unless the first line holds the expected column names."""
    with source.open(name) as stream:
        first = stream.readline().decode("utf-8", errors="replace").strip().lstrip("\ufeff")
    if tuple(first.split(fmt.separator)) != fmt.header:
        expected = fmt.separator.join(fmt.header)
        raise MalformedFileError(
            source.display(name), 1, f"header is {first!r}, expected {expected!r}"
        )


def _locate(
    source: Source, name: str, fmt: RatingsFormat, scale: tuple[float, float], fallback: str
) -> MalformedFileError:
    """Re-scan a ratings file line by line (error path only) to name the first bad line."""
    separator = fmt.separator.encode()
    with source.open(name) as stream:
        for number, line in enumerate(stream, start=1):
            if fmt.header and number == 1:
                continue
            text = line.rstrip(b"\r\n")
            if not text:
                continue
            problem = _row_problem(text.split(separator), scale)
            if problem:
                return MalformedFileError(source.display(name), number, problem)
    return MalformedFileError(source.display(name), None, fallback)


def _row_problem(fields: list[bytes], scale: tuple[float, float]) -> str:
    """What is wrong with one split ratings row ('' when nothing)."""
    if len(fields) != 4:
        return f"expected 4 fields (user, movie, rating, time), found {len(fields)}: {fields!r}"
    try:
        user, movie, timestamp = (_integer(fields[i]) for i in (0, 1, 3))
        if b"_" in fields[2]:
            raise ValueError(fields[2])
        rating = float(fields[2])
    except ValueError:
        return f"cannot parse {b'|'.join(fields).decode(errors='replace')!r} as numbers"
    if user < 0 or movie < 0 or user >= 2**31 or movie >= 2**31:
        return f"ids must be between 0 and 2**31-1, found user {user}, movie {movie}"
    if not scale[0] <= rating <= scale[1]:
        return f"rating {rating} is outside the release scale {scale[0]}-{scale[1]}"
    if not -(2**63) <= timestamp < 2**63:
        return f"timestamp {timestamp} does not fit in 64 bits"
    return ""


def _integer(field: bytes) -> int:
    """An integer field as the readers take it: optional minus, digits, spaces around."""
    if not _INTEGER.fullmatch(field):
        raise ValueError(field)
    return int(field)


def map_ids(raw_ids: np.ndarray, *, kind: str, in_place: bool = False) -> tuple[IdMap, IndexArray]:
    """Map non-negative raw ids to contiguous indices in O(n) through a dense lookup table.

    With ``in_place`` the indices overwrite ``raw_ids`` (an int32 array), saving one copy.
    Falls back to sorting when the ids are negative or too sparse for a table.
    """
    if raw_ids.size == 0:
        return IdMap(np.empty(0, dtype=np.int64), kind=kind), np.empty(0, dtype=np.int32)
    top = int(raw_ids.max())
    if top > DENSE_TABLE_FACTOR * raw_ids.size + (1 << 20) or raw_ids.min() < 0:
        return IdMap.from_values(raw_ids, kind=kind)
    present = np.zeros(top + 1, dtype=bool)
    _id_kernels.mark(raw_ids, present)
    table = np.cumsum(present, dtype=np.int32)
    table -= 1
    out = raw_ids if in_place and raw_ids.dtype == np.int32 else np.empty(raw_ids.size, np.int32)
    _id_kernels.gather(table, raw_ids, out)
    return IdMap(np.flatnonzero(present), kind=kind), out


def ratings_from_raw(raw: RawRatings, rating_scale: tuple[float, float]) -> Ratings:
    """Map the raw ids of freshly read ratings (in place) and wrap them as :class:`Ratings`."""
    with ThreadPoolExecutor(2) as pool:  # the kernels release the GIL: one column a core
        user_job = pool.submit(map_ids, raw.user_id, kind="user", in_place=True)
        movies, movie_idx = map_ids(raw.movie_id, kind="movie", in_place=True)
        users, user_idx = user_job.result()
    return Ratings(user_idx, movie_idx, raw.rating, raw.timestamp, users, movies, rating_scale)
