"""The JSON routes of ``/api/v1``: thin functions over :class:`~matinee.service.ModelBundle`.

The routes that score (recommendations, similar movies) run their work in the app's own
scoring threads (``ServeLimits.scoring_threads``), never on the event loop and never queued
behind an admin reload in FastAPI's shared pool; they send JSON encoded by orjson in one step,
since the service builds exactly the response model's fields (the schemathesis tests check
every answer against the schema). The other routes are plain ``def`` or cheap ``async def``.
A route takes the bundle once at its start, so a model swapped in meanwhile does not change
an answer half-way. Well-formed new-user requests are answered before FastAPI's routing, by
:class:`~matinee.serve.fast.NewUserShortcut` with this module's :func:`new_user_payload`; the
route here answers the rest, and describes the endpoint in the OpenAPI schema. (No
``from __future__ import annotations`` here: FastAPI reads the annotations, some of which are
classes built per app.)
"""

import asyncio
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from matinee.errors import UnknownIdError
from matinee.serve.errors import ApiError
from matinee.serve.limits import ServeLimits
from matinee.serve.registry import ModelRegistry
from matinee.serve.schemas import (
    ErrorResponse,
    ModelsResponse,
    Movie,
    NewUserResponse,
    RatingById,
    RatingByTitle,
    ReloadRequest,
    ReloadResponse,
    SearchResponse,
    SimilarResponse,
    UserResponse,
)
from matinee.service import ListFilters, ModelBundle, Recommendation

__all__ = ["ScoringPool", "api_router", "json_response", "new_user_payload"]

MAX_ID = 2**62
"""Ids beyond this are no MovieLens id; the bound keeps them out of fixed-width arrays."""

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": what}
    for status, what in (
        (404, "Unknown model, movie or user ids (listed in details.unknown)."),
        (409, "Ambiguous titles (candidates in details.candidates)."),
        (413, "Request body over the size limit."),
        (422, "Invalid parameters or body."),
        (503, "Model not available."),
    )
}

ModelName = Annotated[
    str | None, Query(max_length=255, description="Model name; default: the first loaded.")
]
MovieId = Annotated[int, Path(ge=0, le=MAX_ID, description="MovieLens movie id.", examples=[1])]
UserId = Annotated[int, Path(ge=0, le=MAX_ID, description="MovieLens user id.", examples=[1])]
Year = Annotated[int | None, Query(ge=0, le=9999, description="Inclusive release-year bound.")]


async def list_filters(
    genres: Annotated[
        list[str] | None,
        Query(
            max_length=100,
            description="Keep movies with any of these genres (repeat or comma-separate).",
        ),
    ] = None,
    min_year: Year = None,
    max_year: Year = None,
    min_ratings: Annotated[
        int, Query(ge=0, le=MAX_ID, description="Minimum training ratings.")
    ] = 0,
    exclude: Annotated[
        list[Annotated[int, Field(ge=0, le=MAX_ID)]] | None,
        Query(max_length=10_000, description="Movie ids never to return."),
    ] = None,
) -> ListFilters:
    """The list filters of a GET request's query string (on the event loop: it is cheap)."""
    return ListFilters(
        genres=_genres(genres or []),
        years=(min_year, max_year),
        min_ratings=min_ratings,
        exclude=tuple(exclude or ()),
    )


Filters = Annotated[ListFilters, Depends(list_filters)]


