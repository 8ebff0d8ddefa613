"""The engine: source text in, (new text, rewrites, findings) out. No file system here.

For every suite (module body, indented block) the planner offers each statement to the
recognizers of every dialect other than the target; a recognized block is handed to the
target's emitter for its IR type. Edits are collected on the original tree, applied in one
pass, then imports are fixed up: the file's own aliases are reused, a missing import is added,
and an import the rewrite made unused is removed.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider, QualifiedNameSource

from slimify import names as N
from slimify.dialects import DIALECTS, SOURCES
from slimify.ir import LayerCall
from slimify.rewrite import (
    Emitter,
    FileFacts,
    Finding,
    Recognized,
    Recognizer,
    Refusal,
    Rewrite,
    Site,
    Suite,
)


class SourceError(Exception):
    """The input cannot be processed (does not parse); carries the line for the user."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class FileResult:
    source: str
    new_source: str
    rewrites: tuple[Rewrite, ...] = ()
    findings: tuple[Finding, ...] = ()
    # Variables whose graph names changed (old -> new, without ":0"), for --name-map.
    name_map: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.new_source != self.source


@dataclass(frozen=True)
class Codemods:
    recognizers: tuple[Recognizer, ...]
    emitters: tuple[Emitter, ...]

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(sorted({r.family for r in self.recognizers}))

    def markers(self, target: str) -> tuple[str, ...]:
        found: set[str] = set()
        for recognizer in self.recognizers:
            if recognizer.dialect in SOURCES[target]:
                found.update(getattr(recognizer, "markers", ()))
        return tuple(sorted(found))


@cache
def load_codemods(package: str = "codemods") -> Codemods:
    """Every RECOGNIZERS / EMITTERS list in the package's modules: adding a file adds a rule."""
    root = importlib.import_module(package)
    recognizers: list[Recognizer] = []
    emitters: list[Emitter] = []
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package}.{info.name}")
        recognizers.extend(getattr(module, "RECOGNIZERS", ()))
        emitters.extend(getattr(module, "EMITTERS", ()))
    return Codemods(tuple(recognizers), tuple(emitters))


