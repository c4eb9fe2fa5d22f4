"""A stacked blend of rating models: parts fitted alone, weights learned on held-out ratings.

``fit`` cuts a random validation share off the training ratings, fits every part on the rest,
and learns the blend weights by ridge regression of the validation ratings on the parts'
predictions (an unpenalised intercept); then it refits every part on all the training ratings.
A prediction is ``w_0 + sum_k w_k r_k(u, i)``, each part's rating clipped to the scale.

The config pins its parts completely: ``part_settings`` lists every field of every part as
``part.key=value`` (the ones given, and the part's defaults for the rest), so a saved blend
loads the same parts whatever later defaults become. A saved blend is one model: each part's
arrays sit in the one parameter file under the prefix ``partN.``, beside the weights.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from matinee.data.ratings import Ratings
from matinee.data.splits import random_split
from matinee.errors import ConfigError, ModelFormatError
from matinee.models.base import RESERVED_PARAMETERS, Recommender
from matinee.models.config import Config, check_range
from matinee.models.search import FloatRange, space
from matinee.training.loop import EpochRecord, FitOptions
from matinee.types import IndexArray, RatingArray

__all__ = ["Blend", "BlendConfig"]

log = logging.getLogger(__name__)

DEFAULT_PARTS = ("baseline", "biased-mf", "svdpp", "autorec")
"""The default parts, chosen by measurement on ml-100k u1 (weights learned on an inner 10%):
SVD++ alone 0.914, with AutoRec 0.8995, these four 0.8985; NMF, plain MF and the embedding net
added nothing more. AutoRec needs the ``neural`` extra."""


@dataclass(frozen=True, kw_only=True)
class BlendConfig(Config):
    """Hyperparameters of :class:`Blend`: its parts and how their weights are learned."""

    SEARCH_SPACE = space(reg=(0.01, 100.0), validation_fraction=FloatRange(0.05, 0.3))

    parts: tuple[str, ...] = DEFAULT_PARTS
    """Registry names of the rating models blended (at least one, each once)."""

    part_settings: tuple[str, ...] = ()
    """The parts' config fields as ``part.key=value`` text (``--set`` syntax); every field not
    given is filled in with the part's default, so the blend's config pins its parts."""

    validation_fraction: float = 0.1
    """Share of the training ratings held out to learn the weights on."""

    reg: float = 1.0
    """Ridge penalty on the blend weights (the intercept is not penalised)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "part_settings", _pinned(self.parts, self.part_settings))

    def validate(self) -> None:
        """Check ranges and parts."""
        super().validate()
        check_range(self, "validation_fraction", low=0.0, high=0.9, low_open=True)
        check_range(self, "reg", low=0.0)
        if not self.parts or len(set(self.parts)) != len(self.parts):
            raise ConfigError(f"BlendConfig.parts must name distinct models, got {self.parts!r}")

    def part_configs(self) -> list[tuple[type[Recommender[Any]], Config]]:
        """Each part's class and its config, read from ``part_settings``."""
        from matinee.models.config_text import with_text_overrides

        by_part = _settings_by_part(self.part_settings)
        return [
            (cls, with_text_overrides(cls.config_type(), by_part.get(name, {})))
            for name in self.parts
            for cls in [_part_class(name)]
        ]


def _part_class(name: str) -> type[Recommender[Any]]:
    from matinee.models.registry import model_class

    cls = model_class(name)
    if not cls.predicts_ratings or cls.name == "blend":
        raise ConfigError(f"blend parts must be rating models other than blend, got {name!r}")
    return cls


def _settings_by_part(settings: Sequence[str]) -> dict[str, dict[str, str]]:
    by_part: dict[str, dict[str, str]] = {}
    for text in settings:
        key, eq, value = text.partition("=")
        part, dot, field = key.strip().partition(".")
        if not eq or not dot or not field:
            raise ConfigError(f"BlendConfig.part_settings: write part.key=value, got {text!r}")
        by_part.setdefault(part, {})[field] = value.strip()
    return by_part


def _text(value: object) -> str:
    if isinstance(value, tuple | list):
        return ",".join(str(item) for item in value)
    return repr(value) if isinstance(value, float) else str(value)


def _pinned(parts: Sequence[str], settings: Sequence[str]) -> tuple[str, ...]:
    """Every field of every part as ``part.key=value``; settings of models not blended drop."""
    from matinee.models.config_text import with_text_overrides
    from matinee.models.registry import available_models

    by_part = _settings_by_part(settings)
    unknown = sorted(set(by_part) - set(available_models()))
    if unknown:
        raise ConfigError(f"BlendConfig.part_settings names no model {unknown}")
    pinned = []
    for name in parts:
        config = with_text_overrides(_part_class(name).config_type(), by_part.get(name, {}))
        pinned += [f"{name}.{key}={_text(value)}" for key, value in config.to_dict().items()]
    return tuple(pinned)


