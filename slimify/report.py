"""What a run tells its user: text, rich renderables, JSON and SARIF, made from the outcomes.

Pure functions from outcomes to text (or to rich objects, which are only descriptions until a
console prints them); nothing here touches the file system or a stream: the CLI does that.
Locations in a notebook are cell-relative: `model.ipynb:cell 3:7` is line 7 of the third cell.
"""

from __future__ import annotations

import difflib
import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from slimify.pipeline import FileOutcome, Options
from slimify.rewrite import Finding, Rewrite

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def located_rewrites(outcome: FileOutcome) -> list[tuple[Rewrite, int | None]]:
    """Each rewrite with its notebook cell (None in a .py file)."""
    if outcome.result is None:
        return []
    cells = getattr(outcome.result, "rewrite_cells", ())
    return [(rewrite, cells[i] if i < len(cells) else None) for i, rewrite in enumerate(outcome.result.rewrites)]


def located_findings(outcome: FileOutcome) -> list[tuple[Finding, int | None]]:
    """Each finding (refusals, unverified rewrites, errors) with its notebook cell, if any.

    A rewrite --verify could not run but applied anyway (the `unverified = "apply"` policy) is
    reported here too, as an "unverified" finding saying why: the user must know which changes
    carry no proof.
    """
    found: list[tuple[Finding, int | None]] = []
    if outcome.result is not None:
        cells = getattr(outcome.result, "finding_cells", ())
        found = [(finding, cells[i] if i < len(cells) else None) for i, finding in enumerate(outcome.result.findings)]
    return [*found, *_rewrite_findings(outcome), *((error, None) for error in outcome.errors)]


def _rewrite_findings(outcome: FileOutcome) -> list[tuple[Finding, int | None]]:
    """What applied rewrites tell the user, as findings: the "unverified" ones (--verify could not
    run them), then "note"s (what changes for the code around them: a translated model's layout)."""
    unverified, notes = [], []
    for rewrite, cell in located_rewrites(outcome) if outcome.changed else ():
        where = (outcome.path, rewrite.start_line, rewrite.family)
        if rewrite.verified is None and rewrite.verification:
            unverified.append((Finding(*where, f"applied without verification: {rewrite.verification}", "unverified"), cell))
        if rewrite.note:
            notes.append((Finding(*where, rewrite.note, "note"), cell))
    return [*unverified, *notes]


def where(finding: Finding, cell: int | None) -> str:
    if cell is not None:
        return f"{finding.path}:cell {cell}:{finding.line}"
    return f"{finding.path}:{finding.line}" if finding.line else finding.path


def errors_of(outcomes: Sequence[FileOutcome]) -> list[Finding]:
    return [f for o in outcomes for f, _ in located_findings(o) if f.kind == "error"]


# ---------------------------------------------------------------------------------------- text


def unified_diff(outcome: FileOutcome) -> str:
    """The change as a unified diff; a notebook shows each changed cell on its own."""
    result = outcome.result
    if result is None or not result.changed:
        return ""
    changes = getattr(result, "cell_changes", None)
    if changes is None:
        pieces = [(result.source, result.new_source, outcome.path)]
    else:
        pieces = [(change.before, change.after, f"{outcome.path}:cell {change.cell}") for change in changes]
    return "".join(
        "".join(
            difflib.unified_diff(
                _ensure_newline(before).splitlines(keepends=True),
                _ensure_newline(after).splitlines(keepends=True),
                fromfile=f"{name} (original)",
                tofile=f"{name} (slimified)",
            )
        )
        for before, after, name in pieces
    )


def _ensure_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def findings_text(outcomes: Sequence[FileOutcome]) -> str:
    """One `path:line: kind: reason` line per refusal, unverified rewrite and error, as compilers print."""
    return "".join(
        f"{where(finding, cell)}: {finding.kind}: {finding.reason}\n" for outcome in outcomes for finding, cell in located_findings(outcome)
    )


def per_file_text(outcomes: Sequence[FileOutcome], options: Options) -> str:
    """Per file with anything to say: blocks rewritten, blocks refused grouped by reason."""
    verb = "rewritten" if options.write else "to rewrite"
    lines = []
    for outcome in outcomes:
        rewrites = len(outcome.result.rewrites) if outcome.result is not None else 0
        refused = Counter(f.reason for f in outcome.findings if f.kind == "refused")
        if not rewrites and not refused:
            continue
        parts = [f"{rewrites} block(s) {verb}"]
        if refused:
            parts.append(f"{sum(refused.values())} refused (" + "; ".join(_counted(refused)) + ")")
        lines.append(f"{outcome.path}: {', '.join(parts)}\n")
    return "".join(lines)


