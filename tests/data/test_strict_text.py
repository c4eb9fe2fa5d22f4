"""The strict compiled ratings parser agrees with pyarrow's general reader, or steps aside."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matinee.data._strict_text as strict_text
from matinee.data._columns import RawRatings
from matinee.data._ratings_text import (
    CSV_RATINGS,
    DAT_RATINGS,
    TAB_RATINGS,
    RatingsFormat,
    Source,
    parse_general,
    read_raw_ratings,
)
from matinee.errors import MalformedFileError

HEADER = "userId,movieId,rating,timestamp\n"


def strict(text: str, fmt: RatingsFormat) -> RawRatings | None:
    data = text.encode()
    return strict_text.parse_strict(
        io.BytesIO(data), len(data), fmt.separator, skip_header=bool(fmt.header)
    )


def general(tmp_path: Path, text: str, fmt: RatingsFormat) -> RawRatings:
    (tmp_path / "ratings.txt").write_text(text)
    return parse_general(Source(tmp_path), "ratings.txt", fmt)


def assert_same(got: RawRatings, expected: RawRatings) -> None:
    for field in ("user_id", "movie_id", "rating", "timestamp"):
        left, right = getattr(got, field), getattr(expected, field)
        assert left.dtype == right.dtype, field
        np.testing.assert_array_equal(left, right, err_msg=field)


@pytest.mark.parametrize(
    ("folder", "name", "fmt"),
    [
        ("ml-100k", "u.data", TAB_RATINGS),
        ("samples/ml-1m", "ratings.dat", DAT_RATINGS),
        ("samples/ml-10m", "ratings.dat", DAT_RATINGS),
        ("samples/ml-25m", "ratings.csv", CSV_RATINGS),
    ],
)
def test_real_release_files_parse_as_the_general_reader_does(
    mirror: Path, folder: str, name: str, fmt: RatingsFormat
) -> None:
    source = Source(mirror / folder)
    with source.open(name) as stream:
        got = strict_text.parse_strict(
            stream, source.size(name), fmt.separator, skip_header=bool(fmt.header)
        )
    assert got is not None
    assert got.user_id.size > 0
    assert_same(got, parse_general(source, name, fmt))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 999_999_999),
            st.integers(0, 999_999_999),
            st.integers(0, 50).map(lambda half: half / 2),
            st.integers(0, 10**12),
            st.sampled_from(["\n", "\r\n", "\n\n", "\r\n\r\n"]),
        ),
        max_size=60,
    ),
    decimals=st.sampled_from(["{:.0f}", "{:.1f}", "{:.2f}", "{:g}"]),
    last_newline=st.booleans(),
    block=st.integers(min_value=64, max_value=512),
)
def test_any_plain_rows_parse_exactly(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[int, int, float, int, str]],
    decimals: str,
    last_newline: bool,
    block: int,
) -> None:
    body = "".join(
        f"{user},{movie},{decimals.format(rating)},{time}{end}"
        for user, movie, rating, time, end in rows
    )
    if not last_newline:
        body = body.rstrip("\r\n")
    original = strict_text.BLOCK_BYTES
    strict_text.BLOCK_BYTES = block
    try:
        got = strict(HEADER + body, CSV_RATINGS)
    finally:
        strict_text.BLOCK_BYTES = original
    assert got is not None
    assert_same(got, general(tmp_path_factory.mktemp("rows"), HEADER + body, CSV_RATINGS))


@pytest.mark.parametrize(
    ("row", "parsed"),
    [
        ("1,10,3.125,5", (1, 10, 3.125, 5)),  # unusual only in its decimals
        ("1,10,3.12345,5", (1, 10, np.float32(3.12345), 5)),
        ("1,10,4e0,5", (1, 10, 4.0, 5)),
        ("1,10,4.0,-5", (1, 10, 4.0, -5)),
        ("1, 10,4.0,5", (1, 10, 4.0, 5)),
        ("+1,10,4.0,5", None),  # pyarrow takes no sign on integers
        ("1_0,10,4.0,5", None),
    ],
)
def test_unusual_forms_step_aside_for_the_general_reader(
    tmp_path: Path, row: str, parsed: tuple[float, ...] | None
) -> None:
    text = HEADER + "2,20,3.5,6\n" + row + "\n"
    if row != "1,10,3.125,5":
        assert strict(text, CSV_RATINGS) is None
    (tmp_path / "ratings.csv").write_text(text)
    if parsed is None:
        with pytest.raises(MalformedFileError, match="line 3"):
            read_raw_ratings(Source(tmp_path), "ratings.csv", CSV_RATINGS, rating_scale=(0, 5))
        return
    raw = read_raw_ratings(Source(tmp_path), "ratings.csv", CSV_RATINGS, rating_scale=(0, 5))
    last = (raw.user_id[1], raw.movie_id[1], raw.rating[1], raw.timestamp[1])
    assert last == parsed


@pytest.mark.parametrize(
    "row",
    ["1,10,4.0", "1,10,4.0,5,6", "1,,4.0,5", "a,10,4.0,5", "1,10,4.0,5x", "1;10;4.0;5"],
)
def test_malformed_rows_are_refused(row: str) -> None:
    assert strict(HEADER + "2,20,3.5,6\n" + row + "\n", CSV_RATINGS) is None


def test_double_colon_separator_needs_both_colons() -> None:
    assert strict("1::10::4::5\n", DAT_RATINGS) is not None
    assert strict("1:10::4::5\n", DAT_RATINGS) is None


def test_ids_too_long_for_int32_are_refused() -> None:
    assert strict(HEADER + "1234567890,1,4.0,5\n", CSV_RATINGS) is None


def test_an_empty_file_gives_empty_columns() -> None:
    got = strict(HEADER, CSV_RATINGS)
    assert got is not None
    assert got.user_id.size == 0
