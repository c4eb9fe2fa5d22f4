"""Lazy re-exports (PEP 562): a package names its classes but imports a module on first use.

This keeps ``from matinee.models import BiasedMF`` cheap and keeps torch out of the process until
a neural model is asked for. :data:`FAMILIES` is the one table of what each family package
exports from which module; ``matinee.models`` exports all of them (and :data:`ROOT`). Each
package's ``TYPE_CHECKING`` imports give type checkers the same names; a test holds the two to
each other.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from matinee.errors import MatineeError

__all__ = ["EXTRAS", "FAMILIES", "ROOT", "exports", "lazy_exports", "lazy_package"]

_PACKAGE = "matinee.models"

FAMILIES: Mapping[str, Mapping[str, str]] = {
    "baselines": {
        "baseline": "BiasBaseline BiasBaselineConfig GlobalMean GlobalMeanConfig",
        "popular": "MostPopular PopularConfig",
    },
    "factorization": {
        "mf": "BiasedMF BiasedMFConfig DotProductMF DotProductMFConfig",
        "svdpp": "SVDpp SVDppConfig",
        "nmf": "MaskedNMF MaskedNMFConfig MatrixNMF MatrixNMFConfig",
        "ials": "ImplicitALS ImplicitALSConfig",
        "bayes_mf": "BayesianMF BayesianMFConfig",
    },
    "neighbours": {
        "ease": "EASE EASEConfig",
        "knn": "ItemKNN ItemKNNConfig",
        "rp3beta": "RP3Beta RP3BetaConfig",
    },
    "neural": {
        "embedding_net": "EmbeddingNet EmbeddingNetConfig",
        "autorec": "AutoRec AutoRecConfig",
        "movie_autoencoder": "MovieAutoencoder MovieAutoencoderConfig",
    },
}
"""Family package (under ``matinee.models``) -> its module -> the names that module exports."""

ROOT: Mapping[str, str] = {
    "base": "Recommender",
    "config": "Config EpochConfig",
    "registry": "available_models model_class",
    "side_info": "MovieFeatures",
}
"""Module of ``matinee.models`` -> the names ``matinee.models`` exports from it, beside the
families'."""

EXTRAS: Mapping[str, str] = {"neural": "neural"}
"""Family -> the optional extra its modules need, named in the error when it is missing."""


def exports(package: str) -> dict[str, str]:
    """Exported name -> module (relative to ``package``) for ``matinee.models`` or a family."""
    if package == _PACKAGE:
        tables = {family: " ".join(modules.values()) for family, modules in FAMILIES.items()}
        tables |= ROOT
    else:
        tables = dict(FAMILIES[package.removeprefix(f"{_PACKAGE}.")])
    return {name: module for module, names in tables.items() for name in names.split()}


def lazy_package(
    package: str, namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` of ``matinee.models`` or a family package.

    Args:
        package: The package's ``__name__``.
        namespace: The package's ``globals()``: each name is cached there once imported.
    """
    where = exports(package)
    extra = EXTRAS.get(package.removeprefix(f"{_PACKAGE}."))
    getattr_, dir_ = lazy_exports(package, where, namespace, extra=extra)
    return getattr_, dir_, sorted(where)


def lazy_exports(
    package: str,
    where: Mapping[str, str],
    namespace: dict[str, Any],
    *,
    extra: str | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` that import ``package.<where[name]>`` on demand.

    Args:
        package: The package's ``__name__``.
        where: Exported name -> module (relative to ``package``) that defines it.
        namespace: The package's ``globals()``: each name is cached there once imported.
        extra: The optional extra that the package's modules need, named in the error when a
            dependency is missing.
    """

    def __getattr__(name: str) -> Any:
        try:
            module_name = where[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        try:
            module = importlib.import_module(f"{package}.{module_name}")
        except ModuleNotFoundError as error:
            if extra is None or (error.name or "").startswith("matinee"):
                raise
            raise MatineeError(
                f"{name} needs the {extra!r} extra ({error.name} is missing): "
                f"pip install 'matinee[{extra}]'"
            ) from None
        value = getattr(module, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