def rewrite_source(
    source: str,
    target: str,
    *,
    path: str = "<string>",
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    codemods: Codemods | None = None,
    review: Callable[[Rewrite], Rewrite | Finding] | None = None,
    prefilter: bool = True,
) -> FileResult:
    """Rewrite `source` towards the `target` dialect. Raises SourceError if it does not parse.

    `review`, if given, sees every planned rewrite before it is applied (the verifier's hook):
    it returns the rewrite to apply (with `verified` set as it found) or a Finding that says why
    the rewrite is left out; the rest of the file is rewritten either way. While it runs,
    `review_context()` tells it what the Rewrite does not carry (the file's imports, renames).

    `prefilter=False` parses every file, even one no recognizer could match (for fuzzing).
    """
    if target not in DIALECTS:
        raise ValueError(f"unknown target dialect {target!r}; choose one of {', '.join(DIALECTS)}")
    codemods = codemods or load_codemods()
    selected = set(select) if select is not None else None
    recognizers = [
        r
        for r in codemods.recognizers
        if r.dialect in SOURCES[target] and (selected is None or r.family in selected) and r.family not in set(ignore)
    ]
    emitters = {layer_type: e for e in codemods.emitters if e.dialect == target for layer_type in e.layer_types}
    if not recognizers or (prefilter and not may_match(source, recognizers)):
        return FileResult(source, source)

    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        try:  # Python's own message and line are the ones users know
            compile(source, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        except SyntaxError as python_error:
            raise SourceError(python_error.lineno or 1, f"syntax error: {python_error.msg}") from None
        except ValueError as python_error:  # e.g. null bytes
            raise SourceError(1, f"cannot parse: {python_error}") from None
        raise SourceError(error.raw_line, f"LibCST cannot parse this file: {error.message}") from None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    qualified_names = wrapper.resolve(QualifiedNameProvider)
    positions = wrapper.resolve(PositionProvider)
    aliases = _module_aliases(module)

    def reached_as(node: cst.CSTNode) -> set[str]:
        """Every qualified name the node may have, as the file reaches it: more than one when the
        name is bound several ways (`import tensorflow.compat.v1 as tf` and `import tensorflow as
        tf`, or `tf = tf.compat.v1`)."""
        found = qualified_names.get(node)
        if found is None:
            return set()
        if not isinstance(found, (set, frozenset)):
            found = found()  # libcst resolves qualified names lazily
        candidates = set()
        for qname in found:
            if qname.source is QualifiedNameSource.IMPORT:
                candidates.add(qname.name)
            elif qname.source is QualifiedNameSource.LOCAL:
                head, _, rest = qname.name.partition(".")
                if head in aliases.assigned and rest:
                    candidates.add(f"{aliases.assigned[head][0]}.{rest}")
        return candidates

    def spelled(node: cst.CSTNode) -> str | None:
        """The qualified name as the file reaches it (`tensorflow.compat.v1.nn.conv2d`); None when
        it is bound several ways, so which one a call sees is not known here."""
        candidates = reached_as(node)
        return candidates.pop() if len(candidates) == 1 else None

    def qualified(node: cst.CSTNode) -> str | None:
        """The canonical qualified name; None when the ways it is bound name different APIs."""
        candidates = {N.canonical(name) for name in reached_as(node)}
        return candidates.pop() if len(candidates) == 1 else None

    def line_of(node: cst.CSTNode) -> int:
        return positions[node].start.line

    facts = FileFacts(path=path, module=module, qualified=qualified, spelled=spelled, line_of=line_of, position_of=positions.__getitem__)
    planner = _Planner(facts, recognizers, emitters, target, aliases)
    module.visit(planner)
    findings = list(planner.findings)
    accepted: list[tuple[_Edit, Rewrite]] = []
    refused_groups = dict(planner.refused_groups)
    for edit in planner.edit_list:
        rewrite = Rewrite(
            family=edit.family,
            start_line=edit.start_line,
            end_line=edit.end_line,
            before=edit.before,
            # What the rewrite writes: its statements, and any module-level helper they use.
            after="".join(module.code_for_node(s) for s in (*planner.helper_statements(edit.helpers), *edit.statements)),
            ir=edit.ir,
            note=edit.note,
        )
        verdict = rewrite
        if review is not None:
            token = _REVIEW_CONTEXT.set(ReviewContext(source, dict(edit.renames), tuple(edit.imports.values())))
            try:
                verdict = review(rewrite)
            finally:
                _REVIEW_CONTEXT.reset(token)
        if isinstance(verdict, Finding):
            findings.append(verdict)
            if edit.group is not None:
                refused_groups.setdefault(edit.group, verdict.reason)
        else:
            accepted.append((edit, verdict))
    accepted, dropped = _whole_groups(accepted, planner, refused_groups, path)
    findings.extend(dropped)
    if not accepted:
        return FileResult(source, source, findings=tuple(findings))

    edits = [edit for edit, _ in accepted]
    new_module = module.visit(_Applier(edits))
    needed = list(dict.fromkeys(key for edit in edits for key in edit.helpers))
    new_module = _insert_helpers(new_module, planner.helper_statements(needed))
    new_module = _fix_imports(new_module, planner.speller, edits)
    new_source = new_module.code
    try:
        compile(new_source, path, "exec")
    except SyntaxError as error:  # a bug in an emitter: never write code that does not compile
        finding = Finding(path, error.lineno or 1, "engine", f"internal error, file left unchanged: {error}", "error")
        return FileResult(source, source, findings=(*findings, finding))
    name_map = {old: new for edit in edits for old, new in edit.renames}
    return FileResult(source, new_source, tuple(r for _, r in accepted), tuple(findings), name_map)


def _whole_groups(accepted, planner: _Planner, refused: dict[str, str], path: str):
    """Drop every rewrite of a group that cannot be applied whole; a finding says why for each."""
    planned: dict[str, int] = {}
    for edit in planner.edit_list:
        if edit.group is not None:
            planned[edit.group] = planned.get(edit.group, 0) + 1
    kept, dropped = [], []
    for edit, rewrite in accepted:
        group = edit.group
        if group is None or (group not in refused and planned[group] == edit.group_size):
            kept.append((edit, rewrite))
            continue
        why = refused.get(group) or f"only {planned[group]} of its {edit.group_size} parts could be rewritten"
        reason = f"left unchanged with the rest of its rewrite ({why})"
        dropped.append(Finding(path, edit.start_line, edit.family, reason, "refused"))
    return kept, dropped


@dataclass(frozen=True)
class ReviewContext:
    """What a `review` hook may need beyond the Rewrite: where it came from and what it renames."""

    source: str  # the whole text the rewrite was planned on (its imports bind the block's names)
    renames: dict[str, str]  # graph variable names the rewrite changes (old -> new)
    added_imports: tuple[tuple[str, str], ...]  # (module, alias) the rewrite adds to the file


_REVIEW_CONTEXT: ContextVar[ReviewContext | None] = ContextVar("slimify_review_context", default=None)


def review_context() -> ReviewContext | None:
    """The context of the rewrite being reviewed, inside a `review` call; None elsewhere.

    A context variable rather than an argument, so wrappers (the notebook's one-cell check)
    pass it through without knowing about it.
    """
    return _REVIEW_CONTEXT.get()


# --- The prefilter: most files in a tree hold no candidate, and parsing is what costs. --------
#
# A recognizer matches library calls through qualified names, so it can only fire in a file
# that names one of its markers *and* imports its dialect's library (outside TensorFlow's
# internal packages, which no canonical name covers). Two cheap stages before LibCST: a scan of
# import lines, then (only for files that pass) `ast` to drop imports that sit in docstrings.

_IMPORT_LINE = re.compile(r"^[ \t]*(?:import|from)[ \t]+[^\n]*", re.MULTILINE)
_TF_INTERNAL = frozenset(
    {"python", "core", "compiler", "tools", "lite", "dtensor", "tsl", "include", "security", "xla_aot_runtime_src", "_api"}
)


def _libraries_of(module_name: str) -> frozenset[str]:
    """Dialects whose recognizers an import of `module_name` can feed."""
    head, _, rest = module_name.partition(".")
    if head == "tensorflow":
        if rest.split(".")[0] in _TF_INTERNAL:
            return frozenset()
        return frozenset({"tf", "slim", "keras"})  # tf.contrib.slim, tf.keras
    return {"tf_slim": frozenset({"slim"}), "keras": frozenset({"keras"}), "torch": frozenset({"torch"})}.get(head, frozenset())


def _line_modules(line: str) -> list[str]:
    words = line.split()
    if words[0] == "from":
        return [words[1]] if len(words) > 1 else []
    names = line.strip()[len("import") :].split("#")[0]
    return [part.split()[0] for part in names.replace("\\", " ").replace("(", " ").split(",") if part.split()]


def _imported_dialects_by_lines(source: str) -> frozenset[str]:
    found: set[str] = set()
    for match in _IMPORT_LINE.finditer(source):
        for line in match.group().split(";"):  # `import os; import tensorflow as tf`
            named = "tensorflow" in line or "slim" in line or "keras" in line or "torch" in line
            if named and line.split()[:1] in (["import"], ["from"]):
                for module_name in _line_modules(line):
                    found |= _libraries_of(module_name)
    return frozenset(found)


def _imported_dialects_by_ast(source: str) -> frozenset[str] | None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # LibCST reports it properly
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= _libraries_of(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= _libraries_of(node.module)
    return frozenset(found)


def may_match(source: str, recognizers: Iterable[Recognizer]) -> bool:
    """False when no recognizer could match anything in `source` (so it need not be parsed).

    A recognizer may declare `prefilter(source) -> bool` to decide for itself; otherwise it is
    a candidate when one of its `markers` occurs and its dialect's library is imported.
    """
    by_markers = []
    for recognizer in recognizers:
        custom = getattr(recognizer, "prefilter", None)
        if custom is not None:
            if custom(source):
                return True
        elif any(marker in source for marker in getattr(recognizer, "markers", ())):
            by_markers.append(recognizer)
    if not by_markers:
        return False
    dialects = {r.dialect for r in by_markers} & _imported_dialects_by_lines(source)
    if not dialects:
        return False
    confirmed = _imported_dialects_by_ast(source)
    return confirmed is None or bool(dialects & confirmed)


@dataclass
class _Aliases:
    imported: dict[str, tuple[str, str]] = field(default_factory=dict)  # local -> (raw module, canonical)
    assigned: dict[str, tuple[str, str]] = field(default_factory=dict)  # local -> (raw module, canonical): `slim = tf.contrib.slim`
    bound: set[str] = field(default_factory=set)  # every name bound anywhere in the file


def _module_aliases(module: cst.Module) -> _Aliases:
    aliases = _Aliases()

    class _Collect(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> None:
            for alias in node.names:
                full = N.dotted(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local, raw = alias.asname.name.value, full
                else:
                    local = raw = full.split(".")[0]
                aliases.imported.setdefault(local, (raw, N.canonical(raw)))
                aliases.bound.add(local)

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            if node.module is None or isinstance(node.names, cst.ImportStar) or node.relative:
                return
            base = N.dotted(node.module) or ""
            for alias in node.names:
                name = N.dotted(alias.name) or ""
                local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
                aliases.imported.setdefault(local, (f"{base}.{name}", N.canonical(f"{base}.{name}")))
                aliases.bound.add(local)

        def visit_Name(self, node: cst.Name) -> None:
            aliases.bound.add(node.value)  # over-approximates: any use makes a name unavailable

    module.visit(_Collect())
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                value = N.dotted(small.value)
                head, _, rest = (value or "").partition(".")
                if head in aliases.imported:
                    module_name = f"{aliases.imported[head][0]}.{rest}" if rest else aliases.imported[head][0]
                    aliases.assigned[small.targets[0].target.value] = (module_name, N.canonical(module_name))
    return aliases


@dataclass
class _Helper:
    """A module-level definition emitted code relies on, with the imports it needs itself."""

    name: str
    statement: cst.BaseStatement
    imports: dict[str, tuple[str, str]]
    used_modules: set[str]


class _Speller:
    """Spells qualified names with the file's aliases; records imports that must be added."""

    def __init__(self, aliases: _Aliases) -> None:
        self._aliases = aliases
        self.added: dict[str, tuple[str, str]] = {}  # canonical module -> (module, alias)
        self.used_modules: set[str] = set()
        self.helpers: dict[str, _Helper] = {}  # key -> helper, for the whole file
        self.helpers_used: list[str] = []  # keys the current emit asked for

    def module_helper(self, key: str, make) -> str:
        helper = self.helpers.get(key)
        if helper is None:
            name = self.fresh(key)
            self._aliases.bound.add(name)
            added, used = dict(self.added), set(self.used_modules)
            statement = make(name)
            imports = {canon: spec for canon, spec in self.added.items() if canon not in added}
            helper = _Helper(name, statement, imports, self.used_modules - used)
            self.helpers[key] = helper
        self.added.update(helper.imports)
        self.used_modules |= helper.used_modules
        if key not in self.helpers_used:
            self.helpers_used.append(key)
        return helper.name

    def ref(self, qualified_name: str) -> cst.BaseExpression:
        local, rest = self._local_for(qualified_name)
        return cst.parse_expression(f"{local}.{rest}" if rest else local)

    def fresh(self, base: str) -> str:
        name, n = base, 0
        while name in self._aliases.bound:
            n += 1
            name = f"{base}_{n}"
        return name

    def _local_for(self, qualified_name: str) -> tuple[str, str]:
        candidates = []
        for local, (raw, canon) in self._aliases.imported.items():
            candidates.append((local, raw, canon))
        for local, (_, canon) in self._aliases.assigned.items():
            candidates.append((local, canon, canon))
        matches = [
            (local, raw, canon) for local, raw, canon in candidates if qualified_name == canon or qualified_name.startswith(canon + ".")
        ]
        if matches:
            # The library's root alias first (`tf` over `nn`), compat.v1 over plain tensorflow.
            local, raw, canon = min(matches, key=lambda m: (len(m[2]), "compat.v1" not in m[1], m[0]))
            self.used_modules.add(canon)
            return local, qualified_name[len(canon) + 1 :]
        for canon in sorted(N.DEFAULT_IMPORTS, key=len, reverse=True):
            if qualified_name == canon or qualified_name.startswith(canon + "."):
                module, alias = N.DEFAULT_IMPORTS[canon]
                if alias in self._aliases.bound and canon not in self.added:
                    raise _NameUnavailable(f"cannot add `import {module} as {alias}`: `{alias}` is already used in this file")
                self.added[canon] = (module, alias)
                return alias, qualified_name[len(canon) + 1 :]
        raise _NameUnavailable(f"no import known for {qualified_name}")


class _NameUnavailable(Exception):
    pass


@dataclass
class _Edit:
    family: str
    start: int
    span: int
    statements: list[cst.BaseStatement]
    start_line: int
    end_line: int
    before: str
    ir: Any
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)  # canonical module -> (module, alias)
    used_modules: set[str] = field(default_factory=set)
    releases: tuple[str, ...] = ()
    removals: tuple[cst.CSTNode, ...] = ()
    renames: tuple[tuple[str, str], ...] = ()
    group: str | None = None
    group_size: int = 1
    helpers: tuple[str, ...] = ()  # keys of the module-level helpers its statements use
    note: str = ""
    suite: int = 0  # id() of the original suite holding the consumed statements


class _Planner(cst.CSTVisitor):
    def __init__(self, facts: FileFacts, recognizers, emitters, target: str, aliases: _Aliases) -> None:
        self.facts = facts
        self.recognizers = recognizers
        self.emitters = emitters
        self.target = target
        self.speller = _Speller(aliases)
        self.suite_of: dict[int, int] = {}  # id(first consumed statement) -> id(its suite)
        self.edit_list: list[_Edit] = []
        self.findings: list[Finding] = []
        self.refused_groups: dict[str, str] = {}  # group -> why one of its parts was refused
        self._suites: list[Suite] = []
        self._owners: list[cst.CSTNode] = []
        self._consumed: set[int] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self._consumed:
            return False
        if isinstance(node, (cst.BaseCompoundStatement, cst.ClassDef, cst.FunctionDef)):
            self._owners.append(node)
        if isinstance(node, (cst.Module, cst.IndentedBlock)):
            self._enter_suite(node)
        elif self._suites and isinstance(node, cst.BaseStatement):
            suite = self._suites[-1]
            for i, statement in enumerate(suite.body):
                if statement is node:
                    suite.index = i
                    break
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, (cst.Module, cst.IndentedBlock)) and self._suites:
            self._suites.pop()
        if self._owners and self._owners[-1] is original_node:
            self._owners.pop()

    def _enter_suite(self, node: cst.Module | cst.IndentedBlock) -> None:
        owner = self._owners[-1] if isinstance(node, cst.IndentedBlock) and self._owners else None
        suite = Suite(owner=owner, body=node.body)
        self._suites.append(suite)
        index = 0
        while index < len(node.body):
            suite.index = index
            edit = self._try_statement(index)
            if edit is None:
                index += 1
                continue
            edit.suite = id(node)
            self.edit_list.append(edit)
            for statement in node.body[index : index + edit.span]:
                self._consumed.add(id(statement))
            index += edit.span
        suite.index = 0

    def _try_statement(self, index: int) -> _Edit | None:
        site = Site(self.facts, list(self._suites))
        for recognizer in self.recognizers:
            result = recognizer.recognize(site)
            if result is None:
                continue
            if isinstance(result, Refusal):
                self._refuse(result)
                return None
            return self._emit(site, result)
        return None

    def _emit(self, site: Site, recognized: Recognized) -> _Edit | None:
        ir = recognized.ir
        emitter = self.emitters.get(type(ir.layer if isinstance(ir, LayerCall) else ir))
        if emitter is None:
            return None  # no arrow from this dialect to the target yet
        self.speller.added, self.speller.used_modules, self.speller.helpers_used = {}, set(), []
        try:
            statements = emitter.emit(ir, self.speller)
        except _NameUnavailable as error:
            statements = Refusal(recognized.family, self.facts.line_of(site.statement), str(error))
        if isinstance(statements, Refusal):
            self._refuse(statements)
            if recognized.group is not None:
                self.refused_groups.setdefault(recognized.group, statements.reason)
            return None
        consumed = site.body[site.index : site.index + recognized.span]
        for node in recognized.removals:
            self._consumed.add(id(node))
        return _Edit(
            family=recognized.family,
            start=site.index,
            span=recognized.span,
            statements=_carry_comments(consumed, statements),
            start_line=self.facts.line_of(consumed[0]),
            end_line=self.facts.position_of(consumed[-1]).end.line,
            before="".join(self.facts.code(s) for s in consumed),
            ir=ir,
            imports=dict(self.speller.added),
            used_modules=set(self.speller.used_modules),
            releases=recognized.releases,
            removals=recognized.removals,
            renames=recognized.renames,
            group=recognized.group,
            group_size=recognized.group_size,
            helpers=tuple(self.speller.helpers_used),
            note=recognized.note,
        )

    def helper_statements(self, keys) -> list[cst.BaseStatement]:
        return [self.speller.helpers[key].statement for key in keys]

    def _refuse(self, refusal: Refusal) -> None:
        self.findings.append(Finding(self.facts.path, refusal.line, refusal.family, refusal.reason))


def _carry_comments(consumed, statements: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
    """Keep the blank lines and comments of the replaced statements above the replacement."""
    leading = list(getattr(consumed[0], "leading_lines", ()))
    kept = {id(line.comment) for line in leading if line.comment is not None}
    inner: list[cst.EmptyLine] = []

    class _Kept(cst.CSTVisitor):  # comments an emitter carried over itself (a reused statement)
        def visit_Comment(self, node: cst.Comment) -> None:
            kept.add(id(node))

    class _Comments(cst.CSTVisitor):
        def visit_Comment(self, node: cst.Comment) -> None:
            if id(node) not in kept:
                inner.append(cst.EmptyLine(comment=node))

    for statement in statements:
        statement.visit(_Kept())
    for statement in consumed:
        statement.visit(_Comments())
    first = statements[0]
    return [first.with_changes(leading_lines=[*leading, *inner]), *statements[1:]]


def _insert_helpers(module: cst.Module, helpers: list[cst.BaseStatement]) -> cst.Module:
    """Module-level helpers go after the leading docstring and imports, before any code uses them."""
    if not helpers:
        return module
    body = list(module.body)
    index = 0
    while index < len(body) and _is_preamble(body[index]):
        index += 1
    two_blank = [cst.EmptyLine(indent=False)] * 2
    placed = [helper.with_changes(leading_lines=two_blank if index or i else []) for i, helper in enumerate(helpers)]
    if index < len(body):
        following = body[index]
        blank = 0
        for line in following.leading_lines:
            if line.comment is not None:
                break
            blank += 1
        if blank < 2:  # PEP 8: two blank lines after a class or function at module level
            following = following.with_changes(leading_lines=[*two_blank[blank:], *following.leading_lines])
        body[index] = following
    return module.with_changes(body=[*body[:index], *placed, *body[index:]])


def _is_preamble(statement: cst.BaseStatement) -> bool:
    """A docstring or an import: the statements module-level helpers are placed after."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    return all(
        isinstance(small, (cst.Import, cst.ImportFrom))
        or (isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)))
        for small in statement.body
    )


class _Applier(cst.CSTTransformer):
    def __init__(self, edits: list[_Edit]) -> None:
        self._edits: dict[int, dict[int, _Edit]] = {}
        for edit in edits:
            self._edits.setdefault(edit.suite, {})[edit.start] = edit
        self._removed = {id(node) for edit in edits for node in edit.removals}

    def _apply(self, original, updated):
        by_start = self._edits.get(id(original), {})
        if not by_start and not any(id(s) in self._removed for s in original.body):
            return updated
        body: list[cst.BaseStatement] = []
        index = 0
        while index < len(updated.body):
            edit = by_start.get(index)
            if edit is not None:
                body.extend(edit.statements)
                index += edit.span
                continue
            if id(original.body[index]) not in self._removed:
                body.append(updated.body[index])
            index += 1
        if not body and isinstance(updated, cst.IndentedBlock):
            body = [cst.SimpleStatementLine([cst.Pass()])]
        return updated.with_changes(body=body)

    def leave_Module(self, original_node, updated_node):
        return self._apply(original_node, updated_node)

    def leave_IndentedBlock(self, original_node, updated_node):
        return self._apply(original_node, updated_node)


def _fix_imports(module: cst.Module, speller: _Speller, edits: list[_Edit]) -> cst.Module:
    """Add the imports the applied rewrites need; remove those they made unused."""
    context = CodemodContext()
    added = {canon: spec for edit in edits for canon, spec in edit.imports.items()}
    used = {canon for edit in edits for canon in edit.used_modules} | set(added)
    released = {module_name for edit in edits for module_name in edit.releases}
    for module_name, alias in added.values():
        AddImportsVisitor.add_needed_import(context, module_name, asname=alias if alias != module_name else None)
    if added:
        module = AddImportsVisitor(context).transform_module(module)
    for local, (raw, canon) in _module_aliases(module).imported.items():
        if any(canon == r or canon.startswith(r + ".") for r in released) and canon not in used:
            if "." in raw and local != raw.split(".")[0] and _is_from_import(module, local):
                base, _, obj = raw.rpartition(".")
                RemoveImportsVisitor.remove_unused_import(context, base, obj=obj, asname=local if local != obj else None)
            else:
                RemoveImportsVisitor.remove_unused_import(context, raw, asname=local if local != raw else None)
    if context.scratch.get(RemoveImportsVisitor.CONTEXT_KEY):
        module = RemoveImportsVisitor(context).transform_module(module)
    return module


def _is_from_import(module: cst.Module, local: str) -> bool:
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        bound = alias.asname.name.value if alias.asname else N.dotted(alias.name)
                        if bound == local:
                            return True
    return False