def _genres(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


JSON = "application/json"


class ScoringPool:
    """``await pool(fn, *args)``: ``fn(*args)`` in one of the app's scoring threads, as JSON.

    A plain executor handed to the event loop: its hop to a thread and back costs about half
    of what ``anyio.to_thread.run_sync`` with a capacity limiter did (``bench_serve.py``'s
    in-process profile), and a request's whole CPU time is under a millisecond. The threads
    are the app's own, so admin reloads and file routes in FastAPI's pool never hold scoring up.
    """

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    async def __call__(self, function: Callable[..., dict[str, Any]], *args: Any) -> Response:
        """``function(*args)`` off the event loop, its payload encoded as the response."""
        return json_response(await self.payload(function, *args))

    async def payload(self, function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        """``function(*args)`` run in a scoring thread: its payload."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads_now(), function, *args)

    def _threads_now(self) -> ThreadPoolExecutor:
        """The running executor, started on first use.

        Started again after :meth:`close`, so an app whose lifespan ends and starts again (as
        test clients and schemathesis do) keeps answering.
        """
        executor = self._executor
        if executor is None:
            with self._lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(
                        self._threads, thread_name_prefix="matinee-scoring"
                    )
                executor = self._executor
        return executor

    def close(self) -> None:
        """Let the threads finish what they run and exit; the next request starts new ones."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


def json_response(payload: dict[str, Any]) -> Response:
    """``payload`` as a JSON response, encoded by orjson (numpy scalars included)."""
    return Response(orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY), media_type=JSON)


def _items(rows: Sequence[Recommendation]) -> list[dict[str, Any]]:
    return [row.to_dict() for row in rows]


def _rating_pairs(ratings: Any) -> list[tuple[str, int | str, float]]:
    """(query as the client wrote it, id or title for the service, rating) per rating."""
    if isinstance(ratings, dict):
        return [(str(key), str(key), float(value)) for key, value in ratings.items()]
    pairs: list[tuple[str, int | str, float]] = []
    for entry in ratings:
        if isinstance(entry, RatingById):
            pairs.append((str(entry.movie_id), entry.movie_id, entry.rating))
        else:
            assert isinstance(entry, RatingByTitle)
            pairs.append((entry.title, entry.title, entry.rating))
    return pairs


def _resolve(bundle: ModelBundle, pairs: list[tuple[str, int | str, float]]) -> dict[int, float]:
    """The service's resolution, with ids too long for any movie listed among the unknown."""
    huge = [key for _, key, _ in pairs if _is_huge_id(key)]
    if not huge:
        return bundle.resolve_ratings([(key, rating) for _, key, rating in pairs])
    unknown: list[object] = []
    rest = [(key, rating) for _, key, rating in pairs if not _is_huge_id(key)]
    if rest:
        try:
            bundle.resolve_ratings(rest)
        except UnknownIdError as error:
            unknown = list(error.ids)
    ids = [int(key) for key in huge]
    raise UnknownIdError("movie", [*unknown, *ids])


def _is_huge_id(key: int | str) -> bool:
    if isinstance(key, str):
        key = key.strip()
        return key.isdecimal() and len(key) > 18 and int(key) > MAX_ID
    return key > MAX_ID


def new_user_payload(bundle: ModelBundle, body: Any) -> dict[str, Any]:
    """The new-user route's answer: what each rating resolved to, and the list."""
    pairs = _rating_pairs(body.ratings)
    rated = _resolve(bundle, pairs)
    filters = ListFilters(
        genres=_genres(body.genres),
        years=tuple(body.years),
        min_ratings=body.min_ratings,
        exclude=tuple(body.exclude),
    )
    rows = bundle.recommend_rated(rated, k=body.k, filters=filters, calibration=body.calibration)
    resolved = [
        {
            "query": query,
            "movie_id": movie_id,
            "title": bundle.movie(movie_id).title,
            "rating": rating,
        }
        for (query, _, _), (movie_id, rating) in zip(pairs, rated.items(), strict=True)
    ]
    return {"model": bundle.name, "resolved": resolved, "items": _items(rows)}


def _similar(bundle: ModelBundle, movie_id: int, k: int, filters: ListFilters) -> dict[str, Any]:
    movie = bundle.movie(movie_id)
    rows = bundle.similar(movie_id, k=k, filters=filters)
    return {"model": bundle.name, "movie": movie.to_dict(), "items": _items(rows)}


def _known_user(bundle: ModelBundle, user_id: int, k: int, filters: ListFilters) -> dict[str, Any]:
    rows = bundle.recommend_user(user_id, k=k, filters=filters)
    return {"model": bundle.name, "user_id": user_id, "items": _items(rows)}


def api_router(
    registry: ModelRegistry,
    limits: ServeLimits,
    score: ScoringPool,
    request_body: type[BaseModel],
) -> APIRouter:
    """The ``/api/v1`` routes over ``registry``, with ``limits`` in their parameters.

    ``request_body``: the new-user body class
    (:func:`~matinee.serve.schemas.recommendation_request` of ``limits``),
    built once by the app, which validates the same bodies before routing.
    """
    router = APIRouter(prefix="/api/v1", responses=ERRORS)
    top_k = Annotated[
        int, Query(ge=1, le=limits.max_k, description=f"List length, 1 to {limits.max_k}.")
    ]

    @router.get("/models", response_model=ModelsResponse, tags=["models"])
    async def list_models() -> dict[str, Any]:
        """Every loaded model with its config, metrics, data fingerprint and reload state.

        Cheap and never blocked behind scoring: it runs on the event loop.
        """
        return {"default": registry.default, "models": [s.describe() for s in registry.slots()]}

    @router.get("/movies/search", response_model=SearchResponse, tags=["movies"])
    def search_movies(
        q: Annotated[
            str,
            Query(min_length=1, max_length=limits.max_query_chars, examples=["toy story"]),
        ],
        limit: Annotated[int, Query(ge=1, le=limits.max_search_limit)] = 10,
        model: ModelName = None,
    ) -> dict[str, Any]:
        """Titles matching ``q`` (exact, prefix, words, then fuzzy), for an autocomplete."""
        found = registry.get(model).search(q, limit=limit)
        return {"query": q, "results": [movie.to_dict() for movie in found]}

    @router.get("/movies/{movie_id}", response_model=Movie, tags=["movies"])
    def get_movie(movie_id: MovieId, model: ModelName = None) -> dict[str, Any]:
        """One movie's title, year, genres and training rating count."""
        return registry.get(model).movie(movie_id).to_dict()

    @router.get("/movies/{movie_id}/similar", response_model=SimilarResponse, tags=["movies"])
    async def similar_movies(
        movie_id: MovieId, filters: Filters, k: top_k = 10, model: ModelName = None
    ) -> Response:
        """The ``k`` movies most like this one (item-item weights or movie-vector cosines)."""
        return await score(_similar, registry.get(model), movie_id, k, filters)

    @router.post("/recommendations", response_model=NewUserResponse, tags=["recommendations"])
    async def recommend_new_user(body: request_body) -> Response:  # type: ignore[valid-type]
        """Top-k movies for a new user from a few ratings given by movie id or title."""
        return await score(new_user_payload, registry.get(body.model), body)  # type: ignore[attr-defined]

    @router.get(
        "/users/{user_id}/recommendations", response_model=UserResponse, tags=["recommendations"]
    )
    async def recommend_user(
        user_id: UserId, filters: Filters, k: top_k = 10, model: ModelName = None
    ) -> Response:
        """Top-k movies for a user of the training data; what they rated never comes back."""
        return await score(_known_user, registry.get(model), user_id, k, filters)

    @router.post("/admin/reload", response_model=ReloadResponse, tags=["admin"])
    def reload_models(
        body: Annotated[ReloadRequest | None, Body()] = None,
    ) -> dict[str, Any]:
        """Load models again from disk now; what fails to load is refused, the old one serves."""
        outcome = registry.reload(body.model if body is not None else None)
        return {"reloaded": outcome.reloaded, "refused": outcome.refused}

    return router


def readiness(registry: ModelRegistry, ready: bool) -> dict[str, Any]:
    """The ``/readyz`` answer, or a 503 while the server is starting or stopping."""
    if not ready:
        raise ApiError(503, "not_ready", "the server is not ready: it is starting or stopping")
    return {"status": "ready", "models": registry.names, "worker_pid": os.getpid()}
