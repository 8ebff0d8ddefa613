"""The `slimify` command line: find files, rewrite them, report, exit 0 / 1 / 2."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections import Counter

from slimify import __version__
from slimify.discovery import Missing, discover
from slimify.pipeline import FileOutcome, Options, process_path
from slimify.rewrite import DIALECTS

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2

EPILOG = """\
examples:
  slimify model.py --diff --to slim     show how hand-written TF1 layers fold into slim calls
  slimify src/ --to slim                rewrite every .py file under src/ in place
  slimify model.py --to tf              expand slim.conv2d calls back into explicit TF ops
  slimify src/ --check                  exit 1 if anything would change (for CI)

exit codes: 0 nothing to do or all written, 1 --diff/--check found changes, 2 an error
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slimify",
        description="Migrate deep-learning model code between TF1 ops, tf_slim, Keras and PyTorch; "
        "every rewrite is one a fixture runner has proven computes the same.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to migrate")
    parser.add_argument("--to", dest="target", choices=DIALECTS, default="slim", help="target dialect (default: slim)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", help="print a unified diff, write nothing")
    mode.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything would change")
    parser.add_argument("--select", help="comma-separated rewrite families to run (default: all)")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip paths matching GLOB")
    parser.add_argument(
        "--name-map",
        metavar="FILE",
        help="write JSON {file: {old variable name: new name}} for rewrites that rename variables",
    )
    parser.add_argument("--version", action="version", version=f"slimify {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.paths:
        build_parser().print_usage(sys.stderr)
        print("slimify: error: give at least one PATH", file=sys.stderr)
        return EXIT_ERROR
    options = Options(
        target=args.target,
        write=not (args.diff or args.check),
        select=tuple(s.strip() for s in args.select.split(",")) if args.select else None,
    )
    outcomes: list[FileOutcome] = []
    errors = 0
    for item in discover(args.paths, args.exclude):
        if isinstance(item, Missing):
            print(f"{item.path}: error: {item.reason}", file=sys.stderr)
            errors += 1
            continue
        outcome = process_path(item, options)
        outcomes.append(outcome)
        for finding in outcome.errors:
            print(f"{finding.path}:{finding.line}: error: {finding.reason}", file=sys.stderr)
            errors += 1
        if args.diff and outcome.changed:
            sys.stdout.write(unified_diff(outcome))
    if args.name_map:
        name_maps = {o.path: o.result.name_map for o in outcomes if o.result is not None and o.result.name_map}
        with open(args.name_map, "w", encoding="utf-8") as handle:
            json.dump(name_maps, handle, indent=2, sort_keys=True)
            handle.write("\n")
    _print_summary(outcomes, options, args, errors)
    if errors:
        return EXIT_ERROR
    if (args.diff or args.check) and any(o.changed for o in outcomes):
        return EXIT_CHANGES
    return EXIT_OK


def unified_diff(outcome: FileOutcome) -> str:
    result = outcome.result
    return "".join(
        difflib.unified_diff(
            result.source.splitlines(keepends=True),
            result.new_source.splitlines(keepends=True),
            fromfile=f"{outcome.path} (original)",
            tofile=f"{outcome.path} (slimified)",
        )
    )


def _print_summary(outcomes: list[FileOutcome], options: Options, args, errors: int) -> None:
    out = sys.stderr
    rewritten = [o for o in outcomes if o.changed]
    for outcome in outcomes:
        for finding in outcome.findings:
            if finding.kind == "refused":
                print(f"{finding.path}:{finding.line}: refused: {finding.reason}", file=out)
    refusals = Counter(f.family for o in outcomes for f in o.findings if f.kind == "refused")
    verb = "rewritten" if options.write else "would be rewritten"
    blocks = sum(len(o.result.rewrites) for o in rewritten)
    print(
        f"slimify: {len(outcomes)} file(s) scanned, {len(rewritten)} {verb} ({blocks} block(s) -> {options.target}), "
        f"{sum(refusals.values())} refused, {errors} error(s)",
        file=out,
    )