def _counted(reasons: Counter) -> list[str]:
    return [f"{count}x {reason}" if count > 1 else reason for reason, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))]


def totals(outcomes: Sequence[FileOutcome]) -> dict:
    refused = Counter(f.reason for o in outcomes for f in o.findings if f.kind == "refused")
    return {
        # A path that could not be walked was not scanned; a file that failed to parse was.
        "files_scanned": sum(1 for o in outcomes if not any(f.family == "path" for f in o.errors)),
        "files_rewritten": sum(1 for o in outcomes if o.changed),
        "blocks_rewritten": sum(len(o.result.rewrites) for o in outcomes if o.changed),
        "blocks_refused": sum(refused.values()),
        "refused_by_reason": dict(sorted(refused.items(), key=lambda kv: (-kv[1], kv[0]))),
        # Left out (policy skip) or applied without proof (policy apply): either way, not proven.
        "unverified": sum(1 for o in outcomes for f, _ in located_findings(o) if f.kind == "unverified"),
        "verified": sum(1 for o in outcomes if o.changed for r in o.result.rewrites if r.verified),
        "errors": len(errors_of(outcomes)),
    }


def summary_text(outcomes: Sequence[FileOutcome], options: Options) -> str:
    t = totals(outcomes)
    verb = "rewritten" if options.write else "would be rewritten"
    line = (
        f"slimify: {t['files_scanned']} file(s) scanned, {t['files_rewritten']} {verb} "
        f"({t['blocks_rewritten']} block(s) -> {options.target}), {t['blocks_refused']} refused, {t['errors']} error(s)"
    )
    if options.verify:
        line += f", {t['verified']} verified, {t['unverified']} not verified"
    reasons = "".join(f"  refused {count}x: {reason}\n" for reason, count in t["refused_by_reason"].items())
    return line + "\n" + reasons


# ---------------------------------------------------------------------------------------- rich


def rich_diff(diff: str):
    """A unified diff coloured the way git colours it."""
    from rich.text import Text

    text = Text()
    for line in diff.splitlines(keepends=True):
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        text.append(line, style=style)
    return text


def rich_findings(outcomes: Sequence[FileOutcome]):
    from rich.text import Text

    styles = {"error": "bold red", "refused": "yellow", "unverified": "magenta", "note": "cyan"}
    text = Text()
    for outcome in outcomes:
        for finding, cell in located_findings(outcome):
            text.append(f"{where(finding, cell)}: ", style="bold")
            text.append(f"{finding.kind}", style=styles.get(finding.kind, ""))
            text.append(f": {finding.reason}\n")
    return text


def summary_table(outcomes: Sequence[FileOutcome], options: Options):
    """One table: per file with anything to say, then the totals (scanned, rewritten, refused by reason, errors)."""
    from rich.table import Table

    t = totals(outcomes)
    verb = "rewritten" if options.write else "to rewrite"
    changed = "rewritten" if options.write else "to change"
    caption = (
        f"{t['files_scanned']} file(s) scanned, {t['files_rewritten']} {changed}, "
        f"{t['blocks_rewritten']} block(s) -> {options.target}, {t['blocks_refused']} refused, {t['errors']} error(s)"
    )
    if options.verify:
        caption += f", {t['verified']} verified, {t['unverified']} not verified"
    table = Table(title=f"slimify -> {options.target}", title_justify="left", show_footer=True, caption=caption, caption_justify="left")
    table.add_column("file", footer="total", overflow="fold")
    table.add_column(f"blocks {verb}", justify="right", footer=str(t["blocks_rewritten"]), style="green")
    table.add_column("refused (reason)", footer=str(t["blocks_refused"]), style="yellow")
    table.add_column("errors", justify="right", footer=str(t["errors"]), style="red")
    for outcome in outcomes:
        rewrites = len(outcome.result.rewrites) if outcome.changed else 0
        refused = Counter(f.reason for f in outcome.findings if f.kind == "refused")
        errors = sum(1 for f in outcome.findings if f.kind == "error")
        if rewrites or refused or errors:
            table.add_row(outcome.path, str(rewrites), "\n".join(_counted(refused)), str(errors) if errors else "")
    return table


# ---------------------------------------------------------------------------------------- JSON


def _rewrite_json(rewrite: Rewrite, cell: int | None) -> dict:
    entry = {
        "family": rewrite.family,
        "start_line": rewrite.start_line,
        "end_line": rewrite.end_line,
        "before": rewrite.before,
        "after": rewrite.after,
        "verified": rewrite.verified,
        "verification": rewrite.verification,
        "note": rewrite.note,
    }
    return entry if cell is None else {**entry, "cell": cell}


