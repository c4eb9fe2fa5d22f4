"""Replay random API requests in-process and compare the answers of two versions of the code.

A change to the request path must leave every answer the same. ``--dump OUT`` sends the same
seeded requests to the app (in-process ASGI, ``_asgi.py``) over the models in ``--cache`` (as
``bench_serve.py --cache``) and writes every status and body; run it once with the old source
on ``PYTHONPATH`` and once with the new. ``--compare OLD NEW`` then checks that statuses, ids,
titles, ranks and every other field are identical and floats agree to ``--tolerance``
(default 1e-6, absolute and relative), and prints what differs. Per model: new users by id
(with and without filters, calibration and ``k``), new users by title, similar movies and
known users.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np

MODELS = ("ease", "biased-mf")
GENRES = ("Comedy", "Drama", "Action", "Animation", "Thriller", "Romance", "Sci-Fi")


def _filters(rng: np.random.Generator, movie_ids: list[int]) -> dict[str, Any]:
    """Random list filters (often none)."""
    chosen: dict[str, Any] = {}
    if rng.random() < 0.3:
        chosen["genres"] = [str(g) for g in rng.choice(GENRES, size=rng.integers(1, 3))]
    if rng.random() < 0.3:
        low = int(rng.integers(1930, 2010))
        chosen["min_year"], chosen["max_year"] = low, low + int(rng.integers(5, 40))
    if rng.random() < 0.3:
        chosen["min_ratings"] = int(rng.integers(1, 60))
    if rng.random() < 0.3:
        chosen["exclude"] = [int(m) for m in rng.choice(movie_ids, size=5, replace=False)]
    return chosen


def new_user_request(
    rng: np.random.Generator, model: str, popular: list[int], titles: dict[int, str]
) -> tuple[str, str, bytes]:
    """A POST of a new user's ratings, by id or (a quarter of the time) by title."""
    movies = [int(m) for m in rng.choice(popular, size=rng.integers(1, 25), replace=False)]
    stars = (rng.integers(1, 11, size=len(movies)) / 2).tolist()
    by_title = rng.random() < 0.25
    ratings = {(titles[m] if by_title else str(m)): s for m, s in zip(movies, stars, strict=True)}
    body: dict[str, Any] = {"ratings": ratings, "k": int(rng.integers(1, 40)), "model": model}
    filters = _filters(rng, popular)
    body["genres"] = filters.get("genres", [])
    if "min_year" in filters:
        body["years"] = [filters["min_year"], filters["max_year"]]
    body["min_ratings"] = filters.get("min_ratings", 0)
    body["exclude"] = filters.get("exclude", [])
    if rng.random() < 0.3:
        body["calibration"] = float(rng.choice([0.0, 0.3, 1.0]))
    return "POST", "/api/v1/recommendations", json.dumps(body).encode()


def get_request(
    rng: np.random.Generator, model: str, path: str, movie_ids: list[int]
) -> tuple[str, str, bytes]:
    """A GET of ``path`` with random filters and ``k``."""
    query = {"model": model, "k": int(rng.integers(1, 40)), **_filters(rng, movie_ids)}
    return "GET", f"{path}?{urlencode(query, doseq=True)}", b""


def requests_for(
    model: str, popular: list[int], titles: dict[int, str], users: list[int], seed: int
) -> list[tuple[str, str, bytes]]:
    """300 requests for ``model``: 200 new users, 50 similar-movie lists, 50 known users."""
    rng = np.random.default_rng([seed, MODELS.index(model)])
    made = [new_user_request(rng, model, popular, titles) for _ in range(200)]
    for movie in rng.choice(popular, size=50, replace=False):
        made.append(get_request(rng, model, f"/api/v1/movies/{int(movie)}/similar", popular))
    for user in rng.choice(users, size=50, replace=False):
        made.append(get_request(rng, model, f"/api/v1/users/{int(user)}/recommendations", popular))
    return made


