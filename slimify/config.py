"""`[tool.slimify]` in pyproject.toml: found by walking up from the paths given, flags override it.

    [tool.slimify]
    target = "slim"                      # tf | slim | keras | torch
    select = ["conv_block"]              # rewrite families to run (default: all)
    ignore = []                          # rewrite families to leave out
    exclude = ["generated/*", "*_pb2.py"]
    verify = false                       # prove each rewrite by running it (slimify --verify)
    unverified = "apply"                 # what --verify does with a rewrite it cannot run: apply | skip

The nearest pyproject.toml that has a `[tool.slimify]` table wins, as ruff does with
`[tool.ruff]`; a pyproject.toml without one is passed over. An unknown key or a value of the
wrong type is an error naming the key and the file: a typo must not silently turn a rule off.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from slimify.dialects import DIALECTS

UNVERIFIED_POLICIES = ("apply", "skip")


class ConfigError(Exception):
    """Bad configuration; the message names the file and the key."""


@dataclass(frozen=True)
class Config:
    path: Path | None = None  # the pyproject.toml it came from; None when there is none
    target: str | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    verify: bool | None = None
    unverified: str | None = None


def _string(where: str, key: str, value, choices: tuple[str, ...] | None = None) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: `{key}` must be a string, not {type(value).__name__}")
    if choices is not None and value not in choices:
        raise ConfigError(f"{where}: `{key}` must be one of {', '.join(choices)}, not {value!r}")
    return value


def _strings(where: str, key: str, value) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings")
    return tuple(value)


def _boolean(where: str, key: str, value) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: `{key}` must be true or false, not {value!r}")
    return value


_READERS = {
    "target": lambda where, key, value: _string(where, key, value, DIALECTS),
    "select": _strings,
    "ignore": _strings,
    "exclude": _strings,
    "verify": _boolean,
    "unverified": lambda where, key, value: _string(where, key, value, UNVERIFIED_POLICIES),
}
KEYS = tuple(_READERS)


def parse_table(table: dict, where: str = "[tool.slimify]", path: Path | None = None) -> Config:
    """A `[tool.slimify]` table (already parsed from TOML) to a Config; pure."""
    unknown = sorted(set(table) - set(_READERS))
    if unknown:
        raise ConfigError(f"{where}: unknown key `{unknown[0]}` (known keys: {', '.join(KEYS)})")
    values = {key.replace("-", "_"): _READERS[key](where, key, value) for key, value in table.items()}
    return Config(path=path, **values)


def parse_pyproject(text: str, path: Path) -> Config | None:
    """The Config in a pyproject.toml's text, or None if it has no `[tool.slimify]` table."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    table = document.get("tool", {}).get("slimify")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: `tool.slimify` must be a table")
    return parse_table(table, f"{path} [tool.slimify]", path)


def search_start(paths: Iterable[str]) -> Path:
    """The directory the search for pyproject.toml starts in: the common parent of the paths."""
    directories = []
    for given in paths:
        path = Path(os.path.abspath(given))
        directories.append(path if path.is_dir() else path.parent)
    if not directories:
        return Path.cwd()
    return Path(os.path.commonpath([str(d) for d in directories]))


def find_config(paths: Iterable[str]) -> Config:
    """Walk up from the paths given to the nearest pyproject.toml with a `[tool.slimify]` table."""
    start = search_start(paths)
    for directory in (start, *start.parents):
        config = config_in(directory)
        if config is not None:
            return config
    return Config()


def config_in(directory: Path) -> Config | None:
    """The `[tool.slimify]` of `directory/pyproject.toml`; None when there is no such file or table."""
    candidate = directory / "pyproject.toml"
    if not candidate.is_file():
        return None
    try:
        text = candidate.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{candidate}: cannot read: {error}") from None
    return parse_pyproject(text, candidate)
