"""Reading and writing TF1 / tf_slim call arguments: shared by the block-level codemods.

Argument binding follows each API's real signature, so `tf.nn.conv2d(x, w, [1, 1, 1, 1], 'SAME')`
and `tf.nn.conv2d(input=x, filter=w, strides=[1, 1, 1, 1], padding='SAME')` read the same.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst

from slimify import names as N
from slimify.ir import Code, Initializer, Value
from slimify.rewrite import FileFacts, Names

# Positional parameter order of the APIs we read (keywords are accepted by name).
SIGNATURES = {
    N.TF_VARIABLE: ("initial_value", "trainable", "collections", "validate_shape", "caching_device", "name"),
    N.TF_CONV2D: ("input", "filter", "strides", "padding"),
    N.TF_BIAS_ADD: ("value", "bias", "data_format", "name"),
    N.TF_ADD: ("x", "y", "name"),
    N.TF_NAME_SCOPE: ("name", "default_name", "values"),
    "tensorflow.truncated_normal": ("shape", "mean", "stddev", "dtype", "seed", "name"),
    "tensorflow.random_normal": ("shape", "mean", "stddev", "dtype", "seed", "name"),
    "tensorflow.random_uniform": ("shape", "minval", "maxval", "dtype", "seed", "name"),
    "tensorflow.constant": ("value", "dtype", "shape", "name", "verify_shape"),
    "tensorflow.zeros": ("shape", "dtype", "name"),
    "tensorflow.ones": ("shape", "dtype", "name"),
    "tensorflow.truncated_normal_initializer": ("mean", "stddev", "seed", "dtype"),
    "tensorflow.random_normal_initializer": ("mean", "stddev", "seed", "dtype"),
    "tensorflow.random_uniform_initializer": ("minval", "maxval", "seed", "dtype"),
    "tensorflow.constant_initializer": ("value", "dtype", "verify_shape"),
    "tensorflow.zeros_initializer": ("dtype",),
    "tensorflow.ones_initializer": ("dtype",),
    "tensorflow.glorot_uniform_initializer": ("seed", "dtype"),
    "tf_slim.xavier_initializer": ("uniform", "seed", "dtype"),
    "tf_slim.initializers.xavier_initializer": ("uniform", "seed", "dtype"),
    "tf_slim.conv2d": (
        "inputs", "num_outputs", "kernel_size", "stride", "padding", "data_format", "rate",
        "activation_fn", "normalizer_fn", "normalizer_params", "weights_initializer",
        "weights_regularizer", "biases_initializer", "biases_regularizer", "reuse",
        "variables_collections", "outputs_collections", "trainable", "scope",
    ),
}  # fmt: skip
SIGNATURES["tf_slim.convolution2d"] = SIGNATURES["tf_slim.conv2d"]

# Initializer arguments that carry meaning (dtype and name are checked, not carried).
_INITIALIZER_ARGS = ("mean", "stddev", "seed", "minval", "maxval", "value")

# Activation kind -> the TF function that computes it.
ACTIVATION_FUNCTIONS = {
    "relu": "tensorflow.nn.relu",
    "relu6": "tensorflow.nn.relu6",
    "elu": "tensorflow.nn.elu",
    "tanh": "tensorflow.nn.tanh",
    "sigmoid": "tensorflow.nn.sigmoid",
    "softmax": "tensorflow.nn.softmax",
}

# Initializer kind -> (TF1 op drawing a value of a shape, initializer object for slim).
INITIALIZER_SPELLINGS = {
    "truncated_normal": ("tensorflow.truncated_normal", "tensorflow.truncated_normal_initializer"),
    "random_normal": ("tensorflow.random_normal", "tensorflow.random_normal_initializer"),
    "random_uniform": ("tensorflow.random_uniform", "tensorflow.random_uniform_initializer"),
    "constant": ("tensorflow.constant", "tensorflow.constant_initializer"),
    "zeros": ("tensorflow.zeros", "tensorflow.zeros_initializer"),
    "ones": ("tensorflow.ones", "tensorflow.ones_initializer"),
    "glorot_uniform": (None, "tensorflow.glorot_uniform_initializer"),
}


class Unsupported(Exception):
    """Raised inside a recognizer to refuse with a reason; caught at the recognizer's edge."""


def bind(call: cst.Call, signature: Sequence[str]) -> dict[str, cst.BaseExpression]:
    """Map a call's arguments onto parameter names; raises Unsupported on *args/**kwargs."""
    bound: dict[str, cst.BaseExpression] = {}
    for position, arg in enumerate(call.args):
        if arg.star:
            raise Unsupported("arguments passed with * or ** cannot be read")
        if arg.keyword is None:
            if position >= len(signature):
                raise Unsupported(f"too many positional arguments ({position + 1})")
            bound[signature[position]] = arg.value
        else:
            bound[arg.keyword.value] = arg.value
    return bound


def literal(node: cst.BaseExpression | None, what: str = "a value"):
    """The Python value of a literal (number, string, True/False/None, lists thereof), else raise."""
    if node is None:
        raise Unsupported(f"{what} is missing")
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString)):
        return ast.literal_eval(cst.Module([]).code_for_node(node))
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return -literal(node.expression, what)
    if isinstance(node, (cst.List, cst.Tuple)):
        return [literal(element.value, what) for element in node.elements]
    raise Unsupported(f"{what} is only known at run time")


def is_literal(node: cst.BaseExpression | None, value) -> bool:
    try:
        found = literal(node)
    except Unsupported:
        return False
    return found == value and type(found) is type(value)


def value(node: cst.BaseExpression, facts: FileFacts) -> Value:
    """An int/float literal as a number, anything else as verbatim code."""
    try:
        found = literal(node)
    except Unsupported:
        return Code(facts.code(node))
    if isinstance(found, bool) or not isinstance(found, (int, float)):
        return Code(facts.code(node))
    return found


