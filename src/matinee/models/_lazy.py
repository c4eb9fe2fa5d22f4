"""Lazy re-exports (PEP 562): a package names its classes but imports a module on first use.

This keeps ``from matinee.models import BiasedMF`` cheap and keeps torch out of the process until
a neural model is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from matinee.errors import MatineeError

__all__ = ["lazy_exports"]


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
