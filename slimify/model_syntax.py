"""Reading and writing layer-constructor arguments for the model-level codemods (Keras, PyTorch).

Arguments are bound to each constructor's real positional order, so `nn.Conv2d(3, 32, 3)` and
`nn.Conv2d(in_channels=3, out_channels=32, kernel_size=3)` read the same. Only literals are
understood (numbers, strings, booleans, None, tuples of them, integer arithmetic such as
`16 * 6 * 6`); anything else is a reason to refuse, because a translation must know the numbers.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst

from slimify.ir import Code, int_value

_EMPTY = cst.Module([])


class Unsupported(Exception):
    """Why a model cannot be translated; becomes a Refusal's reason."""


def code(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


def bind(call: cst.Call, signature: Sequence[str], what: str) -> dict[str, cst.BaseExpression]:
    """The call's arguments by parameter name; refuses *args, **kwargs and unknown keywords."""
    bound: dict[str, cst.BaseExpression] = {}
    for position, arg in enumerate(call.args):
        if arg.star:
            raise Unsupported(f"{what}: *args / **kwargs are only known at run time")
        if arg.keyword is None:
            if position >= len(signature):
                raise Unsupported(f"{what}: too many positional arguments")
            bound[signature[position]] = arg.value
        else:
            name = arg.keyword.value
            if name not in signature:
                raise Unsupported(f"{what}: argument `{name}` is not carried over")
            bound[name] = arg.value
    return bound


def literal(node: cst.BaseExpression | None, what: str):
    """A Python literal (int, float, str, bool, None, tuple); integer arithmetic becomes `Code`."""
    if node is None:
        return None
    text = code(node)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        if int_value(Code(text)) is not None:
            return Code(text)
        raise Unsupported(f"{what} `{text}` is only known at run time") from None
    if isinstance(value, list):
        value = tuple(value)
    return value


def integer(node: cst.BaseExpression | None, what: str, default: int | None = None) -> int:
    value = literal(node, what)
    if value is None and default is not None:
        return default
    number = int_value(value)
    if number is None:
        raise Unsupported(f"{what} must be an integer, not `{code(node)}`")
    return number


def pair(node: cst.BaseExpression | None, what: str, default: int | None = None) -> tuple[int, int]:
    """An int or a 2-tuple of ints (kernel sizes, strides)."""
    value = literal(node, what)
    if value is None and default is not None:
        return (default, default)
    if isinstance(value, tuple):
        if len(value) != 2 or any(int_value(v) is None for v in value):
            raise Unsupported(f"{what} `{code(node)}` is not two integers")
        return (int_value(value[0]), int_value(value[1]))
    number = int_value(value)
    if number is None:
        raise Unsupported(f"{what} `{code(node)}` is not an integer")
    return (number, number)


def number(node: cst.BaseExpression | None, what: str, default: float) -> float:
    value = literal(node, what)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Unsupported(f"{what} `{code(node)}` is not a number")
    return float(value)


def flag(node: cst.BaseExpression | None, what: str, default: bool) -> bool:
    value = literal(node, what)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise Unsupported(f"{what} `{code(node)}` is not True or False")
    return value


def size_text(value: tuple[int, int] | int) -> str:
    """`3` for a square size, `(3, 5)` otherwise."""
    if isinstance(value, tuple):
        return str(value[0]) if value[0] == value[1] else f"({value[0]}, {value[1]})"
    return str(value)


def float_text(value: float) -> str:
    """Shortest faithful spelling: 1 - 0.99 is written 0.01, not 0.010000000000000009."""
    return repr(float(f"{value:.12g}"))


def replay(model, parameter: str, render) -> list[str]:
    """The assignments of a model's `forward` / `call`, spelled in another framework.

    `model.extras["statements"]` lists, in source order, (variable assigned or None for the
    return, IR node, variable the value was read from); `render(node, argument_texts)` spells one
    node (for a container such as an nn.Sequential attribute, its last node with the container's
    input, see `groups`). A node no statement assigned is written inline where it is used, and a value is read
    from the variable that holds it, so the emitted method assigns the same variables as the
    source and reads like it (`out + identity` stays `out + identity`).
    """
    by_name = {node.name: node for node in model.nodes}
    bound: dict[str, str] = {parameter: "input"}  # variable -> the node it holds, as the source runs
    reads = model.extras.get("reads", {})
    groups = model.extras.get("groups", {})  # last node of a container's layers -> its first node

    def expression(name: str, spelled: str | None = None) -> str:
        if spelled is not None and bound.get(spelled) == name:
            return spelled
        for variable, value in reversed(bound.items()):  # the latest variable holding it
            if value == name:
                return variable
        if name not in by_name:
            raise Unsupported("a value is read after its variable was reassigned")
        node = by_name[name]
        if name in groups:  # a container called once: its input is the first layer's
            first = by_name[groups[name]]
            spellings = reads.get(first.name, ()) or (None,) * len(first.inputs)
            return render(node, [expression(i, v) for i, v in zip(first.inputs, spellings, strict=True)])
        spellings = reads.get(name, ()) or (None,) * len(node.inputs)
        return render(node, [expression(i, v) for i, v in zip(node.inputs, spellings, strict=True)])

    lines = []
    for variable, node_name, spelled in model.extras["statements"]:
        value = expression(node_name, spelled)
        if variable is None:
            lines.append(f"return {value}")
            continue
        bound.pop(variable, None)
        bound[variable] = node_name
        lines.append(f"{variable} = {value}")
    return lines
