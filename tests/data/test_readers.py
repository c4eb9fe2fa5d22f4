from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matinee.data._ratings_text as ratings_text
import matinee.data._strict_text as strict_text
import matinee.data.readers as readers
from matinee.data.dataset import MOVIE_COLUMNS, Dataset
from matinee.data.readers import (
    Source,
    map_ids,
    read_csv_release,
    read_ml1m,
    read_ml10m,
    read_ml100k,
)
from matinee.errors import MalformedFileError

HALF = (0.5, 5.0)
STARS = (1.0, 5.0)


def python_ratings(path: Path, separator: str, header: bool) -> np.ndarray:
    """An independent, slow parse: (user, movie, rating, time) rows as float64."""
    lines = path.read_text(encoding="latin-1").splitlines()[1 if header else 0 :]
    return np.array([[float(x) for x in line.split(separator)] for line in lines if line])


def raw_rows(dataset: Dataset) -> np.ndarray:
    frame = dataset.ratings.to_polars()
    return frame.select(pl.all().cast(pl.Float64)).to_numpy()


@pytest.fixture(scope="module")
def ml100k(mirror: Path) -> Dataset:
    return read_ml100k(Source(mirror / "ml-100k"), name="ml-100k", rating_scale=STARS)


def test_ml100k_counts_and_rows(ml100k: Dataset, mirror: Path) -> None:
    ratings = ml100k.ratings
    assert (len(ratings), ratings.n_users, ratings.n_movies) == (100_000, 943, 1_682)
    assert ratings.rating_scale == STARS
    expected = python_ratings(mirror / "ml-100k" / "u.data", "\t", header=False)
    np.testing.assert_array_equal(raw_rows(ml100k), expected)


def test_ml100k_dtypes(ml100k: Dataset) -> None:
    ratings = ml100k.ratings
    assert ratings.user_idx.dtype == np.int32
    assert ratings.movie_idx.dtype == np.int32
    assert ratings.rating.dtype == np.float32
    assert ratings.timestamp.dtype == np.int64
    assert ml100k.movies.columns == list(MOVIE_COLUMNS)
    assert dict(ml100k.movies.schema) == {
        "movie_id": pl.Int64,
        "title": pl.String,
        "year": pl.Int32,
        "genres": pl.List(pl.String),
        "imdb_id": pl.Int64,
        "tmdb_id": pl.Int64,
    }


def test_ml100k_movies_users_and_genres(ml100k: Dataset) -> None:
    movies = ml100k.movies
    assert movies.height == 1_682
    toy_story = movies.row(0, named=True)
    assert toy_story["title"] == "Toy Story (1995)"
    assert toy_story["year"] == 1995
    assert toy_story["genres"] == ["Animation", "Children's", "Comedy"]
    assert movies.filter(pl.col("year").is_null())["title"].to_list() == ["unknown"]
    assert ml100k.users is not None
    assert ml100k.users.height == 943
    assert ml100k.users.row(0) == (1, 24, "M", "technician", "85711")
    assert ml100k.tags is None


def test_ml100k_latin1_titles(ml100k: Dataset) -> None:
    titles = ml100k.movies["title"].to_list()
    assert any("é" in title for title in titles)


def test_ml_latest_small_from_zip(mirror: Path) -> None:
    source = Source(mirror / "ml-latest-small.zip", "ml-latest-small/")
    dataset = read_csv_release(source, name="ml-latest-small", rating_scale=HALF)
    ratings = dataset.ratings
    assert (len(ratings), ratings.n_users, ratings.n_movies) == (100_836, 610, 9_724)
    assert dataset.movies.height == 9_742
    assert dataset.tags is not None
    assert dataset.tags.height == 3_683
    toy_story = dataset.movies.row(0, named=True)
    assert (toy_story["imdb_id"], toy_story["tmdb_id"]) == (114709, 862)
    assert toy_story["genres"] == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]
    no_genres = dataset.movies.filter(pl.col("genres").list.len() == 0)
    assert no_genres.height > 0  # "(no genres listed)" became an empty list
    np.testing.assert_array_equal(np.unique(ratings.rating), np.arange(1, 11) / 2)


def test_ml_latest_small_2016(mirror: Path) -> None:
    source = Source(mirror / "ml-latest-small-2016" / "ml-latest-small.zip", "ml-latest-small/")
    dataset = read_csv_release(source, name="ml-latest-small-2016", rating_scale=HALF)
    ratings = dataset.ratings
    assert (len(ratings), ratings.n_users, ratings.n_movies) == (100_004, 671, 9_066)
    assert dataset.movies.height == 9_125
    assert dataset.tags is not None and dataset.tags.height == 1_296