def elements(node: cst.BaseExpression, count: int, what: str) -> list[cst.BaseExpression]:
    if not isinstance(node, (cst.List, cst.Tuple)) or any(e.__class__.__name__ == "StarredElement" for e in node.elements):
        raise Unsupported(f"{what} is not a literal list")
    if len(node.elements) != count:
        raise Unsupported(f"{what} has {len(node.elements)} entries, expected {count}")
    return [e.value for e in node.elements]


def check_float32(args: dict[str, cst.BaseExpression], facts: FileFacts, what: str) -> None:
    dtype = args.get("dtype")
    if dtype is not None and facts.qname(dtype) != N.TF_FLOAT32:
        raise Unsupported(f"{what} has dtype {facts.code(dtype)}; only float32 is folded")


def initializer_args(args: dict[str, cst.BaseExpression], facts: FileFacts) -> tuple[tuple[str, str], ...]:
    return tuple((key, facts.code(args[key])) for key in _INITIALIZER_ARGS if key in args)


def read_initial_value(node: cst.BaseExpression, facts: FileFacts, rank: int, what: str) -> tuple[Initializer, list[cst.BaseExpression]]:
    """`tf.truncated_normal([3, 3, 64, 128], stddev=0.1)` -> (Initializer, the shape's entries)."""
    if not isinstance(node, cst.Call):
        raise Unsupported(f"{what}'s initial value is not a recognized initializer")
    qualified = facts.qname(node.func)
    kind = N.TF_INITIAL_VALUE_OPS.get(qualified or "")
    if kind is not None:
        args = bind(node, SIGNATURES[qualified])
        check_float32(args, facts, what)
        if kind == "constant":
            if "shape" not in args:
                raise Unsupported(f"{what}: tf.constant without shape=")
            if "verify_shape" in args:
                raise Unsupported(f"{what}: tf.constant(verify_shape=...) is not carried")
            initializer = Initializer("constant", (("value", facts.code(args["value"])),))
            if is_literal(args["value"], 0.0) or is_literal(args["value"], 0):
                initializer = Initializer("zeros")
            return initializer, elements(args["shape"], rank, f"{what}'s shape")
        return Initializer(kind, initializer_args(args, facts)), elements(args["shape"], rank, f"{what}'s shape")
    # `tf.glorot_uniform_initializer()(shape)`: an initializer object called with the shape.
    if isinstance(node.func, cst.Call) and len(node.args) == 1 and node.args[0].keyword is None:
        initializer = read_initializer(node.func, facts, what)
        return initializer, elements(node.args[0].value, rank, f"{what}'s shape")
    raise Unsupported(f"{what}'s initial value {facts.code(node.func)}(...) is not a recognized initializer")


def read_initializer(node: cst.BaseExpression, facts: FileFacts, what: str) -> Initializer:
    """`tf.truncated_normal_initializer(stddev=0.1)` -> Initializer."""
    qualified = facts.qname(node.func) if isinstance(node, cst.Call) else None
    kind = N.TF_INITIALIZERS.get(qualified or "")
    if kind is None:
        raise Unsupported(f"{what} {facts.code(node)} is not a recognized initializer")
    args = bind(node, SIGNATURES[qualified])
    check_float32(args, facts, what)
    if "uniform" in args and not is_literal(args["uniform"], True):
        raise Unsupported(f"{what}: xavier_initializer(uniform=False) is not carried")
    if "verify_shape" in args:
        raise Unsupported(f"{what}: verify_shape= is not carried")
    initializer = Initializer(kind, initializer_args(args, facts))
    if kind == "constant" and (is_literal(args.get("value"), 0.0) or is_literal(args.get("value"), 0) or "value" not in args):
        return Initializer("zeros")
    return initializer


def emit_initializer(initializer: Initializer, names: Names) -> cst.Call:
    """Initializer -> `tf.truncated_normal_initializer(stddev=0.1)`."""
    return cst.Call(
        func=names.ref(INITIALIZER_SPELLINGS[initializer.kind][1]),
        args=[keyword(key, cst.parse_expression(text)) for key, text in initializer.args],
    )


def emit_initial_value(initializer: Initializer, shape: cst.BaseExpression, names: Names) -> cst.Call:
    """Initializer + shape -> `tf.truncated_normal([3, 3, 64, 128], stddev=0.1)`."""
    op = INITIALIZER_SPELLINGS[initializer.kind][0]
    if op is None:
        return cst.Call(func=emit_initializer(initializer, names), args=[cst.Arg(shape)])
    args = [keyword(key, cst.parse_expression(text)) for key, text in initializer.args]
    if initializer.kind == "constant":
        return cst.Call(func=names.ref(op), args=[cst.Arg(args[0].value), keyword("shape", shape)])
    return cst.Call(func=names.ref(op), args=[cst.Arg(shape), *args])


def keyword(name: str, node: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        value=node,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )


def expression(value: Value) -> cst.BaseExpression:
    if isinstance(value, Code):
        return cst.parse_expression(value.text)
    return cst.parse_expression(repr(value))


def string(text: str) -> cst.SimpleString:
    return cst.SimpleString(repr(text))


def int_list(values: Sequence[Value]) -> cst.List:
    return cst.List([cst.Element(expression(v)) for v in values])


def commas(args: list[cst.Arg]) -> list[cst.Arg]:
    return [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in args]


def assign(name: str, value: cst.BaseExpression) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(name))], value)])


def assign_or_return(output: Code | None, value: cst.BaseExpression) -> cst.SimpleStatementLine:
    if output is None:
        return cst.SimpleStatementLine([cst.Return(value)])
    return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.parse_expression(output.text))], value)])
