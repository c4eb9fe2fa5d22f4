"""Request and response bodies of the API, with the limits and examples the OpenAPI shows.

Request bodies depend on :class:`ServeLimits` (``k`` and the ratings count are capped per
app), so :func:`recommendation_request` builds the class for one app's limits.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from matinee.serve.limits import ServeLimits

__all__ = [
    "ErrorResponse",
    "HealthResponse",
    "Item",
    "ModelInfo",
    "ModelsResponse",
    "Movie",
    "NewUserResponse",
    "RatingById",
    "RatingByTitle",
    "RatingValue",
    "ReadyResponse",
    "ReloadRequest",
    "ReloadResponse",
    "ResolvedRating",
    "SearchResponse",
    "SimilarResponse",
    "UserResponse",
    "recommendation_request",
]

RatingValue = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A rating: a finite JSON number (booleans and strings are refused); the scale is the model's."""

TOY_STORY: dict[str, Any] = {
    "movie_id": 1,
    "title": "Toy Story (1995)",
    "year": 1995,
    "genres": ["Adventure", "Animation", "Children", "Comedy", "Fantasy"],
    "n_ratings": 215,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Movie(BaseModel):
    """One movie: id, title, release year, genres and how often it was rated in training."""

    model_config = ConfigDict(json_schema_extra={"examples": [TOY_STORY]})

    movie_id: int
    title: str
    year: int | None
    genres: list[str]
    n_ratings: int


class Reason(BaseModel):
    """A rated movie that lifted a recommendation: "because you rated <title>"."""

    movie_id: int
    title: str
    weight: float


class Item(Movie):
    """One row of a list: the movie, its rank (1 = best), score, predicted rating and why."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **TOY_STORY,
                    "rank": 1,
                    "score": 0.93,
                    "predicted_rating": 4.4,
                    "because": [
                        {"movie_id": 364, "title": "Lion King, The (1994)", "weight": 0.31}
                    ],
                }
            ]
        }
    )

    rank: int
    score: float
    predicted_rating: float | None
    because: list[Reason]


class RatingById(_Strict):
    """A rating of a movie given by its MovieLens id."""

    movie_id: Annotated[int, Field(strict=True, ge=0, le=2**62)]
    rating: RatingValue


class RatingByTitle(_Strict):
    """A rating of a movie given by its title (with or without the year)."""

    title: Annotated[str, Field(min_length=1, max_length=1000)]
    rating: RatingValue


class ResolvedRating(BaseModel):
    """How one rating of the request was understood."""

    query: str
    movie_id: int
    title: str
    rating: float


class NewUserResponse(BaseModel):
    """Recommendations for someone who is not in the training data."""

    model: str
    resolved: list[ResolvedRating]
    items: list[Item]


class UserResponse(BaseModel):
    """Recommendations for a user of the training data."""

    model: str
    user_id: int
    items: list[Item]


class SimilarResponse(BaseModel):
    """Movies most like one movie."""

    model: str
    movie: Movie
    items: list[Item]


class SearchResponse(BaseModel):
    """Titles matching a search, best first."""

    query: str
    results: list[Movie]


class ModelInfo(BaseModel):
    """A loaded model: what it is, what it learned from, how well it scored, its reload state."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())

    name: str
    model: str
    config: dict[str, Any]
    metrics: dict[str, float]
    data_fingerprint: str | None
    format_version: int
    created: str | None
    n_users: int
    n_movies: int
    rating_scale: list[float]
    predicts_ratings: bool
    has_report: bool
    loaded_at: str
    last_reload_error: str | None


class ModelsResponse(BaseModel):
    """Every loaded model, and which one answers when a request names none."""

    default: str
    models: list[ModelInfo]


class HealthResponse(BaseModel):
    """The process is up."""

    status: str


class ReadyResponse(BaseModel):
    """Every model is loaded and the server answers."""

    status: str
    models: list[str]
    worker_pid: int = Field(
        description="The process that answered: which worker holds a connection."
    )


class ReloadRequest(_Strict):
    """Which model to reload; all of them when absent."""

    model: str | None = None


class ReloadResponse(BaseModel):
    """Models swapped in, and models whose new files were refused (the old one still serves)."""

    reloaded: list[str]
    refused: dict[str, str]


class ErrorInfo(BaseModel):
    """What went wrong: a snake_case code, one sentence, and the ids or fields at fault."""

    code: str
    message: str
    details: dict[str, Any]


class ErrorResponse(BaseModel):
    """Every error the API returns."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "unknown_id",
                        "message": "unknown movie id(s): 999999.",
                        "details": {"kind": "movie", "unknown": [999999]},
                    }
                }
            ]
        }
    )

    error: ErrorInfo


UNION_TAGS = frozenset({"map", "list", "by_id", "by_title"})
"""Branch names of the tagged unions below; error locations leave them out."""


def _ratings_kind(value: Any) -> str:
    return "map" if isinstance(value, dict) else "list"


def _rating_kind(value: Any) -> str:
    return "by_id" if isinstance(value, dict) and "movie_id" in value else "by_title"


RatingEntry = Annotated[
    Annotated[RatingById, Tag("by_id")] | Annotated[RatingByTitle, Tag("by_title")],
    Discriminator(_rating_kind),
]


def recommendation_request(limits: ServeLimits) -> type[BaseModel]:
    """The body of ``POST /api/v1/recommendations`` under ``limits``."""
    n = limits.max_ratings
    ratings_map = Annotated[dict[str, RatingValue], Field(min_length=1, max_length=n), Tag("map")]
    ratings_list = Annotated[list[RatingEntry], Field(min_length=1, max_length=n), Tag("list")]
    ratings_type = Annotated[ratings_map | ratings_list, Discriminator(_ratings_kind)]  # type: ignore[valid-type]

    class RecommendationRequest(_Strict):
        """Ratings of a new user (by id or title) and what list to make from them."""

        model_config = ConfigDict(
            extra="forbid",
            json_schema_extra={
                "examples": [
                    {"ratings": {"364": 5, "Aladdin (1992)": 4.5}, "k": 10},
                    {
                        "ratings": [
                            {"movie_id": 1, "rating": 5},
                            {"title": "Lion King", "rating": 4},
                        ],
                        "k": 5,
                        "genres": ["Comedy"],
                        "years": [1990, 1999],
                        "min_ratings": 10,
                        "exclude": [2],
                    },
                ]
            },
        )

        ratings: ratings_type = Field(  # type: ignore[valid-type]
            description="{movie id or title: rating}, or a list of {movie_id|title, rating}.",
        )
        k: Annotated[int, Field(strict=True, ge=1, le=limits.max_k)] = 10
        model: str | None = Field(default=None, description="Model name; default: the first.")
        genres: list[str] = Field(default_factory=list, max_length=100)
        years: tuple[int | None, int | None] = (None, None)
        min_ratings: Annotated[int, Field(strict=True, ge=0)] = 0
        exclude: list[Annotated[int, Field(strict=True, ge=0, le=2**62)]] = Field(
            default_factory=list, max_length=10_000
        )
        calibration: (
            Annotated[float, Field(strict=True, ge=0, le=1, allow_inf_nan=False)]
            | Literal["auto"]
            | None
        ) = Field(
            default=None,
            description="How strongly (0-1, or auto: by how far the rated films' genres are "
            "from the catalogue's) the list follows the rated films' genres; 0: the model's "
            "order; default: the new-user default.",
        )

    return RecommendationRequest
