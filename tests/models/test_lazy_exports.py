"""The one export table (models/_lazy.py) and each package's TYPE_CHECKING imports agree."""

import ast
import importlib
import inspect

import pytest

from matinee.models._lazy import FAMILIES, exports

PACKAGES = ["matinee.models", *(f"matinee.models.{family}" for family in FAMILIES)]


def _type_checking_imports(package: str) -> dict[str, str]:
    """Name -> module of the ``from X import N as N`` lines under ``if TYPE_CHECKING:``."""
    tree = ast.parse(inspect.getsource(importlib.import_module(package)))
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
        if node.test.id == "TYPE_CHECKING"
    ]
    found: dict[str, str] = {}
    for node in ast.walk(blocks[0]):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                assert alias.asname == alias.name, f"{package}: {alias.name} not re-exported"
                found[alias.name] = node.module or ""
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_static_imports_match_the_table(package: str) -> None:
    where = exports(package)
    imports = _type_checking_imports(package)
    assert sorted(imports) == sorted(where)
    for name, module in imports.items():
        assert module == f"{package}.{where[name]}", name


@pytest.mark.parametrize("package", PACKAGES)
def test_all_lists_the_table_and_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__ == sorted(exports(package))
    assert set(module.__all__) <= set(dir(module))


def test_a_family_name_comes_from_its_module() -> None:
    from matinee.models import BiasedMF, ItemKNN

    assert BiasedMF.__module__ == "matinee.models.factorization.mf"
    assert ItemKNN.__module__ == "matinee.models.neighbours.knn"
    with pytest.raises(AttributeError, match="no attribute 'Missing'"):
        importlib.import_module("matinee.models.neighbours").Missing  # noqa: B018
