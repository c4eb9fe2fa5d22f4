"""ModelBundle: loading, facts, lists for known and new users, similar movies, predict."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from matinee.data.dataset import Dataset
from matinee.errors import ConfigError, ModelFormatError, UnknownIdError
from matinee.service import ListFilters, ModelBundle, Recommendation
from matinee.store.manifest import FORMAT_VERSION

ANIMATED = {"Lion King": 5, "Aladdin (1992)": 5, "Beauty and the Beast": 5}


def rated_by(dataset: Dataset, user_id: int) -> set[int]:
    ratings = dataset.ratings
    user = ratings.users.index(user_id)
    return set(ratings.movies.raw_ids[ratings.movie_idx[ratings.user_idx == user]].tolist())


def test_describe_is_json_ready_and_complete(ease: ModelBundle) -> None:
    facts = ease.describe()
    assert json.loads(json.dumps(facts)) == facts
    assert facts["name"] == "ease" == ease.name
    assert facts["model"] == "ease" and facts["predicts_ratings"] is False
    assert (facts["n_users"], facts["n_movies"]) == (943, 1682)
    assert facts["rating_scale"] == [1.0, 5.0] and facts["format_version"] == FORMAT_VERSION
    assert facts["has_report"] is False and ease.report_dir is None
    expected = {"config", "metrics", "data_fingerprint", "created"}
    assert expected <= set(facts)


def test_report_dir_needs_an_index(saved: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(saved / "baseline", tmp_path / "baseline")
    (copy / "report").mkdir()
    assert ModelBundle.load(copy).report_dir is None
    (copy / "report" / "index.html").write_text("<html></html>")
    bundle = ModelBundle.load(copy)
    assert bundle.report_dir == copy / "report"
    assert bundle.describe()["has_report"] is True


@pytest.mark.parametrize("make", ["missing", "empty", "broken-manifest"])
def test_a_bad_directory_is_a_format_error(tmp_path: Path, make: str) -> None:
    target = tmp_path / "model"
    if make != "missing":
        target.mkdir()
    if make == "broken-manifest":
        (target / "manifest.json").write_text("{not json")
    with pytest.raises(ModelFormatError):
        ModelBundle.load(target)


def test_search_and_movie(ease: ModelBundle) -> None:
    found = ease.search("star wars")
    assert found[0].title == "Star Wars (1977)" and found[0].n_ratings == 583
    assert ease.search("toy stroy")[0].title == "Toy Story (1995)"  # a typo
    assert [m.year for m in ease.search("cape fear (1962)")] == [1962]
    assert len(ease.search("the", limit=3)) == 3
    movie = ease.movie(1)
    assert (movie.title, movie.year, "Animation" in movie.genres) == (
        "Toy Story (1995)",
        1995,
        True,
    )
    with pytest.raises(UnknownIdError, match="999999"):
        ease.movie(999999)
    with pytest.raises(ConfigError, match="empty"):
        ease.search("  ")
    with pytest.raises(ConfigError, match="limit"):
        ease.search("star", limit=0)


def test_known_user_never_gets_a_training_movie_back(ease: ModelBundle, ml100k: Dataset) -> None:
    rows = ease.recommend_user(1, k=20)
    assert [row.rank for row in rows] == list(range(1, 21))
    assert not {row.movie.movie_id for row in rows} & rated_by(ml100k, 1)
    scores = [row.score for row in rows]
    assert scores == sorted(scores, reverse=True)
    assert all(row.predicted_rating is None for row in rows)  # a ranker: no ratings
    assert all(len(row.because) <= 3 for row in rows) and rows[0].because


def test_rating_model_lists_show_ratings_on_the_scale(mf: ModelBundle) -> None:
    for rows in (mf.recommend_user(5, k=30), mf.recommend_new_user({1: 5, 50: 1}, k=30)):
        ratings = [row.predicted_rating for row in rows]
        assert all(r is not None and 1.0 <= r <= 5.0 for r in ratings)


def test_rating_model_lists_follow_the_ranking_score_not_the_rating(mf: ModelBundle) -> None:
    """Lists are ordered by rank_new_user / rank_users; the rating column is predict's.

    Calibration 0: this one-taste person's default ("auto") list is re-ranked to their kind.
    """
    rated = {1: 5.0, 588: 5.0, 71: 4.5}
    rows = mf.recommend_new_user(rated, k=10, calibration=0)
    movies = mf.catalog.indices(list(rated))
    values = np.asarray(list(rated.values()), dtype=np.float32)
    ranking = mf.model.rank_new_user(movies, values)
    ranking[movies] = -np.inf
    best = set(np.argsort(-ranking)[:10].tolist())
    assert set(mf.catalog.indices([row.movie.movie_id for row in rows]).tolist()) == best
    folded = mf.model.score_new_user(movies, values)
    for row in rows:
        index = int(mf.catalog.indices([row.movie.movie_id])[0])
        assert row.score == pytest.approx(float(ranking[index]), rel=1e-5)
        low, high = mf.rating_scale
        assert row.predicted_rating == pytest.approx(float(np.clip(folded[index], low, high)))
    known = mf.recommend_user(1, k=5)
    user_ranking = mf.model.rank_users(mf.model.users_.indices([1]))[0]
    for row in known:
        index = int(mf.catalog.indices([row.movie.movie_id])[0])
        assert row.score == pytest.approx(float(user_ranking[index]), rel=1e-5)


def test_new_user_by_title_gets_children_films_and_reasons(ease: ModelBundle) -> None:
    rows = ease.recommend_new_user(ANIMATED, k=10)
    rated = set(ease.resolve_ratings(ANIMATED))
    assert rated == {71, 95, 588}
    assert not {row.movie.movie_id for row in rows} & rated
    kids = [row for row in rows if {"Animation", "Children's"} & set(row.movie.genres)]
    assert len(kids) >= 6
    assert all({r.movie_id for r in row.because} <= rated for row in rows)
    assert rows[0].because and rows[0].because[0].weight > 0


def test_calibration_is_auto_or_a_number(ease: ModelBundle) -> None:
    """0 is the model's order (scores fall); "auto" and numbers give full lists, none rated."""
    rated = set(ease.resolve_ratings(ANIMATED))
    plain = ease.recommend_new_user(ANIMATED, k=10, calibration=0)
    scores = [row.score for row in plain]
    assert scores == sorted(scores, reverse=True)
    for strength in ("auto", 0.5):
        rows = ease.recommend_new_user(ANIMATED, k=10, calibration=strength)
        assert len(rows) == 10 and not {row.movie.movie_id for row in rows} & rated
    assert len(ease.recommend_user(1, k=10, calibration="auto")) == 10
    with pytest.raises(ConfigError, match="calibration"):
        ease.recommend_new_user(ANIMATED, k=10, calibration="strong")


