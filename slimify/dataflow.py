"""Which names a piece of code reads or (re)binds: the facts behind "a temporary is read later".

Deliberately simple and conservative: a name counts as read wherever it appears in a load
position, whatever scope it resolves to; a statement kills a name only when it is a plain
`name = ...` at the top of the statement. Over-reporting a read only makes a rewrite refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields

import libcst as cst


class _ReadNames(cst.CSTVisitor):
    def __init__(self, skip: set[int]) -> None:
        self.names: set[str] = set()
        self._skip = skip

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self._skip:
            return False
        return super().on_visit(node)

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    # Name nodes that are not reads: attribute names, keywords, binding targets.
    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
        if not isinstance(node.target, cst.Name):
            node.target.visit(self)
        return False

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        if not isinstance(node.target, cst.Name):
            node.target.visit(self)
        node.annotation.visit(self)
        if node.value is not None:
            node.value.visit(self)
        return False

    def visit_AsName(self, node: cst.AsName) -> bool:
        if not isinstance(node.name, cst.Name):
            node.name.visit(self)
        return False

    def visit_For(self, node: cst.For) -> bool:
        if not isinstance(node.target, cst.Name):
            node.target.visit(self)
        for part in (node.iter, node.body, node.orelse):
            if part is not None:
                part.visit(self)
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        for part in (*node.decorators, node.params, node.body):
            part.visit(self)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        for part in (*node.decorators, *node.bases, *node.keywords, node.body):
            part.visit(self)
        return False

    def visit_Param(self, node: cst.Param) -> bool:
        for part in (node.annotation, node.default):
            if part is not None:
                part.visit(self)
        return False

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        return False


def names_read(node: cst.CSTNode, skip: Iterable[cst.CSTNode] = ()) -> set[str]:
    """Names loaded anywhere inside `node`, not looking inside the nodes in `skip`."""
    visitor = _ReadNames({id(n) for n in skip})
    node.visit(visitor)
    return visitor.names


def names_bound(statement: cst.CSTNode) -> set[str]:
    """Names a statement rebinds unconditionally (`x = ...`, `x: T = ...`)."""
    bound: set[str] = set()
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            if isinstance(small, cst.Assign):
                bound.update(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                if small.value is not None:
                    bound.add(small.target.value)
    return bound


def first_reads(statements, pending: set[str]) -> tuple[set[str], set[str]]:
    """Walk statements in execution order: (names of `pending` read before being rebound,
    names still pending afterwards). `with` bodies run straight through, so they are walked
    into; other compound statements count every appearance as a read and rebind nothing."""
    pending = set(pending)
    for statement in statements:
        if isinstance(statement, cst.With):
            hit = set().union(*(names_read(item) for item in statement.items)) & pending
            if hit:
                return hit, pending
            pending -= {i.asname.name.value for i in statement.items if i.asname and isinstance(i.asname.name, cst.Name)}
            inner = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else [statement.body]
            hit, pending = first_reads(inner, pending)
            if hit:
                return hit, pending
        else:
            hit = names_read(statement) & pending
            if hit:
                return hit, pending
            pending -= names_bound(statement)
        if not pending:
            break
    return set(), pending


def substitute_names(node, values: dict[str, cst.BaseExpression]):
    """`node` with each Name in `values` replaced; untouched subtrees keep their identity (and so
    their metadata: qualified names of `tf.get_variable` & co. still resolve)."""
    if isinstance(node, cst.Name):
        return values.get(node.value, node)
    changes = {}
    for name, child in ((f.name, getattr(node, f.name)) for f in fields(node)):
        if (isinstance(node, cst.Attribute) and name == "attr") or (isinstance(node, cst.Arg) and name == "keyword"):
            continue
        if isinstance(child, cst.CSTNode):
            new = substitute_names(child, values)
        elif isinstance(child, (list, tuple)) and any(isinstance(c, cst.CSTNode) for c in child):
            new = type(child)(substitute_names(c, values) if isinstance(c, cst.CSTNode) else c for c in child)
            if all(a is b for a, b in zip(new, child, strict=True)):
                new = child
        else:
            continue
        if new is not child:
            changes[name] = new
    return node.with_changes(**changes) if changes else node