def test_zip_and_unpacked_folder_read_the_same(mirror: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(mirror / "ml-latest-small.zip") as archive:
        archive.extractall(tmp_path)
    from_zip = read_csv_release(
        Source(mirror / "ml-latest-small.zip", "ml-latest-small/"), name="a", rating_scale=HALF
    )
    from_folder = read_csv_release(
        Source(tmp_path / "ml-latest-small"), name="a", rating_scale=HALF
    )
    assert from_zip.ratings.fingerprint() == from_folder.ratings.fingerprint()
    assert from_zip.movies.equals(from_folder.movies)


def test_ml1m_sample(mirror: Path) -> None:
    folder = mirror / "samples" / "ml-1m"
    dataset = read_ml1m(Source(folder), name="ml-1m", rating_scale=STARS)
    expected = python_ratings(folder / "ratings.dat", "::", header=False)
    np.testing.assert_array_equal(raw_rows(dataset), expected)
    movies = dataset.movies
    assert movies.height == 3_883
    assert movies.filter(pl.col("movie_id") == 73)["title"].item() == "Misérables, Les (1995)"
    assert movies.row(0, named=True)["genres"] == ["Animation", "Children's", "Comedy"]
    users = dataset.users
    assert users is not None and users.height == 6_040
    assert users.row(0) == (1, 1, "F", "K-12 student", "48067")


def test_ml10m_sample_last_line_without_newline(mirror: Path) -> None:
    folder = mirror / "samples" / "ml-10m"
    assert not (folder / "ratings.dat").read_bytes().endswith(b"\n")
    dataset = read_ml10m(Source(folder), name="ml-10m", rating_scale=HALF)
    expected = python_ratings(folder / "ratings.dat", "::", header=False)
    assert len(dataset.ratings) == len(expected)
    np.testing.assert_array_equal(raw_rows(dataset), expected)
    assert dataset.movies.height == 10_681
    assert dataset.tags is not None and dataset.tags.height == 95_580
    assert dataset.users is None


def test_ml25m_sample_quoted_titles(mirror: Path) -> None:
    folder = mirror / "samples" / "ml-25m"
    dataset = read_csv_release(Source(folder), name="ml-25m", rating_scale=HALF)
    expected = python_ratings(folder / "ratings.csv", ",", header=True)
    np.testing.assert_array_equal(raw_rows(dataset), expected)
    assert (
        len(dataset.ratings) == 10_000
    )  # 10,000 newlines: header + 9,999 rows + a last row without one
    movies = dataset.movies
    assert movies.height == 62_423
    row = movies.filter(pl.col("movie_id") == 11).row(0, named=True)
    assert row["title"] == "American President, The (1995)"
    assert row["year"] == 1995
    assert movies["imdb_id"].null_count() == movies.height  # no links.csv in the sample


def write_csv_release(folder: Path, ratings: str, movies: str | None = None) -> Source:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ratings.csv").write_text(ratings)
    (folder / "movies.csv").write_text(
        movies if movies is not None else "movieId,title,genres\n1,A (1999),Drama\n"
    )
    return Source(folder)


def test_years_parsed_from_titles(tmp_path: Path) -> None:
    movies = (
        "movieId,title,genres\n"
        '1,"Plain, The (1995)",Drama\n'
        "2,No Year,Comedy\n"
        "3,Series (2007-),Drama|Comedy\n"
        "4,Trailing Space (2001) ,(no genres listed)\n"
        "5,1984 (1984),Sci-Fi\n"
    )
    source = write_csv_release(tmp_path, "userId,movieId,rating,timestamp\n1,1,4.0,5\n", movies)
    table = read_csv_release(source, name="t", rating_scale=HALF).movies
    assert table["year"].to_list() == [1995, None, 2007, 2001, 1984]
    assert table["genres"].to_list() == [["Drama"], ["Comedy"], ["Drama", "Comedy"], [], ["Sci-Fi"]]


HEADER = "userId,movieId,rating,timestamp\n"


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        (HEADER + "1,1,4.0,5\n1,2,3.5\n", 3, "expected 4 fields"),
        (HEADER + "1,1,4.0,5\n1,2,3.5,6\n2,x,1.0,7\n", 4, "cannot parse"),
        (HEADER + "1,1,4.0,5\n1,2,5.5,6\n", 3, "outside the release scale"),
        (HEADER + "1,1,0.0,5\n", 2, "outside the release scale"),
        (HEADER + "1,1,4.0,5\n-3,2,3.0,6\n", 3, "ids must be"),
        (HEADER + "1,1,4.0,5\n1,,3.0,6\n", 3, "cannot parse"),
        (HEADER + "1,1,4.0,5\n1,2,3.0,6,9\n", 3, "expected 4 fields"),
        ("user,movie,rating,time\n1,1,4.0,5\n", 1, "header"),
    ],
    ids=["short", "letters", "above-scale", "zero", "negative", "empty", "long", "header"],
)
def test_malformed_csv_names_file_and_line(
    tmp_path: Path, body: str, line: int, problem: str
) -> None:
    source = write_csv_release(tmp_path, body)
    with pytest.raises(MalformedFileError) as caught:
        read_csv_release(source, name="t", rating_scale=HALF)
    assert caught.value.line == line
    assert caught.value.path.endswith("ratings.csv")
    assert problem in caught.value.problem
    assert f"line {line}" in str(caught.value)


