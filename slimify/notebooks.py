"""Jupyter notebooks (`.ipynb`, nbformat 4), migrated cell by cell. No file system here.

The code cells are joined into one module, each behind a boundary comment, so a cell sees the
imports of the cells above it (`import tensorflow as tf` is usually in the first cell) and an
import a rewrite needs lands in the first code cell. IPython syntax (`%time x`, `!pip install`,
`x = !ls`, `obj?`) is masked with a `pass` line of the same indentation, and put back after;
a cell that starts with a cell magic (`%%bash`) is not Python and is left out.

Only the `source` of the changed cells changes in the file: their JSON values are replaced in
the original text, so indentation, key order, escapes, outputs and metadata stay byte for byte.
A notebook without rewrites is returned as it came.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from json.decoder import scanstring

from slimify.engine import FileResult, SourceError, rewrite_source
from slimify.rewrite import Finding, Rewrite

_BOUNDARY = "# slimify-notebook-cell-{}"
_BOUNDARY_LINE = re.compile(r"^# slimify-notebook-cell-(\d+)\r?\n?$")
_MASK = "pass  # slimify-notebook-magic-{}"
_MASK_LINE = re.compile(r"^(\s*)pass  # slimify-notebook-magic-(\d+)(\r?\n?)$")
_MAGIC = re.compile(r"^\s*([%!?]|[\w.]+\s*=\s*[%!])|\?\s*$")


@dataclass(frozen=True)
class CellChange:
    cell: int  # 1-based position among all cells of the notebook
    before: str
    after: str


@dataclass(frozen=True)
class NotebookResult(FileResult):
    """A FileResult whose rewrite and finding lines count from the top of a cell."""

    rewrite_cells: tuple[int, ...] = ()  # parallel to `rewrites`
    finding_cells: tuple[int | None, ...] = ()  # parallel to `findings`; None: the whole file
    cell_changes: tuple[CellChange, ...] = ()


def rewrite_notebook(
    text: str,
    target: str,
    *,
    path: str = "<notebook>",
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    review: Callable[[Rewrite], Rewrite | Finding] | None = None,
) -> NotebookResult:
    """Rewrite the code cells of a notebook's JSON text. Raises SourceError for a broken notebook."""
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(error.lineno, f"not a notebook: invalid JSON: {error.msg}") from None
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4 or not isinstance(notebook.get("cells"), list):
        raise SourceError(1, "not an nbformat 4 notebook")
    cells = notebook["cells"]

    module_lines: list[str] = []
    line_owner: list[tuple[int, int]] = []  # module line (0-based) -> (cell, line in cell)
    masked: dict[int, str] = {}  # mask number -> the original line, without its line ending
    originals: dict[int, str] = {}  # cell -> its code as it was
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        code = _cell_code(cell)
        if code is None or code.lstrip().startswith("%%"):
            continue
        originals[number] = code
        module_lines.append(_BOUNDARY.format(number) + "\n")
        line_owner.append((number, 0))
        for line_number, line in enumerate(_python_lines(code, masked), start=1):
            module_lines.append(line)
            line_owner.append((number, line_number))
        if module_lines[-1][-1:] != "\n":
            module_lines[-1] += "\n"
    if not originals:
        return NotebookResult(text, text)
    module = "".join(module_lines)

    def locate(line: int) -> tuple[int, int]:
        return line_owner[max(0, min(line, len(line_owner)) - 1)]

    def within_one_cell(rewrite: Rewrite) -> Rewrite | Finding:
        cell, _ = locate(rewrite.start_line)
        if locate(rewrite.end_line)[0] != cell:
            return Finding(path, rewrite.start_line, rewrite.family, "block spans notebook cells; left unchanged")
        return review(rewrite) if review is not None else rewrite

    try:
        result = rewrite_source(module, target, path=path, select=select, ignore=ignore, review=within_one_cell)
    except SourceError as error:
        cell, line = locate(error.line)
        raise SourceError(error.line, f"cell {cell}, line {line}: {error.message}") from None

    rewrites = []
    rewrite_cells = []
    for rewrite in result.rewrites:
        cell, start = locate(rewrite.start_line)
        _, end = locate(rewrite.end_line)
        rewrites.append(
            replace(rewrite, start_line=start, end_line=end, before=_restore(rewrite.before, masked), after=_restore(rewrite.after, masked))
        )
        rewrite_cells.append(cell)
    findings = []
    finding_cells: list[int | None] = []
    for finding in result.findings:
        cell, line = locate(finding.line)
        findings.append(replace(finding, line=line))
        finding_cells.append(cell)

    def unchanged(*extra: Finding) -> NotebookResult:
        return NotebookResult(text, text, (), (*findings, *extra), result.name_map, (), (*finding_cells, *(None for _ in extra)))

    if not result.changed:
        return unchanged()
    new_cells = _split_cells(result.new_source, list(originals), masked)
    if new_cells is None:  # a rewrite moved a cell boundary: the cells can no longer be told apart
        return unchanged(Finding(path, 0, "notebook", "rewrites would move code between cells; notebook left unchanged", "error"))
    fitted = {cell: _fit_ending(code, originals[cell]) for cell, code in new_cells.items()}
    changes = [CellChange(cell, originals[cell], code) for cell, code in fitted.items() if code != originals[cell]]
    new_text = _splice_sources(text, {change.cell: change.after for change in changes})
    expected = json.loads(text)
    for change in changes:
        cell = expected["cells"][change.cell - 1]
        cell["source"] = change.after.splitlines(keepends=True) if isinstance(cell["source"], list) else change.after
    if json.loads(new_text) != expected:  # never write a notebook whose JSON says anything else
        return unchanged(
            Finding(path, 0, "notebook", "internal error: cell sources could not be replaced; notebook left unchanged", "error")
        )
    return NotebookResult(
        text, new_text, tuple(rewrites), tuple(findings), result.name_map, tuple(rewrite_cells), tuple(finding_cells), tuple(changes)
    )


