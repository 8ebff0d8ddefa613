"""The `slimify` command line: find files, rewrite them, report, exit 0 / 1 / 2.

Imports stay light until there is work to do: `slimify --version` and `--help` load neither
LibCST nor rich (pre-commit runs slimify on every commit).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace

from slimify import __version__
from slimify.config import UNVERIFIED_POLICIES, Config, ConfigError, find_config
from slimify.dialects import DIALECTS

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2
# A progress bar appears once a run has taken this long (seconds) on a terminal.
PROGRESS_AFTER = float(os.environ.get("SLIMIFY_PROGRESS_AFTER", "0.5"))

EPILOG = """\
examples:
  slimify model.py --diff --to slim       show how hand-written TF1 layers fold into slim calls
  slimify src/ --to slim                  rewrite every .py and .ipynb file under src/ in place
  slimify model.py --to tf                expand slim.conv2d calls back into explicit TF ops
  slimify src/ --check                    exit 1 if anything would change (for CI)
  slimify src/ --check --format sarif     a SARIF log for GitHub code scanning
  slimify src/ --verify                   run each block before and after; apply only proven ones
  slimify - --stdin-filename model.py     editor integration: stdin in, rewritten code out
  slimify batch repo1 repo2 --to slim     many git repositories: a branch and a commit in each
                                          (see slimify batch --help; a folder named batch: ./batch)

configuration: [tool.slimify] in the nearest pyproject.toml above the paths
  (target, select, ignore, exclude, verify, unverified); flags override it.

exit codes: 0 nothing to do or all written, 1 --diff/--check found changes, 2 an error
  (bad config, a file that does not parse), reported after every other file was processed
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slimify",
        description="Migrate deep-learning model code between TF1 ops, tf_slim, Keras and PyTorch; "
        "every rewrite is one a fixture runner has proven computes the same.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to migrate; - reads standard input")
    parser.add_argument("--to", dest="target", choices=DIALECTS, default=None, help="target dialect (default: slim)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", help="print a unified diff, write nothing; exit 1 if there are changes")
    mode.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything would change")
    parser.add_argument("--select", metavar="FAMILIES", help="comma-separated rewrite families to run (default: all)")
    parser.add_argument("--ignore", metavar="FAMILIES", help="comma-separated rewrite families to leave out")
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB", help="skip paths matching GLOB (repeatable; adds to the config's)"
    )
    parser.add_argument("--no-gitignore", action="store_true", help="walk files that .gitignore ignores too")
    parser.add_argument(
        "--verify", action=argparse.BooleanOptionalAction, default=None, help="run every block before and after its rewrite"
    )
    parser.add_argument(
        "--unverified",
        choices=UNVERIFIED_POLICIES,
        default=None,
        help="with --verify, a rewrite that cannot be run: apply (default) or skip",
    )
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="report format on stdout (default: text)")
    parser.add_argument("-j", "--jobs", type=int, default=None, metavar="N", help="worker processes (default: the number of cores)")
    parser.add_argument("--stdin-filename", metavar="PATH", help="with -, the file name standard input stands for")
    parser.add_argument(
        "--name-map",
        metavar="FILE",
        help="write JSON {file: {old variable name: new name}} for rewrites that rename variables",
    )
    parser.add_argument("--version", action="version", version=f"slimify {__version__}")
    return parser


def _families(text: str | None) -> tuple[str, ...] | None:
    return tuple(s.strip() for s in text.split(",") if s.strip()) if text is not None else None