def dump(cache: Path, out: Path, seed: int) -> None:
    """Send every model's requests and write ``[[method, path, body, status, answer], ...]``."""
    from _asgi import InProcessApp
    from matinee.serve import create_app
    from matinee.service import ModelBundle

    bundle = ModelBundle.load(cache / MODELS[0])
    popular = json.loads((cache / "popular-small.json").read_text())[:300]
    titles = {m: bundle.movie(m).title for m in popular}
    assert bundle.model.users_ is not None
    users = bundle.model.users_.raw_ids.tolist()
    app = create_app([cache / name for name in MODELS], watch=False)
    rows = []
    with InProcessApp(app) as running:
        for model in MODELS:
            for method, path, body in requests_for(model, popular, titles, users, seed):
                status, answer = running.request(method, path, body)
                rows.append([method, path, body.decode(), status, json.loads(answer)])
    out.write_text(json.dumps(rows))
    print(f"{len(rows)} answers written to {out}", file=sys.stderr)


def differences(old: Any, new: Any, tolerance: float, where: str = "") -> list[str]:
    """Where ``old`` and ``new`` differ: any non-float change, or floats beyond ``tolerance``."""
    if isinstance(old, float) and isinstance(new, float):
        if math.isclose(old, new, rel_tol=tolerance, abs_tol=tolerance):
            return []
        return [f"{where}: {old!r} != {new!r}"]
    if isinstance(old, dict) and isinstance(new, dict):
        if old.keys() != new.keys():
            return [f"{where}: keys {sorted(old)} != {sorted(new)}"]
        return [
            d for key in old for d in differences(old[key], new[key], tolerance, f"{where}.{key}")
        ]
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{where}: {len(old)} items != {len(new)}"]
        pairs = zip(old, new, strict=True)
        return [
            d
            for i, (a, b) in enumerate(pairs)
            for d in differences(a, b, tolerance, f"{where}[{i}]")
        ]
    return [] if old == new and type(old) is type(new) else [f"{where}: {old!r} != {new!r}"]


def compare(old_file: Path, new_file: Path, tolerance: float) -> int:
    """Print every difference; the count of answers that differ."""
    old, new = json.loads(old_file.read_text()), json.loads(new_file.read_text())
    if [row[:3] for row in old] != [row[:3] for row in new]:
        raise SystemExit("the two dumps hold different requests")
    largest, differing = 0.0, 0
    for row_old, row_new in zip(old, new, strict=True):
        found = differences(row_old[3:], row_new[3:], tolerance, f"{row_old[0]} {row_old[1]}")
        differing += bool(found)
        for line in found[:5]:
            print(line)
        largest = max(largest, _largest_float_gap(row_old[4], row_new[4]))
    statuses = sorted({row[3] for row in old})
    print(
        f"{len(old)} answers (statuses {statuses}): {differing} differ beyond {tolerance:g}; "
        f"largest float difference {largest:.3g}"
    )
    return differing


def _largest_float_gap(old: Any, new: Any) -> float:
    if isinstance(old, float) and isinstance(new, float):
        return abs(old - new)
    if isinstance(old, dict) and isinstance(new, dict) and old.keys() == new.keys():
        return max((_largest_float_gap(old[k], new[k]) for k in old), default=0.0)
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return max((_largest_float_gap(a, b) for a, b in zip(old, new, strict=True)), default=0.0)
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="bench_serve.py's model cache (for --dump).")
    parser.add_argument("--dump", type=Path, help="Write the answers here.")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("OLD", "NEW"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if args.dump is not None:
        if args.cache is None:
            raise SystemExit("--dump needs --cache")
        dump(args.cache, args.dump, args.seed)
    if args.compare is not None:
        raise SystemExit(1 if compare(*args.compare, args.tolerance) else 0)
    if args.dump is None and args.compare is None:
        raise SystemExit("give --dump OUT and/or --compare OLD NEW")


if __name__ == "__main__":
    main()
