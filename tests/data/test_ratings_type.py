"""Ratings and IdMap: matrix views, compact, take, fingerprint, unknown ids."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee.data.ids import IdMap
from matinee.data.ratings import DENSE_LIMIT, Ratings
from matinee.errors import DataError, UnknownIdError


@st.composite
def ratings_data(draw: st.DrawFn) -> Ratings:
    pairs = draw(
        st.lists(
            st.tuples(st.integers(-5, 10**9), st.integers(1, 60)),
            min_size=1,
            max_size=50,
            unique=True,
        )
    )
    values = draw(st.lists(st.integers(1, 10), min_size=len(pairs), max_size=len(pairs)))
    users, movies = zip(*pairs, strict=True)
    return Ratings.from_raw(users, movies, np.array(values) / 2, np.arange(len(pairs)))


def one_rating(users: list[int], movies: list[int], user: int, movie: int) -> Ratings:
    return Ratings(
        np.array([user]),
        np.array([movie]),
        np.array([4.0]),
        np.array([7]),
        IdMap(users, kind="user"),
        IdMap(movies, kind="movie"),
    )


class TestIdMap:
    def test_from_values_indexes_sorted_unique_ids(self) -> None:
        ids, index = IdMap.from_values([30, 10, 30, 20], kind="movie")
        assert ids.raw_ids.tolist() == [10, 20, 30]
        assert index.tolist() == [2, 0, 2, 1]
        assert index.dtype == np.int32
        assert ids.raw(index).tolist() == [30, 10, 30, 20]

    def test_unsorted_or_repeated_ids_are_sorted_and_deduplicated(self) -> None:
        assert IdMap([5, 1, 5, 3]).raw_ids.tolist() == [1, 3, 5]
        assert IdMap([1, 1, 2]).raw_ids.tolist() == [1, 2]
        assert IdMap([3, 1]) == IdMap([1, 3])
        assert hash(IdMap([3, 1])) == hash(IdMap([1, 3]))
        assert IdMap([1, 2]) != IdMap([1, 2, 3])

    def test_raw_ids_are_read_only(self) -> None:
        ids = IdMap([1, 2])
        with pytest.raises(ValueError, match="read-only"):
            ids.raw_ids[0] = 9

    def test_unknown_raw_ids_are_all_listed_once(self) -> None:
        ids = IdMap([10, 20, 30], kind="movie")
        with pytest.raises(UnknownIdError, match=r"unknown movie id\(s\): 5, 99") as caught:
            ids.indices([10, 5, 99, 5])
        assert caught.value.ids == [5, 99]
        assert isinstance(caught.value, KeyError)

    def test_many_unknown_ids_are_summarised(self) -> None:
        with pytest.raises(UnknownIdError, match=r"\(and 15 more\)"):
            IdMap([1]).indices(np.arange(100, 125))

    def test_out_of_range_indices_are_unknown(self) -> None:
        ids = IdMap([10, 20], kind="user")
        with pytest.raises(UnknownIdError, match="unknown user index"):
            ids.raw([0, 2, -1])

    def test_integral_floats_are_ids_and_fractions_are_not(self) -> None:
        ids = IdMap([1, 2, 3])
        assert ids.indices(np.array([3.0, 1.0])).tolist() == [2, 0]
        with pytest.raises(UnknownIdError, match=r"1\.5"):
            ids.indices(np.array([1.5]))

    @pytest.mark.parametrize("bad", [np.array([np.nan]), np.array(["x"])], ids=["nan", "str"])
    def test_non_numeric_ids_are_unknown(self, bad: np.ndarray) -> None:
        with pytest.raises(UnknownIdError):
            IdMap([1, 2, 3]).indices(bad)

    def test_membership_and_lookup(self) -> None:
        ids = IdMap([10, 20])
        assert 10 in ids
        assert np.int64(20) in ids
        assert 15 not in ids
        assert "10" not in ids
        assert ids.index(20) == 1
        assert len(ids) == 2

    def test_empty_map(self) -> None:
        empty = IdMap([])
        assert empty.indices([]).size == 0
        with pytest.raises(UnknownIdError):
            empty.indices([1])
        assert 1 not in empty

    def test_subset_gives_a_map_and_a_translation_table(self) -> None:
        ids, table = IdMap([10, 20, 30]).subset(np.array([True, False, True]))
        assert ids.raw_ids.tolist() == [10, 30]
        assert table.tolist() == [0, -1, 1]

    def test_two_dimensional_ids_are_refused(self) -> None:
        with pytest.raises(ValueError, match="one-dimensional"):
            IdMap([[1, 2]])


class TestRatings:
    def test_from_raw_maps_ids(self, tiny: Ratings) -> None:
        assert (len(tiny), tiny.n_users, tiny.n_movies) == (12, 5, 4)
        assert tiny.users.raw_ids.tolist() == [1, 2, 3, 4, 5]
        assert tiny.movies.raw_ids.tolist() == [10, 20, 30, 40]
        assert tiny.rating_scale == (1.0, 5.0)
        assert tiny.density == pytest.approx(12 / 20)
        assert tiny.mean() == pytest.approx(40 / 12)
        assert tiny.user_counts().tolist() == [3, 2, 3, 2, 2]
        assert tiny.movie_counts().tolist() == [3, 3, 3, 3]

    def test_columns_are_read_only(self, tiny: Ratings) -> None:
        for column in (tiny.user_idx, tiny.movie_idx, tiny.rating, tiny.timestamp):
            with pytest.raises(ValueError, match="read-only"):
                column[0] = 0

    def test_columns_of_different_length_are_refused(self) -> None:
        with pytest.raises(DataError, match="differ in length"):
            Ratings.from_raw([1, 2], [1, 2], [3.0])

    def test_indices_outside_the_maps_are_refused(self) -> None:
        with pytest.raises(DataError, match="outside their id maps"):
            one_rating([1], [1], 1, 0)
        with pytest.raises(DataError, match="outside their id maps"):
            one_rating([1], [1], 0, -1)

    def test_take_keeps_the_id_maps(self, tiny: Ratings) -> None:
        by_mask = tiny.take(tiny.rating >= 4)
        by_rows = tiny.take(np.flatnonzero(tiny.rating >= 4))
        assert len(by_mask) == len(by_rows) == 6
        assert by_mask.users == tiny.users
        assert by_mask.movies == tiny.movies
        assert by_mask.fingerprint() == by_rows.fingerprint()

    def test_compact_drops_unrated_ids_and_keeps_rows(self, tiny: Ratings) -> None:
        part = tiny.take(tiny.user_idx != 1)
        compact = part.compact()
        assert compact.users.raw_ids.tolist() == [1, 3, 4, 5]
        assert compact.n_movies == 4
        assert compact.to_polars().equals(part.to_polars())
        assert compact.compact() is compact

    def test_compact_of_nothing_is_empty(self, tiny: Ratings) -> None:
        empty = tiny.take(np.zeros(len(tiny), dtype=bool)).compact()
        assert (len(empty), empty.n_users, empty.n_movies) == (0, 0, 0)
        assert empty.mean() == 0.0
        assert empty.density == 0.0
        assert empty.user_movie_matrix().shape == (0, 0)

    def test_user_movie_matrix_holds_each_rating(self, tiny: Ratings) -> None:
        matrix = tiny.user_movie_matrix()
        assert matrix.shape == (5, 4)
        assert matrix.nnz == 12
        user, movie = tiny.users.index(3), tiny.movies.index(40)
        assert matrix[user, movie] == 1.0
        assert matrix is tiny.user_movie_matrix()
        transposed = tiny.movie_user_matrix()
        assert transposed.shape == (4, 5)
        np.testing.assert_array_equal(transposed.toarray(), matrix.toarray().T)
        assert transposed.has_sorted_indices

    def test_dense_pivot_matches_the_sparse_one(self, tiny: Ratings) -> None:
        dense = tiny.dense()
        np.testing.assert_array_equal(dense, tiny.user_movie_matrix().toarray())
        np.testing.assert_array_equal(tiny.dense(movies_by_users=True), dense.T)
        filled = tiny.dense(fill=np.nan)
        assert np.count_nonzero(~np.isnan(filled)) == 12

    def test_dense_pivot_refuses_big_data(self) -> None:
        big = one_rating(list(range(10_000)), list(range(DENSE_LIMIT // 10_000 + 1)), 0, 0)
        with pytest.raises(DataError, match="over the"):
            big.dense()

    def test_fingerprint_follows_the_data(self, tiny: Ratings) -> None:
        same = Ratings.from_raw(
            tiny.users.raw_ids[tiny.user_idx],
            tiny.movies.raw_ids[tiny.movie_idx],
            tiny.rating,
            tiny.timestamp,
            rating_scale=(1.0, 5.0),
        )
        assert same.fingerprint() == tiny.fingerprint()
        changed = [
            tiny.with_ratings(np.where(np.arange(12) == 0, 4.0, tiny.rating)),
            Ratings.from_raw([1], [10], [5.0], [0], rating_scale=(1.0, 5.0)),
            Ratings(*_columns(tiny), tiny.users, tiny.movies, (0.5, 5.0)),
            tiny.take(np.arange(11)),
        ]
        assert len({r.fingerprint() for r in changed} | {tiny.fingerprint()}) == 5

    def test_fingerprint_tells_id_maps_apart(self) -> None:
        first = one_rating([1, 2], [3], 0, 0)
        second = one_rating([1], [2, 3], 0, 0)
        assert not first.to_polars().equals(second.to_polars())
        assert first.fingerprint() != second.fingerprint()

    def test_to_polars_with_raw_ids_or_indices(self, tiny: Ratings) -> None:
        raw = tiny.to_polars()
        assert raw.columns == ["user_id", "movie_id", "rating", "timestamp"]
        assert raw.row(0) == (1, 10, 5.0, 0)
        indexed = tiny.to_polars(raw_ids=False)
        assert indexed.columns == ["user_idx", "movie_idx", "rating", "timestamp"]
        assert indexed.row(0) == (0, 0, 5.0, 0)

    def test_with_ratings_keeps_rows_and_maps(self, tiny: Ratings) -> None:
        doubled = tiny.with_ratings(tiny.rating * 2)
        np.testing.assert_array_equal(doubled.rating, tiny.rating * 2)
        np.testing.assert_array_equal(doubled.user_idx, tiny.user_idx)
        assert doubled.users == tiny.users

    def test_repr_gives_sizes(self, tiny: Ratings) -> None:
        assert repr(tiny) == "Ratings(n=12, users=5, movies=4, scale=(1.0, 5.0))"


def _columns(ratings: Ratings) -> tuple[np.ndarray, ...]:
    return ratings.user_idx, ratings.movie_idx, ratings.rating, ratings.timestamp


@given(ratings_data())
@settings(deadline=None)
def test_raw_rows_survive_indexing_views_and_compaction(ratings: Ratings) -> None:
    frame = ratings.to_polars()
    assert frame.height == len(ratings)
    matrix = ratings.user_movie_matrix()
    users = ratings.users.indices(frame["user_id"].to_numpy())
    movies = ratings.movies.indices(frame["movie_id"].to_numpy())
    np.testing.assert_array_equal(np.asarray(matrix[users, movies]).ravel(), ratings.rating)
    assert matrix.nnz == len(ratings)
    if ratings.n_users * ratings.n_movies <= DENSE_LIMIT:
        np.testing.assert_array_equal(ratings.dense(), matrix.toarray())
    half = ratings.take(np.arange(len(ratings)) % 2 == 0)
    assert half.compact().to_polars().equals(half.to_polars())
    assert np.all(half.compact().user_counts() > 0)


def test_matrix_on_other_maps_drops_unknown_ids_and_maps_the_rest() -> None:
    ratings = Ratings.from_raw([10, 10, 20, 30], [1, 2, 2, 3], [4.0, 3.0, 5.0, 2.0], [0, 1, 2, 3])
    users, movies = IdMap([10, 30], kind="user"), IdMap([1, 2, 9], kind="movie")
    matrix = ratings.matrix_on(users, movies)
    expected = np.array([[4.0, 3.0, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    assert matrix.dtype == np.float32 and matrix.has_sorted_indices
    np.testing.assert_array_equal(matrix.toarray(), expected)
    assert ratings.matrix_on(ratings.users, ratings.movies) is ratings.user_movie_matrix()
