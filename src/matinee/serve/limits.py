"""How much one request may ask of the server: the caps every route enforces."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

from matinee.errors import ConfigError

__all__ = ["ServeLimits"]


@dataclass(frozen=True, kw_only=True)
class ServeLimits:
    """Caps on request sizes, set once per app (the CLI exposes each as an option).

    The caps are part of the OpenAPI schema, so clients see them before they send anything.
    """

    max_k: int = 100
    """Longest list a request may ask for (``k``)."""

    max_ratings: int = 1000
    """Most ratings one new-user request may carry."""

    max_body_bytes: int = 256 * 1024
    """Largest request body; bigger ones get 413 before they are parsed."""

    max_search_limit: int = 50
    """Most titles one search may return."""

    max_query_chars: int = 200
    """Longest search text or title."""

    scoring_threads: int = field(default_factory=lambda: max(2, os.cpu_count() or 1))
    """Requests scored at once per process (the scoring threads' own pool, apart from the one
    admin reloads and file routes use, so those never hold scoring up); more only queue for
    the same cores and stretch every request's latency."""

    blas_threads: int = 1
    """BLAS threads per server process. A request's linear algebra is small, and several
    threads per solve only contend with the other requests and workers: on a busy 2-core
    machine a biased-MF request took 150 ms with OpenBLAS's 2 threads and 3 ms with 1."""

    reload_poll_s: float = 1.0
    """How often the watcher looks at each model's manifest for a replacement."""

    def __post_init__(self) -> None:
        for each in fields(self):
            value = getattr(self, each.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigError(
                    f"ServeLimits.{each.name} must be a positive number, got {value!r}"
                )
        for name in (
            "max_k",
            "max_ratings",
            "max_body_bytes",
            "max_search_limit",
            "max_query_chars",
            "scoring_threads",
            "blas_threads",
        ):
            if not isinstance(getattr(self, name), int):
                raise ConfigError(
                    f"ServeLimits.{name} must be an integer, got {getattr(self, name)!r}"
                )
        if self.max_k > 1000:
            raise ConfigError(
                f"ServeLimits.max_k must be at most 1000 (the service's cap), got {self.max_k}"
            )
