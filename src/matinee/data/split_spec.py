"""The ``--split`` grammar of the CLI: text such as ``random:0.1,seeds=5`` into splits."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from matinee.data.dataset import Dataset
from matinee.data.ratings import Ratings
from matinee.data.split import Split
from matinee.data.splits import (
    hidden_ratings,
    kfold,
    per_user_holdout,
    random_split,
    temporal_split,
    user_split,
)
from matinee.errors import SplitError
from matinee.settings import Settings

__all__ = ["SPEC_FORMS", "split_from_spec"]

_T = TypeVar("_T")


SPEC_FORMS = """\
random:TEST[,validation=F][,seed=S][,seeds=N]  random holdout; random:0.1,seeds=5 is 90/10 x 5
kfold:K[,seed=S][,seeds=N]                     k-fold cross-validation, e.g. kfold:5
user:TEST[,VALIDATION][,seed=S][,seeds=N]      users partitioned, e.g. user:0.1,0.1
per-user:FRACTION | per-user:n=N  [,latest|random][,min-train=M][,validation][,seed=S][,seeds=N]
                                               per-user holdout, e.g. per-user:n=5,latest
temporal:FRACTION | temporal:cutoff=UNIX_TIME  global time cut-off, e.g. temporal:0.1
hidden-ratings:USERS,HIDDEN[,validation=F][,top=N][,seed=S][,seeds=N]
                                               e.g. hidden-ratings:users=0.1,hidden=0.2,top=1000
u1 .. u5, ua, ub, u1-u5, ua-ub                 canonical ml-100k folds read from the release"""
"""The ``--split`` grammar: ``KIND[:ARG,...]``; an ARG is ``key=value``, a bare value (filling
the positional names in order) or a flag. ``seeds=N`` repeats a seeded split with seeds
``seed .. seed+N-1``."""

_POSITIONAL = {
    "random": ("test",),
    "kfold": ("k",),
    "user": ("test", "validation"),
    "per-user": ("fraction",),
    "temporal": ("fraction",),
    "hidden-ratings": ("users", "hidden"),
}
_FLAGS = {"latest": ("strategy", "latest"), "random": ("strategy", "random")}
_CANONICAL = {
    **{f"u{i}": (f"u{i}",) for i in range(1, 6)},
    "ua": ("ua",),
    "ub": ("ub",),
    "u1-u5": tuple(f"u{i}" for i in range(1, 6)),
    "ua-ub": ("ua", "ub"),
}


def _bad_spec(spec: str, problem: str) -> SplitError:
    return SplitError(f"bad split spec {spec!r}: {problem}; valid forms:\n{SPEC_FORMS}")


class _SpecArgs:
    """The ``key=value`` arguments of one spec, consumed by name; leftovers are errors."""

    def __init__(self, spec: str, kind: str, text: str) -> None:
        self.spec = spec
        self.values: dict[str, str] = {}
        positional = list(_POSITIONAL[kind])
        for token in (t.strip() for t in text.split(",") if t.strip()):
            key, eq, value = token.partition("=")
            if eq:
                self.values[key.strip().replace("-", "_")] = value.strip()
            elif token == "validation" and kind == "per-user":
                self.values["validation"] = "true"
            elif token in _FLAGS and kind == "per-user":
                self.values[_FLAGS[token][0]] = _FLAGS[token][1]
            elif positional:
                self.values[positional.pop(0)] = token
            else:
                raise _bad_spec(spec, f"unexpected argument {token!r}")

    def _pop(self, key: str, convert: Callable[[str], _T]) -> _T | None:
        text = self.values.pop(key, None)
        if text is None:
            return None
        try:
            return convert(text)
        except ValueError:
            kind = "an integer" if convert is int else "a number"
            raise _bad_spec(self.spec, f"{key}={text!r} is not {kind}") from None

    def number(self, key: str, default: float) -> float:
        value = self._pop(key, float)
        return default if value is None else value

    def integer(self, key: str, default: int) -> int:
        value = self._pop(key, int)
        return default if value is None else value

    def optional(self, key: str, convert: Callable[[str], _T]) -> _T | None:
        return self._pop(key, convert)

    def finish(self) -> None:
        if self.values:
            raise _bad_spec(self.spec, f"unknown argument(s) {', '.join(sorted(self.values))}")


SplitMaker = Callable[[Ratings, int], list[Split]]


def _spec_maker(kind: str, args: _SpecArgs) -> SplitMaker:
    """Read a seeded form's arguments and return what makes its split(s) for one seed."""
    if kind == "random":
        test, val = args.number("test", 0.2), args.number("validation", 0.0)
        return lambda r, seed: [
            random_split(r, test_fraction=test, validation_fraction=val, seed=seed)
        ]
    if kind == "kfold":
        k = args.integer("k", 5)
        return lambda r, seed: kfold(r, k, seed=seed)
    if kind == "user":
        test, val = args.number("test", 0.1), args.number("validation", 0.0)
        return lambda r, seed: [
            user_split(r, test_fraction=test, validation_fraction=val, seed=seed)
        ]
    if kind == "per-user":
        n, fraction = args.optional("n", int), args.optional("fraction", float)
        strategy = args.values.pop("strategy", "random")
        if strategy not in ("random", "latest"):
            raise _bad_spec(args.spec, f"strategy {strategy!r} is not 'random' or 'latest'")
        min_train = args.integer("min_train", 1)
        validation = args.values.pop("validation", "false").lower() in ("true", "yes", "1")
        return lambda r, seed: [
            per_user_holdout(
                r,
                n=n,
                fraction=fraction,
                strategy="latest" if strategy == "latest" else "random",
                min_train=min_train,
                validation=validation,
                seed=seed,
            )
        ]
    users, val = args.number("users", 0.1), args.number("validation", 0.0)
    hidden, top = args.number("hidden", 0.2), args.optional("top", int)
    return lambda r, seed: [
        hidden_ratings(
            r,
            test_users=users,
            validation_users=val,
            hidden_fraction=hidden,
            top_users=top,
            seed=seed,
        )
    ]


def split_from_spec(
    dataset: Dataset, spec: str, *, settings: Settings | None = None
) -> list[Split]:
    """Make the splits a ``--split`` spec names (grammar: :data:`SPEC_FORMS`).

    Raises:
        SplitError: The spec is malformed (the message lists the valid forms), or the split
            cannot be made from this data.
    """
    spec = spec.strip()
    if spec in _CANONICAL:
        from matinee.data.canonical import canonical_split

        return [canonical_split(dataset, fold, settings=settings) for fold in _CANONICAL[spec]]
    kind, _, text = spec.partition(":")
    if kind not in _POSITIONAL:
        raise _bad_spec(spec, f"unknown kind {kind!r}")
    args = _SpecArgs(spec, kind, text)
    if kind == "temporal":
        cutoff, fraction = args.optional("cutoff", int), args.optional("fraction", float)
        args.finish()
        return [temporal_split(dataset.ratings, cutoff=cutoff, test_fraction=fraction)]
    first, count = args.integer("seed", 0), args.integer("seeds", 1)
    if count < 1:
        raise _bad_spec(spec, f"seeds must be >= 1, got {count}")
    make = _spec_maker(kind, args)
    args.finish()
    return [split for seed in range(first, first + count) for split in make(dataset.ratings, seed)]