def _cell_code(cell: dict) -> str | None:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return source if isinstance(source, str) else None


def _python_lines(code: str, masked: dict[int, str]) -> list[str]:
    """The cell's lines, IPython-only lines replaced by `pass` (only if the cell is not Python as is)."""
    lines = code.splitlines(keepends=True)
    try:
        ast.parse(code)
        return lines
    except (SyntaxError, ValueError):
        pass
    out = []
    for line in lines:
        if _MAGIC.search(line.rstrip("\r\n")):
            number = len(masked)
            body = line.rstrip("\r\n")
            masked[number] = body
            indent = body[: len(body) - len(body.lstrip())]
            out.append(indent + _MASK.format(number) + line[len(body) :])
        else:
            out.append(line)
    return out


def _restore(code: str, masked: dict[int, str]) -> str:
    lines = []
    for line in code.splitlines(keepends=True):
        if _BOUNDARY_LINE.match(line):
            continue
        mask = _MASK_LINE.match(line)
        lines.append(masked[int(mask.group(2))] + mask.group(3) if mask else line)
    return "".join(lines)


def _split_cells(module: str, cells: list[int], masked: dict[int, str]) -> dict[int, str] | None:
    """The new code of each cell, or None if the boundaries are not where they were."""
    found: dict[int, list[str]] = {}
    order: list[int] = []
    current: list[str] | None = None
    for line in module.splitlines(keepends=True):
        boundary = _BOUNDARY_LINE.match(line)
        if boundary:
            current = found.setdefault(int(boundary.group(1)), [])
            order.append(int(boundary.group(1)))
            continue
        if current is None:
            return None  # code above the first boundary
        current.append(line)
    if order != cells:
        return None
    mask_count = sum(len(_MASK_LINE.findall(line)) for lines in found.values() for line in lines)
    if mask_count != len(masked):
        return None
    return {cell: _restore("".join(lines), masked) for cell, lines in found.items()}


def _fit_ending(new: str, old: str) -> str:
    """A cell's last line has no newline in nbformat; joining the cells gave it one."""
    if not old.endswith("\n") and new.endswith("\n"):
        return new[:-1]
    return new


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, index: int) -> int:
    return _WHITESPACE.match(text, index).end()


def _members(text: str, index: int) -> Iterable[tuple[str, int, int]]:
    """(key, value start, value end) of the JSON object starting at text[index]."""
    index = _skip(text, index + 1)
    if text[index] == "}":
        return
    while True:
        key, index = scanstring(text, index + 1)
        index = _skip(text, _skip(text, index) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, index)
        yield key, index, end
        index = _skip(text, end)
        if text[index] != ",":
            return
        index = _skip(text, index + 1)


def _elements(text: str, index: int) -> list[tuple[int, int]]:
    """(start, end) of each element of the JSON array starting at text[index]."""
    spans = []
    index = _skip(text, index + 1)
    if text[index] == "]":
        return spans
    while True:
        _, end = _DECODER.raw_decode(text, index)
        spans.append((index, end))
        index = _skip(text, end)
        if text[index] != ",":
            return spans
        index = _skip(text, index + 1)


def _splice_sources(text: str, new_code: dict[int, str]) -> str:
    cells_span = next((start, end) for key, start, end in _members(text, _skip(text, 0)) if key == "cells")
    edits = []
    for number, (start, _) in enumerate(_elements(text, cells_span[0]), start=1):
        if number not in new_code:
            continue
        for key, value_start, value_end in _members(text, start):
            if key == "source":
                edits.append((value_start, value_end, _source_json(text[value_start:value_end], new_code[number])))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _source_json(old: str, code: str) -> str:
    """`code` as a cell's source value, written the way `old` (the value it replaces) was."""
    value = json.loads(old)
    ascii_only = "\\u" in old and old.isascii()
    if isinstance(value, str):
        return json.dumps(code, ensure_ascii=ascii_only)
    items = _elements(old, 0)
    lead = old[1 : items[0][0]] if items else "\n"
    trail = old[items[-1][1] : -1] if items else ""
    separator = old[items[0][1] : items[1][0]] if len(items) > 1 else "," + lead
    lines = code.splitlines(keepends=True)
    return "[" + lead + separator.join(json.dumps(line, ensure_ascii=ascii_only) for line in lines) + trail + "]"