def test_filters(mf: ModelBundle, ml100k: Dataset) -> None:
    filters = ListFilters(genres=("comedy",), years=(1990, 1995), min_ratings=50, exclude=(1,))
    rows = mf.recommend_new_user({"Star Wars": 5, 181: 4}, k=15, filters=filters)
    assert len(rows) == 15
    for row in rows:
        assert "Comedy" in row.movie.genres and 1990 <= (row.movie.year or 0) <= 1995
        assert row.movie.n_ratings >= 50 and row.movie.movie_id != 1
    counts = dict(
        zip(
            ml100k.ratings.movies.raw_ids.tolist(),
            ml100k.ratings.movie_counts().tolist(),
            strict=True,
        )
    )
    assert all(counts[row.movie.movie_id] == row.movie.n_ratings for row in rows)
    nothing = ListFilters(genres=("no such genre",))
    assert mf.recommend_user(1, filters=nothing) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"min_ratings": -1}, "min_ratings"),
        ({"years": (2000, 1990)}, "empty"),
        ({"exclude": ("1",)}, "integers"),
        ({"min_ratings": True}, "integer"),
    ],
)
def test_bad_filters_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ListFilters(**kwargs)  # type: ignore[arg-type]


def test_similar_leaves_the_movie_out(ease: ModelBundle, mf: ModelBundle) -> None:
    for bundle in (ease, mf):
        rows = bundle.similar(50, k=10)
        ids = [row.movie.movie_id for row in rows]
        assert 50 not in ids and len(ids) == 10
    assert 181 in [row.movie.movie_id for row in ease.similar(50, k=5)]  # Return of the Jedi
    with pytest.raises(UnknownIdError, match="424242"):
        ease.similar(424242)


