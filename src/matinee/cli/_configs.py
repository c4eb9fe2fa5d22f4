"""Model configs from the command line: ``--config FILE`` first, then ``--set key=value``.

Shared by ``train``, ``compare`` and ``tune``, so that a file written by ``matinee tune`` means
the same to each of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from matinee.errors import ConfigError
from matinee.models.config_text import config_from_file, read_config_file, with_text_overrides

__all__ = ["ConfigFile", "SetOption", "file_configs", "model_config", "parse_settings"]

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Config override key=value (repeatable)."),
]
"""``--set key=value``, repeatable: one config field each, applied over defaults and files."""

ConfigFile = Annotated[
    Path | None,
    typer.Option("--config", help="JSON config file (best.json of `matinee tune`); --set wins."),
]


def parse_settings(pairs: Sequence[str]) -> dict[str, str]:
    """Read ``["key=value", ...]`` into a dict; a piece without ``=`` raises ConfigError."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"--set {pair!r}: write key=value, for example --set epochs=20")
        values[key.strip()] = value.strip()
    return values


def model_config(name: str, config_file: Path | None, pairs: Sequence[str]) -> Any:
    """The config of model ``name``: defaults, then the file's fields, then ``--set`` values."""
    from matinee.models.registry import model_class

    config_type = model_class(name).config_type
    base = (
        config_type() if config_file is None else config_from_file(config_type, name, config_file)
    )
    return with_text_overrides(base, parse_settings(pairs))


def file_configs(chosen: Sequence[str], files: Sequence[Path]) -> dict[str, Any]:
    """Model name -> the config read from its ``--config`` file (each file names its model)."""
    from matinee.models.registry import model_class

    configs: dict[str, Any] = {}
    for path in files:
        named, _ = read_config_file(path)
        if named is None or named not in chosen:
            raise ConfigError(
                f"--config {path}: the file must name a model from --models "
                f"({', '.join(chosen)}); it names {named!r}"
            )
        configs[named] = config_from_file(model_class(named).config_type, named, path)
    return configs