class Blend(Recommender[BlendConfig]):
    """A stacked blend of rating models, weighted by ridge regression on held-out ratings."""

    name: ClassVar[str] = "blend"
    config_type: ClassVar[type[Config]] = BlendConfig

    def __init__(self, config: BlendConfig | None = None) -> None:
        super().__init__(config)
        self.parts_: list[Recommender[Any]] = []
        self.weights_: npt.NDArray[np.float64] = np.zeros(0)

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        specs = self.config.part_configs()
        inner = random_split(
            train, test_fraction=self.config.validation_fraction, seed=self.config.seed
        )
        held = inner.test
        names = ", ".join(cls.name for cls, _ in specs)
        log.info(
            "blend: %d fits: each of %d parts (%s) on %s ratings for the weights, then on all "
            "%s; each part's own fit is its usual cost. Fewer parts: --set parts=A,B; cheaper "
            "parts: --set part_settings=PART.epochs=N",
            2 * len(specs), len(specs), names, f"{len(inner.train):,}", f"{len(train):,}",
        )  # fmt: skip
        columns = []
        for cls, config in specs:
            part = cls(config).fit(inner.train, validation, options=options)
            columns.append(part.predict(held.user_idx, held.movie_idx))
        self.weights_ = _ridge(np.column_stack(columns), held.rating, self.config.reg)
        self.parts_ = [cls(config).fit(train, validation, options=options) for cls, config in specs]
        return []

    def _combine(self, predictions: Sequence[npt.NDArray[np.floating[Any]]]) -> npt.NDArray[Any]:
        total = np.full(predictions[0].shape, self.weights_[0], dtype=np.float64)
        for weight, predicted in zip(self.weights_[1:], predictions, strict=True):
            total += weight * predicted
        return total.astype(np.float32)

    def _clipped(self, scores: npt.ArrayLike) -> npt.NDArray[np.float32]:
        low, high = self.rating_scale_
        return np.clip(np.asarray(scores, dtype=np.float32), low, high)

    def _predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return self._combine([part.predict(users, movies) for part in self.parts_])

    def _score_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return self._combine([self._clipped(part.score_users(users)) for part in self.parts_])

    def _score_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        scores = [self._clipped(part.score_new_user(movies, ratings)) for part in self.parts_]
        return self._combine(scores)

    def _rank_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        """The parts' list scores, each standardised per person, by the parts' positive weights."""
        return self._rank_blend([part.rank_users(users) for part in self.parts_])

    def _rank_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        ranked = [part.rank_new_user(movies, ratings)[None, :] for part in self.parts_]
        blended: npt.NDArray[np.floating[Any]] = self._rank_blend(ranked)[0]
        return blended

    def _rank_blend(self, scores: Sequence[npt.NDArray[np.floating[Any]]]) -> npt.NDArray[Any]:
        weights = np.clip(self.weights_[1:], 0.0, None)
        weights = weights / weights.sum() if weights.sum() > 0 else np.full(weights.size, 1.0)
        total = np.zeros(scores[0].shape, dtype=np.float64)
        for weight, score in zip(weights, scores, strict=True):
            centred = score - score.mean(axis=1, keepdims=True)
            spread = centred.std(axis=1, keepdims=True)
            total += weight * centred / np.where(spread > 0, spread, 1.0)
        return total.astype(np.float32)

    def _heaviest(self, attribute: str) -> npt.NDArray[np.floating[Any]] | None:
        """What the part with the largest weight that has ``attribute`` returns, or None."""
        for index in np.argsort(-self.weights_[1:]):
            value: npt.NDArray[np.floating[Any]] | None = getattr(self.parts_[index], attribute)()
            if value is not None:
                return value
        return None

    def movie_vectors(self) -> npt.NDArray[np.floating[Any]] | None:
        """The movie vectors of the heaviest part that has them."""
        return self._heaviest("movie_vectors")

    def movie_biases(self) -> npt.NDArray[np.floating[Any]] | None:
        """The movie biases of the heaviest part that has them."""
        return self._heaviest("movie_biases")

    def _parameters(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {"blend_weights": self.weights_.astype(np.float64)}
        for index, part in enumerate(self.parts_):
            for key, value in part.parameters().items():
                if key not in RESERVED_PARAMETERS:
                    arrays[f"part{index}.{key}"] = value
        return arrays

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        specs = self.config.part_configs()
        weights = np.asarray(params["blend_weights"], dtype=np.float64)
        if weights.shape != (len(specs) + 1,):
            raise ModelFormatError(
                f"blend: {len(specs)} parts need {len(specs) + 1} weights, got {weights.shape}"
            )
        shared = {
            "user_ids": self._fitted_users().raw_ids,
            "movie_ids": self._fitted_movies().raw_ids,
            "rating_scale": np.asarray(self.rating_scale_, dtype=np.float64),
            "global_mean": np.asarray([self.global_mean_], dtype=np.float64),
        }
        parts = []
        for index, (cls, config) in enumerate(specs):
            prefix = f"part{index}."
            own = {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
            parts.append(cls.from_parameters(config, {**shared, **own}))
        self.weights_, self.parts_ = weights, parts


def _ridge(
    predictions: npt.NDArray[np.floating[Any]], ratings: npt.ArrayLike, reg: float
) -> npt.NDArray[np.float64]:
    """Intercept and weights minimising ``||y - w_0 - P w||^2 + reg ||w||^2``."""
    design = np.column_stack([np.ones(len(predictions)), predictions]).astype(np.float64)
    penalty = np.eye(design.shape[1]) * reg
    penalty[0, 0] = 0.0
    gram = design.T @ design + penalty
    target = design.T @ np.asarray(ratings, dtype=np.float64)
    weights = np.linalg.lstsq(gram, target, rcond=None)[0]
    return np.asarray(weights, dtype=np.float64)
