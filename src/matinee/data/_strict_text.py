"""Compiled parser for the plain ratings rows of every MovieLens release, on all cores.

MovieLens ratings files hold nothing but unsigned integers and short decimals between one-byte
(or ``::``) separators, so a strict numba scanner reads them straight into the final narrow
columns, with no intermediate table and no copy. It accepts only what it is sure of: ids of at
most 9 digits, a rating of digits with at most 4 decimals, a timestamp of at most 18 digits,
LF or CRLF line ends and blank lines. Anything else (signs, exponents, quotes, spaces,
missing fields) makes it report failure, and the caller falls back to the general readers, which
either parse the unusual form or name the bad line.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import IO

import numba
import numpy as np

from matinee.data._columns import MIN_ROW_BYTES, RatingsColumns, RawRatings

__all__ = ["BLOCK_BYTES", "parse_strict"]

BLOCK_BYTES = 32 << 20
"""Bytes of text parsed per block: large enough to keep both cores busy, small beside the data."""

_NEWLINE, _RETURN, _DOT, _ZERO = 10, 13, 46, 48
_ID_DIGITS, _TIME_DIGITS, _DECIMALS = 9, 18, 4
_FAILED = -1
_TENTHS = np.array([1.0, 0.1, 0.01, 0.001, 0.0001])


@numba.njit(nogil=True, cache=True, inline="always")
def _unsigned(buf: np.ndarray, i: int, max_digits: int) -> tuple[int, int]:
    """Digits from ``i``: their value and the position after them (``_FAILED``: none, too many).

    Needs no end check: every span ends in a newline, which stops the digits.
    """
    if i < 0:
        return 0, _FAILED
    value, start = 0, i
    digit = buf[i] - _ZERO
    while 0 <= digit <= 9:
        value = value * 10 + digit
        i += 1
        digit = buf[i] - _ZERO
    if i == start or i - start > max_digits:
        return 0, _FAILED
    return value, i


@numba.njit(nogil=True, cache=True, inline="always")
def _separator(buf: np.ndarray, i: int, first: int, length: int) -> int:
    """Position after the separator (``first`` repeated ``length`` times) at ``i``, or failed."""
    if i < 0:
        return _FAILED
    for j in range(length):
        if buf[i + j] != first:
            return _FAILED
    return i + length


@numba.njit(nogil=True, cache=True, inline="always")
def _decimal(buf: np.ndarray, i: int) -> tuple[float, int]:
    """A rating such as ``4`` or ``3.5``: its value and the position after it."""
    whole, i = _unsigned(buf, i, _ID_DIGITS)
    if i < 0 or buf[i] != _DOT:
        return float(whole), i
    fraction, after = _unsigned(buf, i + 1, _DECIMALS)
    if after < 0:
        return 0.0, _FAILED
    return whole + fraction * _TENTHS[after - i - 1], after


@numba.njit(nogil=True, cache=True)
def _count_newlines(buf: np.ndarray, start: int, end: int) -> int:
    """Newlines in ``buf[start:end]``: the most rows the span can hold (blank lines hold none)."""
    count = 0
    for i in range(start, end):
        count += buf[i] == _NEWLINE
    return count


@numba.njit(nogil=True, cache=True)
def _parse_span(
    buf: np.ndarray,
    start: int,
    end: int,
    separator: tuple[int, int],
    columns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    row: int,
    rows: int,
) -> int:
    """Parse the lines of ``buf[start:end]`` (ending in a newline) into ``columns`` from ``row``.

    Returns the number of rows parsed (at most ``rows``), or -1 when a line is not in the strict
    form.
    """
    first_row, stop = row, row + rows
    user, movie, rating, timestamp = columns
    first, length = separator
    i = start
    while i < end:
        if buf[i] == _NEWLINE or buf[i] == _RETURN:
            i += 1
            continue
        if row == stop:
            return _FAILED
        user_id, i = _unsigned(buf, i, _ID_DIGITS)
        movie_id, i = _unsigned(buf, _separator(buf, i, first, length), _ID_DIGITS)
        value, i = _decimal(buf, _separator(buf, i, first, length))
        time, i = _unsigned(buf, _separator(buf, i, first, length), _TIME_DIGITS)
        if i < 0:
            return _FAILED
        if buf[i] == _RETURN:
            i += 1
        if buf[i] != _NEWLINE:
            return _FAILED
        user[row], movie[row], rating[row], timestamp[row] = user_id, movie_id, value, time
        row += 1
        i += 1
    return row - first_row


@numba.njit(nogil=True, cache=True)
def _line_bounds(buf: np.ndarray, end: int, parts: int) -> np.ndarray:
    """``parts + 1`` offsets splitting ``buf[:end]`` after newlines into about equal spans."""
    bounds = np.zeros(parts + 1, dtype=np.int64)
    bounds[parts] = end
    for k in range(1, parts):
        i = max(bounds[k - 1], end * k // parts)
        while 0 < i < end and buf[i - 1] != _NEWLINE:
            i += 1
        bounds[k] = i
    return bounds


SPANS_PER_THREAD = 4
"""Spans of a block per worker thread, so that a thread slowed by other work delays little."""

MIN_SPAN_BYTES = 1 << 16
"""Smallest span worth a task of its own."""

_Columns4 = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def parse_strict(
    stream: IO[bytes], size: int, separator: str, *, skip_header: bool
) -> RawRatings | None:
    """Parse a ratings stream block by block; None when a line needs the general readers.

    Each block is cut into spans of whole lines that worker threads count, then parse straight
    into their rows of the output (the kernels release the GIL). ``size`` (the stream's length)
    sizes the reserved columns; only their written pages cost memory, so the peak is the
    output plus one block of text.
    """
    if skip_header:
        stream.readline()
    if len(set(separator)) != 1:
        return None
    sep = (ord(separator[0]), len(separator))
    room = min(BLOCK_BYTES, size + 1)
    buffer = np.empty(room + 1, dtype=np.uint8)  # one more byte for a final newline
    columns = RatingsColumns()
    columns.reserve(size // MIN_ROW_BYTES + 1024)
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    kept = 0
    with ThreadPoolExecutor(threads) as pool:
        while True:
            filled = kept + _read_into(stream, buffer[kept:room])
            at_end = filled < room
            end = _after_last_newline(buffer, filled)
            if at_end and end < filled:
                buffer[filled] = _NEWLINE
                end = filled + 1
            if end == 0 and not at_end:
                return None  # a line longer than a block is no plain ratings row
            spans = max(1, min(threads * SPANS_PER_THREAD, end // MIN_SPAN_BYTES))
            if not _parse_spans(pool, buffer, _line_bounds(buffer, end, spans), sep, columns):
                return None
            if at_end:
                return columns.result()
            kept = filled - end
            buffer[:kept] = buffer[end:filled]


def _parse_spans(
    pool: ThreadPoolExecutor,
    buffer: np.ndarray,
    bounds: np.ndarray,
    separator: tuple[int, int],
    columns: RatingsColumns,
) -> bool:
    """Parse every span at an offset that leaves room for all its lines; False on doubt.

    Blank lines leave gaps at the ends of their spans, closed afterwards.
    """
    starts, ends = bounds[:-1].tolist(), bounds[1:].tolist()
    room = list(pool.map(_count_newlines, itertools.repeat(buffer), starts, ends))
    columns.make_room(sum(room))
    offsets = (columns.n + np.cumsum([0, *room[:-1]])).tolist()
    user, movie, rating, timestamp = columns.arrays
    arrays: _Columns4 = (user, movie, rating, timestamp)
    parsed = list(
        pool.map(
            _parse_span,
            itertools.repeat(buffer),
            starts,
            ends,
            itertools.repeat(separator),
            itertools.repeat(arrays),
            offsets,
            room,
        )
    )
    if min(parsed) < 0:
        return False
    write = columns.n
    for offset, rows in zip(offsets, parsed, strict=True):
        if write != offset:
            for array in arrays:
                array[write : write + rows] = array[offset : offset + rows]
        write += rows
    columns.n = write
    return True


def _read_into(stream: IO[bytes], view: np.ndarray) -> int:
    """Fill ``view`` from the stream as far as it goes; the number of bytes read."""
    memory, done = view.data, 0
    while done < view.size:
        got = stream.readinto(memory[done:])  # type: ignore[attr-defined]
        if not got:
            break
        done += got
    return done


def _after_last_newline(buffer: np.ndarray, filled: int) -> int:
    """The position just past the last newline in ``buffer[:filled]`` (0 when there is none)."""
    window = 1 << 16
    for stop in range(filled, 0, -window):
        hits = np.flatnonzero(buffer[max(0, stop - window) : stop] == _NEWLINE)
        if hits.size:
            return max(0, stop - window) + int(hits[-1]) + 1
    return 0
