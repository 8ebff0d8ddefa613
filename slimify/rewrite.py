"""What a codemod module provides, and what the engine hands it.

A module in `codemods/` declares module-level lists (any may be absent):

    RECOGNIZERS = [SomeRecognizer()]   # objects with .family, .dialect, .recognize(site)
    EMITTERS = [SomeEmitter()]         # objects with .dialect, .layer_types, .emit(ir, names)

`recognize(site)` looks at the statement `site.statement` (and those after it in the same
suite) and returns `Recognized` (how many statements it consumed and their IR), `Refusal` (it
looks like a candidate but folding could change behaviour) or None (not a candidate).
`emit(ir, names)` returns the replacement statements, or a `Refusal` when the target dialect
cannot say what the IR says.

Recognizers read metadata from the original tree through `site`; emitters only build new
nodes and ask `names` how to spell library names in this file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import libcst as cst

from slimify.dataflow import first_reads, names_read


@dataclass(frozen=True)
class Refusal:
    """A candidate left untouched, and why."""

    family: str
    line: int
    reason: str


@dataclass(frozen=True)
class Recognized:
    family: str
    span: int  # statements consumed, starting at site.index
    ir: Any  # ir.LayerCall or ir.Model
    # Modules (canonical names) the rewrite stops using, for unused-import removal.
    releases: tuple[str, ...] = ()
    # Original statements elsewhere in the file that the rewrite makes dead (a helper function,
    # a dict of weights); removed when the rewrite is applied.
    removals: tuple[cst.CSTNode, ...] = ()
    # Variables whose graph names change (old -> new, without ":0"); reported by --name-map.
    renames: tuple[tuple[str, str], ...] = ()
    # Rewrites that only make sense together (a model function and the calls that stop passing
    # its weight dicts) share a group key and state how many they are; the engine applies all of
    # them or none (one refused by its emitter or by --verify, or never reached, drops the rest).
    group: str | None = None
    group_size: int = 1
    # What the user must know about the rewritten code (the input layout of a translated model).
    note: str = ""


@dataclass(frozen=True)
class Rewrite:
    """One applied rewrite, as reported to the user."""

    family: str
    start_line: int
    end_line: int
    before: str
    after: str
    verified: bool | None = None
    ir: Any = field(default=None, compare=False, repr=False)
    # What --verify found, in words: the numbers when it ran, why it could not run otherwise.
    verification: str = ""
    note: str = ""  # what the user must know about the new code (Recognized.note)


@dataclass(frozen=True)
class Finding:
    """Something the user should read: a refusal, or an error that stopped a file."""

    path: str
    line: int
    family: str
    reason: str
    kind: str = "refused"  # "refused" | "error" | "unverified"


class Recognizer(Protocol):
    family: str
    dialect: str

    def recognize(self, site: Site) -> Recognized | Refusal | None: ...


class Emitter(Protocol):
    dialect: str
    layer_types: tuple[type, ...]

    def emit(self, ir: Any, names: Names) -> list[cst.BaseStatement] | Refusal: ...


@dataclass
class Suite:
    owner: cst.CSTNode | None  # the compound statement holding this suite; None for the module
    body: Sequence[cst.BaseStatement]
    index: int = 0  # which statement of `body` is being looked at


_LOOPS = (cst.For, cst.While)
_SCOPES = (cst.FunctionDef, cst.ClassDef)


@dataclass
class Site:
    """A statement in its suite, with the facts about the file a recognizer needs."""

    file: FileFacts
    suites: list[Suite]  # outermost first; the last one holds the statement

    @property
    def body(self) -> Sequence[cst.BaseStatement]:
        return self.suites[-1].body

    @property
    def index(self) -> int:
        return self.suites[-1].index

    @property
    def statement(self) -> cst.BaseStatement:
        return self.body[self.index]

    def enclosing(self, kinds: tuple[type, ...] = (cst.CSTNode,)) -> list[cst.CSTNode]:
        """Owners of the enclosing suites, innermost first, up to the nearest def/class."""
        found = []
        for suite in reversed(self.suites):
            if suite.owner is None:
                break
            if isinstance(suite.owner, kinds):
                found.append(suite.owner)
            if isinstance(suite.owner, _SCOPES):
                break
        return found

    @property
    def function(self) -> cst.FunctionDef | None:
        for suite in reversed(self.suites):
            if isinstance(suite.owner, _SCOPES):
                return suite.owner if isinstance(suite.owner, cst.FunctionDef) else None
        return None

    @property
    def in_loop(self) -> bool:
        return bool(self.enclosing(_LOOPS))

    def read_after(self, names: set[str], span: int) -> set[str]:
        """Which of `names`, bound by statements [index, index+span), code may still read.

        Walks forward through the rest of the suite and then the enclosing suites, stopping at
        a rebinding; a loop, branch or try around the block, a closure, or module level (where
        any function may read a global) count every appearance as a read.
        """
        block = list(self.body[self.index : self.index + span])
        pending = set(names)
        for depth in range(len(self.suites) - 1, -1, -1):
            suite = self.suites[depth]
            start = self.index + span if depth == len(self.suites) - 1 else suite.index + 1
            hit, pending = first_reads(suite.body[start:], pending)
            if hit:
                return hit
            if not pending:
                return set()
            owner = suite.owner
            if owner is None:  # module level: the names are globals
                return names_read(self.file.module, skip=block) & pending
            if isinstance(owner, cst.ClassDef):  # class attributes outlive the body
                return pending
            if isinstance(owner, cst.FunctionDef):
                return pending & self._closure_names(owner)
            # Loops run the suite again; other branches, handlers and finally blocks may run.
            hit = names_read(owner, skip=block) & pending
            if hit:
                return hit
        return set()

    @staticmethod
    def _closure_names(function: cst.FunctionDef) -> set[str]:
        nested: set[str] = set()

        class _Nested(cst.CSTVisitor):
            def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
                if node is not function:
                    nested.update(names_read(node))
                    return False
                return True

            def visit_Lambda(self, node: cst.Lambda) -> bool:
                nested.update(names_read(node))
                return False

        function.visit(_Nested())
        return nested


@dataclass
class FileFacts:
    """Per-file facts, computed once from the original tree (lazily: most files need few)."""

    path: str
    module: cst.Module
    qualified: Any  # callable(node) -> canonical qualified name or None
    # callable(node) -> the qualified name as the file reaches it, compat.v1 / v2 not folded (None: unknown)
    spelled: Any
    line_of: Any  # callable(node) -> 1-based line
    position_of: Any = None  # callable(node) -> libcst CodeRange
    _memos: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def memo(self, compute: Callable[[FileFacts], Any]) -> Any:
        """`compute(self)`, run once per file: a codemod's own analysis of the whole file (its
        call sites, its plan), shared by every statement the codemod is offered."""
        if compute not in self._memos:
            self._memos[compute] = compute(self)
        return self._memos[compute]

    def qname(self, node: cst.CSTNode) -> str | None:
        return self.qualified(node)

    def is_call_to(self, node: cst.CSTNode, *names: str) -> bool:
        return isinstance(node, cst.Call) and self.qualified(node.func) in names

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def contains(self, outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
        a, b = self.position_of(outer), self.position_of(inner)
        return (a.start.line, a.start.column) <= (b.start.line, b.start.column) and (b.end.line, b.end.column) <= (
            a.end.line,
            a.end.column,
        )

    @cached_property
    def _scan(self) -> tuple[set[str], Counter, list[tuple[cst.CSTNode, str]], set[str]]:
        called: set[str] = set()
        by_name: Counter = Counter()
        strings: list[tuple[cst.CSTNode, str]] = []
        spelled: set[str] = set()
        facts = self

        class _Scan(cst.CSTVisitor):
            def visit_Call(self, node: cst.Call) -> None:
                qualified = facts.qualified(node.func)
                if qualified:
                    called.add(qualified)
                    as_spelled = facts.spelled(node.func)
                    if as_spelled:  # None: bound several ways, it shows nothing
                        spelled.add(as_spelled)
                if isinstance(node.func, cst.Name):
                    by_name[node.func.value] += 1
                elif isinstance(node.func, cst.Attribute):
                    by_name[node.func.attr.value] += 1

            def visit_SimpleString(self, node: cst.SimpleString) -> None:
                value = node.evaluated_value
                if isinstance(value, str):
                    strings.append((node, value))

        self.module.visit(_Scan())
        return called, by_name, strings, spelled

    @property
    def called_names(self) -> set[str]:
        """Canonical qualified names of every function called anywhere in the file."""
        return self._scan[0]

    @property
    def calls_by_name(self) -> Counter:
        """How often each plain or method name is called (`f(...)`, `obj.f(...)`)."""
        return self._scan[1]

    @property
    def string_literals(self) -> list[tuple[cst.CSTNode, str]]:
        return self._scan[2]

    @property
    def called_as_spelled(self) -> set[str]:
        """Qualified names of every function called, as the file reaches them (compat.v1 not folded)."""
        return self._scan[3]


class Names(Protocol):
    """How an emitter spells library names in the file being rewritten."""

    def ref(self, qualified_name: str) -> cst.BaseExpression:
        """An expression naming e.g. `tf_slim.conv2d`, reusing the file's alias or adding an import."""
        ...

    def fresh(self, base: str) -> str:
        """A local variable name the original file does not use (`weights`, else `weights_1`, ...)."""
        ...

    def module_helper(self, key: str, make: Callable[[str], cst.BaseStatement]) -> str:
        """The name of a helper (a class, a function) defined once at module level, after the imports.

        `make(name)` builds its statement the first time the file needs it; every rewrite that
        asks for the same `key` shares that one definition.
        """
        ...