def test_similar_needs_vectors_or_weights(baseline: ModelBundle) -> None:
    with pytest.raises(ConfigError, match="movie vectors"):
        baseline.similar(1)


def test_predict(mf: ModelBundle, ease: ModelBundle) -> None:
    values = mf.predict(1, [1, 50, 100])
    assert len(values) == 3 and all(1.0 <= v <= 5.0 for v in values)
    model = mf.model
    expected = model.predict([model.users_.index(1)] * 2, model.movies_.indices([1, 50]))  # type: ignore[union-attr]
    assert values[:2] == pytest.approx(expected.tolist())
    assert mf.predict(1, []) == []
    score = ease.predict(1, [50])[0]
    assert score == pytest.approx(float(ease.model.score_users([0])[0, 49]))
    with pytest.raises(UnknownIdError) as caught:
        mf.predict(77777, [1, 99999, 88888])
    assert {"user 77777", "movie 99999", "movie 88888"} <= set(map(str, caught.value.ids))


@pytest.mark.parametrize("k", [0, 1001, True, 2.5])
def test_k_must_be_1_to_1000(ease: ModelBundle, k: object) -> None:
    with pytest.raises(ConfigError, match="1 to 1000"):
        ease.recommend_user(1, k=k)  # type: ignore[arg-type]


def test_unknown_user(ease: ModelBundle) -> None:
    with pytest.raises(UnknownIdError, match="5555555"):
        ease.recommend_user(5555555)


def test_to_dict_flattens_the_movie(ease: ModelBundle) -> None:
    row = ease.recommend_new_user({1: 5}, k=1)[0]
    data = row.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {
        "movie_id", "title", "year", "genres", "n_ratings", "rank", "score",
        "predicted_rating", "because",
    }  # fmt: skip
    assert data["because"] == [reason.to_dict() for reason in row.because]
    assert data["because"][0]["title"] == "Toy Story (1995)"


def test_bundles_answer_the_same_from_several_threads(mf: ModelBundle) -> None:
    def lists(seed: int) -> list[list[Recommendation]]:
        return [mf.recommend_user(seed % 50 + 1), mf.recommend_new_user({1: 5, seed % 9 + 2: 4})]

    alone = [lists(seed) for seed in range(16)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lists, range(16)))
    assert together == alone


def test_lists_of_a_bundle_are_read_only(mf: ModelBundle) -> None:
    assert mf.training is not None
    with pytest.raises(ValueError, match="read-only"):
        mf.training.rated.data[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        mf.catalog.counts[0] = 1
    assert np.all(mf.catalog.counts >= 0)


def test_resolved_ratings_give_the_same_list(mf: ModelBundle, ease: ModelBundle) -> None:
    """recommend_rated (ids resolved once, as the HTTP route does) is recommend_new_user."""
    for bundle in (mf, ease):
        rated = bundle.resolve_ratings({"Star Wars": 5, "Fargo": 4, 1: 3.5})
        filters = ListFilters(genres=("Drama", "Comedy"))
        for kwargs in ({"k": 12}, {"k": 5, "filters": filters, "calibration": 0.0}):
            by_title = bundle.recommend_new_user({"Star Wars": 5, "Fargo": 4, 1: 3.5}, **kwargs)
            assert bundle.recommend_rated(rated, **kwargs) == by_title
        with pytest.raises(UnknownIdError):
            bundle.recommend_rated({999_999: 4.0})
        with pytest.raises(ConfigError, match="k must be"):
            bundle.recommend_rated(rated, k=0)
