"""One file through slimify: read, rewrite, decide, write. Used by the CLI and by batch mode.

`process_all` runs many files, in worker processes when there are several (`-j N`); `--verify`
gets its review factory once per process, imported only when asked for, so a run without it
never loads slimify.verify (nor TensorFlow).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from slimify.engine import FileResult, SourceError, rewrite_source
from slimify.files import FileError, SourceFile, decode, encode, read_source, write_atomic
from slimify.rewrite import Finding, Rewrite

ReviewFactory = Callable[[str], Callable[[Rewrite], "Rewrite | Finding"]]
NOTEBOOK_SUFFIX = ".ipynb"


@dataclass(frozen=True)
class Options:
    target: str = "slim"
    write: bool = True  # False for --diff / --check
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    verify: bool = False
    unverified: str = "apply"  # what --verify does with a rewrite it cannot prove: apply | skip


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


def rewrite_text(text: str, path: str, options: Options, review_factory: ReviewFactory | None = None) -> FileResult:
    """Source text (Python, or a notebook's JSON when `path` ends in .ipynb) to its rewrite; pure."""
    review = review_factory(path) if review_factory is not None else None
    if path.endswith(NOTEBOOK_SUFFIX):
        from slimify.notebooks import rewrite_notebook

        return rewrite_notebook(text, options.target, path=path, select=options.select, ignore=options.ignore, review=review)
    return rewrite_source(text, options.target, path=path, select=options.select, ignore=options.ignore, review=review)


def process_path(path: Path, options: Options, review_factory: ReviewFactory | None = None) -> FileOutcome:
    """`review_factory(path)`, if given, returns the engine's `review` hook for that file (--verify)."""
    outcome = FileOutcome(str(path))
    try:
        source = read_source(path)
        outcome.result = rewrite_text(source.text, str(path), options, review_factory)
        if options.write and outcome.result.changed:
            write_atomic(path, encode(source, outcome.result.new_source))
            outcome.written = True
    except (FileError, SourceError) as error:
        outcome.errors.append(Finding(str(path), error.line, "input", error.message, "error"))
    except OSError as error:
        outcome.errors.append(Finding(str(path), 0, "input", f"cannot write: {error.strerror or error}", "error"))
    return outcome


def process_bytes(data: bytes, path: str, options: Options, review_factory: ReviewFactory | None = None) -> tuple[FileOutcome, bytes]:
    """Standard input through the tool: the outcome and the bytes to print (the input on error)."""
    outcome = FileOutcome(path)
    try:
        source: SourceFile = decode(data)
        outcome.result = rewrite_text(source.text, path, options, review_factory)
    except (FileError, SourceError) as error:
        outcome.errors.append(Finding(path, error.line, "input", error.message, "error"))
        return outcome, data
    except Exception as error:  # noqa: BLE001 - an editor must get its buffer back, whatever happened
        outcome.result = None
        outcome.errors.append(Finding(path, 0, "engine", f"internal error, input left unchanged: {type(error).__name__}: {error}", "error"))
        return outcome, data
    return outcome, encode(source, outcome.result.new_source) if outcome.changed else data


_factories: dict[str, ReviewFactory] = {}


def review_factory_for(options: Options) -> ReviewFactory | None:
    """The --verify hook, made once per process (its worker and TensorFlow import are costly)."""
    if not options.verify:
        return None
    if options.unverified not in _factories:
        from slimify.verify import make_review_factory

        _factories[options.unverified] = make_review_factory(unverified=options.unverified)
    return _factories[options.unverified]


def _process_guarded(path: Path, options: Options) -> FileOutcome:
    """process_path, but a bug in a codemod costs one file, not the run."""
    try:
        return process_path(path, options, review_factory_for(options))
    except Exception as error:  # noqa: BLE001 - reported as an error finding with its type
        finding = Finding(str(path), 0, "engine", f"internal error, file left unchanged: {type(error).__name__}: {error}", "error")
        return FileOutcome(str(path), errors=[finding])


def _in_worker(path: Path, options: Options) -> FileOutcome:
    outcome = _process_guarded(path, options)
    if outcome.result is not None and not outcome.changed:
        # The parent needs the findings, not a second copy of every unchanged file's text.
        outcome.result = replace(outcome.result, source="", new_source="")
    return outcome


def _fresh_worker() -> None:
    _factories.clear()  # a forked worker must not share the parent's verification subprocess


def process_all(
    paths: Sequence[Path], options: Options, jobs: int = 1, on_done: Callable[[FileOutcome], None] | None = None
) -> list[FileOutcome]:
    """Every path through the tool, in order; `jobs` > 1 uses that many worker processes.

    One file, or one job, runs in this process: pre-commit calls slimify on every commit, and
    starting a pool would cost more than the file.
    """
    if jobs <= 1 or len(paths) <= 1:
        outcomes = []
        for path in paths:
            outcomes.append(_process_guarded(path, options))
            if on_done is not None:
                on_done(outcomes[-1])
        return outcomes
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=min(jobs, len(paths)), initializer=_fresh_worker) as pool:
        futures = [pool.submit(_in_worker, path, options) for path in paths]
        for future in as_completed(futures):
            if on_done is not None:
                on_done(future.result())
        return [future.result() for future in futures]