def test_malformed_tab_file_and_scale(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("1\t1\t3\t5\n2\t1\t4.5\t6\n")
    source = Source(tmp_path)
    with pytest.raises(MalformedFileError) as caught:
        readers.read_raw_ratings(source, "u.data", readers.TAB_RATINGS, rating_scale=(1.0, 4.0))
    assert caught.value.line == 2


def test_malformed_dat_file(tmp_path: Path) -> None:
    (tmp_path / "ratings.dat").write_text("1::1::3::5\n1::2::4::6\n1:3::4::7\n")
    with pytest.raises(MalformedFileError) as caught:
        readers.read_raw_ratings(
            Source(tmp_path), "ratings.dat", readers.DAT_RATINGS, rating_scale=STARS
        )
    assert caught.value.line == 3
    assert "found 3" in caught.value.problem


def test_malformed_side_table_names_file(tmp_path: Path) -> None:
    source = write_csv_release(
        tmp_path, HEADER + "1,1,4.0,5\n", "movieId,title,genres\n1,A (1999),Drama\nx,B,Comedy\n"
    )
    with pytest.raises(MalformedFileError) as caught:
        read_csv_release(source, name="t", rating_scale=HALF)
    assert caught.value.path.endswith("movies.csv")


def test_blank_lines_and_crlf_are_accepted(tmp_path: Path) -> None:
    source = write_csv_release(tmp_path, HEADER + "1,10,4.0,5\r\n\r\n2,20,3.5,6\r\n\n")
    ratings = read_csv_release(source, name="t", rating_scale=HALF).ratings
    assert ratings.to_polars().rows() == [(1, 10, 4.0, 5), (2, 20, 3.5, 6)]


def test_empty_ratings_file(tmp_path: Path) -> None:
    source = write_csv_release(tmp_path, HEADER)
    ratings = read_csv_release(source, name="t", rating_scale=HALF).ratings
    assert len(ratings) == 0
    assert ratings.n_users == 0


@settings(max_examples=25, deadline=None)
@given(block=st.integers(min_value=40, max_value=400), trailing_newline=st.booleans())
def test_block_boundaries_do_not_change_the_result(
    tmp_path_factory: pytest.TempPathFactory, block: int, trailing_newline: bool
) -> None:
    rng = np.random.default_rng(block)
    rows = [
        f"{rng.integers(1, 50)},{rng.integers(1, 500)},{rng.integers(1, 11) / 2},{i}"
        for i in range(300)
    ]
    body = HEADER + "\n".join(rows) + ("\n" if trailing_newline else "")
    folder = tmp_path_factory.mktemp("blocks")
    source = write_csv_release(folder, body)
    expected = np.array([[float(x) for x in row.split(",")] for row in rows])
    original = ratings_text.BLOCK_BYTES, strict_text.BLOCK_BYTES
    ratings_text.BLOCK_BYTES = strict_text.BLOCK_BYTES = block
    try:
        raw = readers.read_raw_ratings(
            source, "ratings.csv", readers.CSV_RATINGS, rating_scale=HALF
        )
        zipped = folder / "ratings.zip"
        with zipfile.ZipFile(zipped, "w") as archive:
            archive.write(folder / "ratings.csv", "ratings.csv")
        streamed = readers.read_raw_ratings(
            Source(zipped), "ratings.csv", readers.CSV_RATINGS, rating_scale=HALF
        )
    finally:
        ratings_text.BLOCK_BYTES, strict_text.BLOCK_BYTES = original
    for parsed in (raw, streamed):
        got = np.column_stack([parsed.user_id, parsed.movie_id, parsed.rating, parsed.timestamp])
        np.testing.assert_array_equal(got, expected)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=5_000), max_size=200))
def test_map_ids_is_a_dense_ordered_mapping(values: list[int]) -> None:
    raw = np.array(values, dtype=np.int32)
    id_map, indices = map_ids(raw.copy(), kind="user", in_place=True)
    assert indices.dtype == np.int32
    np.testing.assert_array_equal(id_map.raw_ids, np.unique(raw))
    np.testing.assert_array_equal(id_map.raw_ids[indices], raw)


def test_map_ids_with_negative_ids() -> None:
    id_map, indices = map_ids(np.array([5, -2, 5], dtype=np.int32), kind="user")
    assert id_map.raw_ids.tolist() == [-2, 5]
    assert indices.tolist() == [1, 0, 1]


def test_map_ids_with_sparse_huge_ids() -> None:
    raw = np.array([2**31 - 1, 7, 2**31 - 1, 0], dtype=np.int32)
    id_map, indices = map_ids(raw, kind="movie")
    assert id_map.raw_ids.tolist() == [0, 7, 2**31 - 1]
    assert indices.tolist() == [2, 1, 2, 0]


def test_an_empty_field_names_its_line(tmp_path: Path) -> None:
    source = write_csv_release(tmp_path, HEADER + "1,10,4.0,5\n2,,3.5,6\n")
    with pytest.raises(MalformedFileError, match=r"line 3"):
        read_csv_release(source, name="t", rating_scale=HALF)
