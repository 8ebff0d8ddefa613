"""Which files a run looks at: the paths given, directories walked as ruff walks them.

Walking a directory takes `.py` and `.ipynb` files and skips what holds no user code:
virtualenvs (any folder with a `pyvenv.cfg`), VCS, build and cache folders, and inside a git
repository whatever its `.gitignore` files (at every level, plus `.git/info/exclude`) ignore.
A path given explicitly is always taken, unless an exclude glob matches it: pre-commit passes
every staged file by name, and `exclude` in the config must still apply to those. A directory
named like a source file (`model.py/`) is reported as bad input and not walked.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "build", "dist",
     "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs", "site-packages",
     ".ipynb_checkpoints"}
)  # fmt: skip
SOURCE_SUFFIXES = (".py", ".ipynb")
# A directory called `model.py` is bad input: reported, and not walked (it is most likely a
# mistake, a copy gone wrong; its files can still be given by name).
NAMED_LIKE_A_FILE = "a directory named like a Python file; not walked (rename it, or give its files by name)"


@dataclass(frozen=True)
class Missing:
    """A path given on the command line that could not be walked."""

    path: str
    reason: str


def discover(
    paths: Iterable[str], exclude: Iterable[str] = (), suffixes=SOURCE_SUFFIXES, respect_gitignore: bool = True
) -> Iterator[Path | Missing]:
    exclude = tuple(exclude)
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if not path.exists() and not path.is_symlink():
            yield Missing(given, "no such file or directory")
        elif path.is_dir() and path.suffix in suffixes:
            yield Missing(given, NAMED_LIKE_A_FILE)
        elif path.is_dir():
            ignores = _GitIgnores.for_directory(path) if respect_gitignore else None
            yield from _walk(path, exclude, suffixes, seen, ignores)
        elif not excluded(path, exclude) and path not in seen:
            seen.add(path)
            yield path


def _walk(root: Path, exclude, suffixes, seen: set[Path], ignores: _GitIgnores | None) -> Iterator[Path | Missing]:
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
        if ignores is not None:
            ignores.enter(directory)
        for d in sorted(dirnames):
            if Path(d).suffix in suffixes and _walked(directory, d, exclude, ignores):
                yield Missing(os.path.join(directory, d), NAMED_LIKE_A_FILE)
        dirnames[:] = sorted(d for d in dirnames if Path(d).suffix not in suffixes and _walked(directory, d, exclude, ignores))
        for name in sorted(filenames):
            path = Path(directory, name)
            if (
                path.suffix in suffixes
                and not excluded(path, exclude)
                and path not in seen
                and not (ignores is not None and ignores.ignored(str(path), is_dir=False))
            ):
                seen.add(path)
                yield path


def _walked(directory: str, name: str, exclude, ignores: _GitIgnores | None) -> bool:
    """Whether the walk goes into the subdirectory `name` (skipped names, excludes, venvs, .gitignore)."""
    return (
        name not in SKIPPED_DIRS
        and not name.endswith(".egg-info")
        and not excluded(Path(directory, name), exclude)
        and not os.path.exists(os.path.join(directory, name, "pyvenv.cfg"))
        and not (ignores is not None and ignores.ignored(os.path.join(directory, name), is_dir=True))
    )


def excluded(path: Path, patterns: tuple[str, ...]) -> bool:
    """A glob matches the path as given, any trailing part of it, or the file name."""
    text = path.as_posix()
    return any(
        fnmatch.fnmatch(text, pattern) or fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(text, f"*/{pattern}")
        for pattern in patterns
    )


class _GitIgnores:
    """The `.gitignore` files that apply under one git work tree, read as the walk reaches them."""

    def __init__(self, top: str) -> None:
        self.top = top
        self._specs: dict[str, object] = {}  # directory (absolute) -> GitIgnoreSpec
        self._entered: set[str] = set()

    @classmethod
    def for_directory(cls, path: Path) -> _GitIgnores | None:
        absolute = os.path.abspath(path)
        for directory in (absolute, *map(str, Path(absolute).parents)):
            if os.path.exists(os.path.join(directory, ".git")):
                ignores = cls(directory)
                ignores._read(directory, os.path.join(directory, ".git", "info", "exclude"))
                # .gitignore files between the work tree's top and the walk's root apply too.
                current = directory
                ignores.enter(current)
                for part in Path(absolute).relative_to(directory).parts:
                    current = os.path.join(current, part)
                    if ignores.ignored(current, is_dir=True):
                        # The user named an ignored directory (a vendored tree, site-packages):
                        # walk it, as a file given by name is taken.
                        return None
                    ignores.enter(current)
                return ignores
        return None  # not in a git repository: there is no .gitignore to respect

    def enter(self, directory: str) -> None:
        directory = os.path.abspath(directory)
        if directory not in self._entered:
            self._entered.add(directory)
            self._read(directory, os.path.join(directory, ".gitignore"))

    def _read(self, directory: str, path: str) -> None:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:
            return
        from pathspec import GitIgnoreSpec  # only walks inside a git work tree need it

        spec = GitIgnoreSpec.from_lines(lines)
        existing = self._specs.get(directory)
        if existing is not None:  # .git/info/exclude and the top .gitignore: the latter wins
            spec = existing + spec
        self._specs[directory] = spec

    def ignored(self, path: str, *, is_dir: bool) -> bool:
        """The deepest .gitignore with a rule for the path decides, as git does."""
        path = os.path.abspath(path)
        directory = os.path.dirname(path)
        while True:
            spec = self._specs.get(directory)
            if spec is not None:
                relative = os.path.relpath(path, directory).replace(os.sep, "/") + ("/" if is_dir else "")
                result = spec.check_file(relative)
                if result.include is not None:
                    return result.include
            if directory == self.top or len(directory) <= len(self.top):
                return False
            directory = os.path.dirname(directory)
