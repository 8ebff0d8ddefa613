"""One file through slimify: read, rewrite, decide, write. Used by the CLI and by batch mode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from slimify.engine import FileResult, SourceError, rewrite_source
from slimify.files import FileError, encode, read_source, write_atomic
from slimify.rewrite import Finding, Rewrite

ReviewFactory = Callable[[str], Callable[[Rewrite], "Rewrite | Finding"]]


@dataclass(frozen=True)
class Options:
    target: str = "slim"
    write: bool = True  # False for --diff / --check
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()


@dataclass
class FileOutcome:
    path: str
    result: FileResult | None = None
    errors: list[Finding] = field(default_factory=list)
    written: bool = False

    @property
    def changed(self) -> bool:
        return self.result is not None and self.result.changed

    @property
    def findings(self) -> list[Finding]:
        return [*(self.result.findings if self.result else ()), *self.errors]


def process_path(path: Path, options: Options, review_factory: ReviewFactory | None = None) -> FileOutcome:
    """`review_factory(path)`, if given, returns the engine's `review` hook for that file (--verify)."""
    outcome = FileOutcome(str(path))
    try:
        source = read_source(path)
        outcome.result = rewrite_source(
            source.text,
            options.target,
            path=str(path),
            select=options.select,
            ignore=options.ignore,
            review=review_factory(str(path)) if review_factory is not None else None,
        )
        if options.write and outcome.result.changed:
            write_atomic(path, encode(source, outcome.result.new_source))
            outcome.written = True
    except (FileError, SourceError) as error:
        outcome.errors.append(Finding(str(path), error.line, "input", error.message, "error"))
    except OSError as error:
        outcome.errors.append(Finding(str(path), 0, "input", f"cannot write: {error.strerror or error}", "error"))
    return outcome