def _finding_json(finding: Finding, cell: int | None) -> dict:
    entry = {"line": finding.line, "family": finding.family, "reason": finding.reason}
    return entry if cell is None else {**entry, "cell": cell}


def render_json(outcomes: Sequence[FileOutcome], options: Options, version: str) -> str:
    """Every file with its rewrites, refusals, unverified rewrites and errors, and the totals."""
    files = []
    for outcome in outcomes:
        findings = located_findings(outcome)
        files.append(
            {
                "path": outcome.path,
                "changed": outcome.changed,
                "written": outcome.written,
                "rewrites": [_rewrite_json(r, c) for r, c in located_rewrites(outcome)] if outcome.changed else [],
                "refusals": [_finding_json(f, c) for f, c in findings if f.kind == "refused"],
                "unverified": [_finding_json(f, c) for f, c in findings if f.kind == "unverified"],
                "notes": [_finding_json(f, c) for f, c in findings if f.kind == "note"],
                "errors": [_finding_json(f, c) for f, c in findings if f.kind == "error"],
            }
        )
    document = {
        "tool": "slimify",
        "version": version,
        "target": options.target,
        "mode": "write" if options.write else "check",
        "files": files,
        "summary": totals(outcomes),
    }
    return json.dumps(document, indent=2) + "\n"


# ---------------------------------------------------------------------------------------- SARIF


def _uri(path: str, root: str) -> tuple[str, bool]:
    """A URI for the path: relative to `root` (as GitHub code scanning wants) when it is under it."""
    absolute = os.path.normpath(os.path.join(root, path))
    relative = os.path.relpath(absolute, root)
    if not relative.startswith(".."):
        return quote(Path(relative).as_posix()), True
    return Path(absolute).as_uri(), False


def render_sarif(outcomes: Sequence[FileOutcome], options: Options, version: str, root: str) -> str:
    """SARIF 2.1.0: rewrites as warnings (notes once written), refusals as notes, errors as errors.

    `root` is the directory relative URIs start from (the repository root in CI).
    """
    rules: dict[str, dict] = {}
    results = []

    def rule(rule_id: str, text: str) -> int:
        if rule_id not in rules:
            rules[rule_id] = {"id": rule_id, "shortDescription": {"text": text}}
        return list(rules).index(rule_id)

    def result(rule_id: str, text: str, level: str, message: str, path: str, start: int, end: int, cell: int | None) -> None:
        uri, relative = _uri(path, root)
        artifact = {"uri": uri, "uriBaseId": "%SRCROOT%"} if relative else {"uri": uri}
        location: dict = {"artifactLocation": artifact}
        if start >= 1 and cell is None:  # a line in a notebook cell is not a line of the .ipynb file
            location["region"] = {"startLine": start, "endLine": max(start, end)}
        if cell is not None:
            message = f"cell {cell}, line {start}: {message}"
        results.append(
            {
                "ruleId": rule_id,
                "ruleIndex": rule(rule_id, text),
                "level": level,
                "message": {"text": message},
                "locations": [{"physicalLocation": location}],
            }
        )

    for outcome in outcomes:
        if outcome.changed:
            for rewrite, cell in located_rewrites(outcome):
                done = "rewritten" if outcome.written else "can be rewritten"
                result(
                    f"{rewrite.family}",
                    f"{rewrite.family} block that slimify rewrites into {options.target}",
                    "note" if outcome.written else "warning",
                    f"{rewrite.family} block {done} as {options.target}:\n{rewrite.after}",
                    outcome.path, rewrite.start_line, rewrite.end_line, cell,
                )  # fmt: skip
        for finding, cell in located_findings(outcome):
            if finding.kind == "error":
                result("error", "a file slimify could not process", "error", finding.reason, finding.path, finding.line, finding.line, cell)
            else:
                result(
                    f"{finding.family}/{finding.kind}",
                    {
                        "unverified": f"{finding.family} block not proven by --verify",
                        "note": f"{finding.family} rewrite: what changes for the code that uses it",
                    }.get(finding.kind, f"{finding.family} block left unchanged ({finding.kind})"),
                    "note",
                    f"{finding.kind}: {finding.reason}",
                    finding.path, finding.line, finding.line, cell,
                )  # fmt: skip
    run = {
        "tool": {"driver": {"name": "slimify", "version": version, "semanticVersion": version, "rules": list(rules.values())}},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(root).as_uri() + "/"}},
        "results": results,
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"