def _options(args, config: Config):
    from slimify.engine import load_codemods
    from slimify.pipeline import Options

    select = _families(args.select) if args.select is not None else config.select
    ignore = _families(args.ignore) if args.ignore is not None else config.ignore
    known = load_codemods().families
    for name in (*(select or ()), *ignore):
        if name not in known:
            raise ConfigError(f"unknown rewrite family `{name}` (known: {', '.join(known)})")
    return Options(
        target=args.target or config.target or "slim",
        write=not (args.diff or args.check),
        select=select,
        ignore=tuple(ignore),
        verify=args.verify if args.verify is not None else bool(config.verify),
        unverified=args.unverified or config.unverified or "apply",
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["batch"]:  # a folder named batch is given as ./batch
        from slimify import batch

        return batch.main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.paths:
        parser.print_usage(sys.stderr)
        print("slimify: error: give at least one PATH (or - for standard input)", file=sys.stderr)
        return EXIT_ERROR
    stdin = "-" in args.paths
    if stdin and len(args.paths) > 1:
        print("slimify: error: - (standard input) cannot be combined with other paths", file=sys.stderr)
        return EXIT_ERROR
    if args.jobs is not None and args.jobs < 1:
        print("slimify: error: -j needs a number of at least 1", file=sys.stderr)
        return EXIT_ERROR
    try:
        config = find_config([args.stdin_filename or "."] if stdin else args.paths)
        options = _options(args, config)
    except ConfigError as error:
        print(f"slimify: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    exclude = (*config.exclude, *args.exclude)
    if stdin:
        return _run_stdin(args, options, exclude)
    return _run_paths(args, options, exclude)


def _run_stdin(args, options, exclude) -> int:
    from pathlib import Path

    from slimify.discovery import excluded
    from slimify.pipeline import process_bytes, review_factory_for

    data = sys.stdin.buffer.read()
    path = args.stdin_filename or "-"
    if args.stdin_filename and excluded(Path(path), exclude):
        if not (args.diff or args.check):
            sys.stdout.buffer.write(data)
        return EXIT_OK
    reading = replace(options, write=False)  # standard input is never a file to write
    outcome, output = process_bytes(data, path, reading, review_factory_for(options))
    if args.format == "text":
        if args.diff:
            _show_diffs([outcome])
        elif not args.check:
            sys.stdout.buffer.write(output)
            sys.stdout.flush()
    return _finish(args, options, [outcome])


def _run_paths(args, options, exclude) -> int:
    from slimify.discovery import Missing, discover
    from slimify.pipeline import FileOutcome, process_all
    from slimify.rewrite import Finding

    missing: list[FileOutcome] = []
    paths = []
    for item in discover(args.paths, exclude, respect_gitignore=not args.no_gitignore):
        if isinstance(item, Missing):
            missing.append(FileOutcome(item.path, errors=[Finding(item.path, 0, "path", item.reason, "error")]))
        else:
            paths.append(item)
    jobs = args.jobs or os.cpu_count() or 1
    with _Progress(len(paths)) as progress:
        outcomes = process_all(paths, options, jobs, on_done=progress.advance)
    outcomes = [*missing, *outcomes]
    if args.name_map:
        name_maps = {o.path: o.result.name_map for o in outcomes if o.result is not None and o.result.name_map}
        with open(args.name_map, "w", encoding="utf-8") as handle:
            json.dump(name_maps, handle, indent=2, sort_keys=True)
            handle.write("\n")
    if args.format == "text" and args.diff:
        _show_diffs(outcomes)
    return _finish(args, options, outcomes)


def _finish(args, options, outcomes) -> int:
    """Print the report the format asks for and decide the exit code."""
    from slimify import report

    if args.format == "json":
        sys.stdout.write(report.render_json(outcomes, options, __version__))
    elif args.format == "sarif":
        sys.stdout.write(report.render_sarif(outcomes, options, __version__, os.getcwd()))
    if _fancy(sys.stderr):
        from rich.console import Console

        console = Console(file=sys.stderr, highlight=False)
        console.print(report.rich_findings(outcomes), end="")
        console.print(report.summary_table(outcomes, options))
    else:
        sys.stderr.write(report.findings_text(outcomes))
        sys.stderr.write(report.per_file_text(outcomes, options))
        sys.stderr.write(report.summary_text(outcomes, options))
    if report.errors_of(outcomes):
        return EXIT_ERROR
    if (args.diff or args.check) and any(o.changed for o in outcomes):
        return EXIT_CHANGES
    return EXIT_OK


def _fancy(stream) -> bool:
    """Colours and tables only for a person at a terminal, and never when NO_COLOR is set."""
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _show_diffs(outcomes) -> None:
    from slimify.report import rich_diff, unified_diff

    diffs = [unified_diff(o) for o in outcomes if o.changed]
    if _fancy(sys.stdout):
        from rich.console import Console

        console = Console(highlight=False, soft_wrap=True)
        for diff in diffs:
            console.print(rich_diff(diff), end="")
    else:
        sys.stdout.write("".join(diffs))
        sys.stdout.flush()


class _Progress:
    """A progress bar on stderr, shown only at a terminal and only once the run takes a while."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.enabled = total > 1 and _fancy(sys.stderr)
        self.bar = None

    def __enter__(self) -> _Progress:
        return self

    def advance(self, _outcome) -> None:
        self.done += 1
        if not self.enabled:
            return
        if self.bar is None and time.monotonic() - self.started >= PROGRESS_AFTER and self.done < self.total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("slimify"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(file=sys.stderr), transient=True,
            )  # fmt: skip
            self.task = self.bar.add_task("files", total=self.total)
            self.bar.start()
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
