"""Top-k recommendation for every model: known users, new users, similar movies, title search.

This is the only place that turns scores into lists: models score, this package filters and
ranks. A movie a person rated never comes back.
"""

from __future__ import annotations

from matinee.recommend.filters import MovieFilter, RatingCounts, allowed_movies, parse_year_range
from matinee.recommend.similar import ItemSimilarity, movie_similarity_scores, similar_movies
from matinee.recommend.titles import find_movies, normalise_title
from matinee.recommend.topk import recommend, recommend_new_user, with_movie_info

__all__ = [
    "ItemSimilarity",
    "MovieFilter",
    "RatingCounts",
    "allowed_movies",
    "find_movies",
    "movie_similarity_scores",
    "normalise_title",
    "parse_year_range",
    "recommend",
    "recommend_new_user",
    "similar_movies",
    "with_movie_info",
]
