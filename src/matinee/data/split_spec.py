"""The ``--split`` grammar of the CLI: text such as ``random:0.1,seeds=5`` into splits.

Every kind of split is one row of :data:`SPLIT_KINDS`: the function that reads its arguments,
its positional names and flags, and its line of help. The grammar, the parser and the help text
(:data:`SPEC_FORMS`) all come from that table, so adding a split is one function in
:mod:`matinee.data.splits` plus one row here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from matinee.data import splits
from matinee.data.dataset import Dataset
from matinee.data.ratings import Ratings
from matinee.data.split import Split
from matinee.errors import SplitError
from matinee.settings import Settings

__all__ = [
    "SPEC_FORMS",
    "SPLIT_KINDS",
    "KindReader",
    "SplitKind",
    "kfold_arguments",
    "per_user_arguments",
    "random_arguments",
    "spec_forms",
    "split_from_spec",
    "split_readers",
    "temporal_arguments",
    "user_arguments",
]

_T = TypeVar("_T")


SplitMaker = Callable[[Ratings, int], list[Split]]
"""Makes the split(s) of one spec for one seed."""


@dataclass(frozen=True)
class SplitKind:
    """One row of the splits table: how ``KIND:ARGS`` is read and what it makes."""

    read: Callable[[_SpecArgs], SplitMaker]
    """Reads the spec's arguments (by name, with defaults) and returns what makes the split."""

    usage: str
    """The form of the arguments, for the help text, e.g. ``K[,seed=S][,seeds=N]``."""

    example: str
    """What it is, with an example (help text; the README's list uses the example too)."""

    positional: tuple[str, ...] = ()
    """Names that bare values fill, in order."""

    flags: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Bare words that set an argument: word -> (name, value)."""

    seeded: bool = True
    """Takes ``seed=S`` and ``seeds=N`` (repeat with seeds S .. S+N-1)."""


def random_arguments(args: _SpecArgs) -> dict[str, Any]:
    """Keyword arguments of ``random`` (shared with :mod:`matinee.spark.splits`)."""
    return {
        "test_fraction": args.number("test", 0.2),
        "validation_fraction": args.number("validation", 0.0),
    }


def kfold_arguments(args: _SpecArgs) -> dict[str, Any]:
    """Keyword arguments of ``kfold``."""
    return {"k": args.integer("k", 5)}


def user_arguments(args: _SpecArgs) -> dict[str, Any]:
    """Keyword arguments of ``user``."""
    return {
        "test_fraction": args.number("test", 0.1),
        "validation_fraction": args.number("validation", 0.0),
    }


def per_user_arguments(args: _SpecArgs) -> dict[str, Any]:
    """Keyword arguments of ``per-user``."""
    n, fraction = args.optional("n", int), args.optional("fraction", float)
    strategy = args.values.pop("strategy", "random")
    if strategy not in ("random", "latest"):
        raise _bad_spec(args.spec, f"strategy {strategy!r} is not 'random' or 'latest'")
    min_train = args.integer("min_train", 1)
    validation = args.values.pop("validation", "false").lower() in ("true", "yes", "1")
    return {
        "n": n,
        "fraction": fraction,
        "strategy": "latest" if strategy == "latest" else "random",
        "min_train": min_train,
        "validation": validation,
    }


def temporal_arguments(args: _SpecArgs) -> dict[str, Any]:
    """Keyword arguments of ``temporal``."""
    return {
        "cutoff": args.optional("cutoff", int),
        "test_fraction": args.optional("fraction", float),
    }


KindReader = Callable[["_SpecArgs"], Callable[[Any, int], list[Any]]]
"""Reads one kind's arguments and returns what makes its split(s) of some engine's data."""


def _reader(
    split: Callable[..., Any],
    arguments: Callable[[_SpecArgs], dict[str, Any]],
    *,
    seeded: bool = True,
    many: bool = False,
) -> KindReader:
    """The reader of one kind over ``split`` (``many``: it returns a list of splits)."""

    def read(args: _SpecArgs) -> Callable[[Any, int], list[Any]]:
        kw = arguments(args)

        def make(data: Any, seed: int) -> list[Any]:
            made = split(data, **kw, seed=seed) if seeded else split(data, **kw)
            return list(made) if many else [made]

        return make

    return read


def split_readers(
    random: Callable[..., Any],
    folds: Callable[..., Any],
    users: Callable[..., Any],
    per_user: Callable[..., Any],
    temporal: Callable[..., Any],
) -> dict[str, KindReader]:
    """Readers of the kinds every engine computes, over one engine's split functions.

    The arguments are that engine's ``random_split``, ``kfold``, ``user_split``,
    ``per_user_holdout`` and ``temporal_split`` (same keyword arguments as this module's).
    """
    return {
        "random": _reader(random, random_arguments),
        "kfold": _reader(folds, kfold_arguments, many=True),
        "user": _reader(users, user_arguments),
        "per-user": _reader(per_user, per_user_arguments),
        "temporal": _reader(temporal, temporal_arguments, seeded=False),
    }


_READERS = split_readers(
    splits.random_split,
    splits.kfold,
    splits.user_split,
    splits.per_user_holdout,
    splits.temporal_split,
)


def _hidden_ratings(args: _SpecArgs) -> SplitMaker:
    users, val = args.number("users", 0.1), args.number("validation", 0.0)
    hidden, top = args.number("hidden", 0.2), args.optional("top", int)
    return lambda r, seed: [
        splits.hidden_ratings(
            r,
            test_users=users,
            validation_users=val,
            hidden_fraction=hidden,
            top_users=top,
            seed=seed,
        )
    ]


SPLIT_KINDS: dict[str, SplitKind] = {
    "random": SplitKind(
        _READERS["random"],
        "TEST[,validation=F][,seed=S][,seeds=N]",
        "random holdout; random:0.1,seeds=5 is 90/10 x 5",
        positional=("test",),
    ),
    "kfold": SplitKind(
        _READERS["kfold"],
        "K[,seed=S][,seeds=N]",
        "k-fold cross-validation, e.g. kfold:5",
        positional=("k",),
    ),
    "user": SplitKind(
        _READERS["user"],
        "TEST[,VALIDATION][,seed=S][,seeds=N]",
        "users partitioned, e.g. user:0.1,0.1",
        positional=("test", "validation"),
    ),
    "per-user": SplitKind(
        _READERS["per-user"],
        "FRACTION | per-user:n=N  [,latest|random][,min-train=M][,validation][,seed=S][,seeds=N]",
        "per-user holdout, e.g. per-user:n=5,latest",
        positional=("fraction",),
        flags={
            "latest": ("strategy", "latest"),
            "random": ("strategy", "random"),
            "validation": ("validation", "true"),
        },
    ),
    "temporal": SplitKind(
        _READERS["temporal"],
        "FRACTION | temporal:cutoff=UNIX_TIME",
        "global time cut-off, e.g. temporal:0.1",
        positional=("fraction",),
        seeded=False,
    ),
    "hidden-ratings": SplitKind(
        _hidden_ratings,
        "USERS,HIDDEN[,validation=F][,top=N][,seed=S][,seeds=N]",
        "e.g. hidden-ratings:users=0.1,hidden=0.2,top=1000",
        positional=("users", "hidden"),
    ),
}
"""Kind -> its row. Pure data plus one reading function per kind."""

_CANONICAL = {
    **{f"u{i}": (f"u{i}",) for i in range(1, 6)},
    "ua": ("ua",),
    "ub": ("ub",),
    "u1-u5": tuple(f"u{i}" for i in range(1, 6)),
    "ua-ub": ("ua", "ub"),
}
"""Names of the canonical ml-100k folds -> the folds they stand for."""

_CANONICAL_FORM = "u1 .. u5, ua, ub, u1-u5, ua-ub"
_CANONICAL_HELP = "canonical ml-100k folds read from the release"
_HELP_COLUMN = 47


def _form_lines(kind: str, row: SplitKind) -> list[str]:
    form = f"{kind}:{row.usage}"
    if len(form) + 2 <= _HELP_COLUMN:
        return [form.ljust(_HELP_COLUMN) + row.example]
    return [form, " " * _HELP_COLUMN + row.example]


def spec_forms() -> str:
    """The help text of the ``--split`` grammar, one form per table row."""
    lines = [line for kind, row in SPLIT_KINDS.items() for line in _form_lines(kind, row)]
    lines.append(_CANONICAL_FORM.ljust(_HELP_COLUMN) + _CANONICAL_HELP)
    return "\n".join(lines)


def _bad_spec(spec: str, problem: str) -> SplitError:
    return SplitError(f"bad split spec {spec!r}: {problem}; valid forms:\n{spec_forms()}")


class _SpecArgs:
    """The ``key=value`` arguments of one spec, consumed by name; leftovers are errors."""

    def __init__(self, spec: str, kind: str, text: str) -> None:
        self.spec = spec
        self.values: dict[str, str] = {}
        row = SPLIT_KINDS[kind]
        positional = list(row.positional)
        for token in (t.strip() for t in text.split(",") if t.strip()):
            key, eq, value = token.partition("=")
            if eq:
                self.values[key.strip().replace("-", "_")] = value.strip()
            elif token in row.flags:
                name, flag_value = row.flags[token]
                self.values[name] = flag_value
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


SPEC_FORMS = spec_forms()
"""The ``--split`` grammar: ``KIND[:ARG,...]``; an ARG is ``key=value``, a bare value (filling
the positional names in order) or a flag. ``seeds=N`` repeats a seeded split with seeds
``seed .. seed+N-1``."""


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
    if kind not in SPLIT_KINDS:
        raise _bad_spec(spec, f"unknown kind {kind!r}")
    row, args = SPLIT_KINDS[kind], _SpecArgs(spec, kind, text)
    first, count = (args.integer("seed", 0), args.integer("seeds", 1)) if row.seeded else (0, 1)
    if count < 1:
        raise _bad_spec(spec, f"seeds must be >= 1, got {count}")
    make = row.read(args)
    args.finish()
    return [split for seed in range(first, first + count) for split in make(dataset.ratings, seed)]
