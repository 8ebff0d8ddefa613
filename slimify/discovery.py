"""Which files a run looks at: the paths given, directories walked for `.py` files.

Directories that hold no user code are skipped (virtualenvs, VCS and build folders, caches);
a path given explicitly is always taken, as ruff and black do.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "build", "dist",
     "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs", "site-packages"}
)  # fmt: skip
SOURCE_SUFFIXES = (".py",)


@dataclass(frozen=True)
class Missing:
    """A path given on the command line that could not be walked."""

    path: str
    reason: str


def discover(paths: Iterable[str], exclude: Iterable[str] = (), suffixes=SOURCE_SUFFIXES) -> Iterator[Path | Missing]:
    exclude = tuple(exclude)
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if not path.exists() and not path.is_symlink():
            yield Missing(given, "no such file or directory")
        elif path.is_dir():
            yield from _walk(path, exclude, suffixes, seen)
        elif not _excluded(path, exclude) and path not in seen:
            seen.add(path)
            yield path


def _walk(root: Path, exclude, suffixes, seen: set[Path]) -> Iterator[Path | Missing]:
    visited: set[tuple[int, int]] = set()
    for directory, dirnames, filenames in os.walk(root, followlinks=True, onerror=None):
        try:
            stat = os.stat(directory)
        except OSError as error:
            yield Missing(directory, error.strerror or str(error))
            dirnames[:] = []
            continue
        key = (stat.st_dev, stat.st_ino)
        if key in visited:  # a symlink loop: walked once already
            dirnames[:] = []
            continue
        visited.add(key)
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIPPED_DIRS and not d.endswith(".egg-info") and not _excluded(Path(directory, d), exclude)
            and not os.path.exists(os.path.join(directory, d, "pyvenv.cfg"))
        )  # fmt: skip
        for name in sorted(filenames):
            path = Path(directory, name)
            if path.suffix in suffixes and not _excluded(path, exclude) and path not in seen:
                seen.add(path)
                yield path


def _excluded(path: Path, patterns: tuple[str, ...]) -> bool:
    text = path.as_posix()
    return any(
        fnmatch.fnmatch(text, pattern) or fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(text, f"*/{pattern}")
        for pattern in patterns
    )
