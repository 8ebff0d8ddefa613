"""Reading and writing TF1 / tf_slim call arguments: shared by the block-level codemods.

Argument binding follows each API's real signature, so `tf.nn.conv2d(x, w, [1, 1, 1, 1], 'SAME')`
and `tf.nn.conv2d(input=x, filter=w, strides=[1, 1, 1, 1], padding='SAME')` read the same.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import libcst as cst

from slimify import names as N
from slimify.dataflow import names_read, substitute_names
from slimify.ir import Code, Initializer, LayerCall, Regularizer, Value
from slimify.rewrite import FileFacts, Names, Site

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
    "tf_slim.xavier_initializer_conv2d": ("uniform", "seed", "dtype"),
    "tf_slim.initializers.xavier_initializer_conv2d": ("uniform", "seed", "dtype"),
    "tf_slim.conv2d": (
        "inputs", "num_outputs", "kernel_size", "stride", "padding", "data_format", "rate",
        "activation_fn", "normalizer_fn", "normalizer_params", "weights_initializer",
        "weights_regularizer", "biases_initializer", "biases_regularizer", "reuse",
        "variables_collections", "outputs_collections", "trainable", "scope",
    ),
}  # fmt: skip
SIGNATURES["tf_slim.convolution2d"] = SIGNATURES["tf_slim.conv2d"]
SIGNATURES.update({
    N.TF_GET_VARIABLE: (
        "name", "shape", "dtype", "initializer", "regularizer", "trainable", "collections", "caching_device",
        "partitioner", "validate_shape", "use_resource", "custom_getter", "constraint", "synchronization", "aggregation",
    ),
    N.TF_VARIABLE_SCOPE: (
        "name_or_scope", "default_name", "values", "initializer", "regularizer", "caching_device", "partitioner",
        "custom_getter", "reuse", "dtype", "use_resource", "constraint", "auxiliary_name_scope",
    ),
    "tensorflow.matmul": (
        "a", "b", "transpose_a", "transpose_b", "adjoint_a", "adjoint_b", "a_is_sparse", "b_is_sparse",
        "output_type", "grad_a", "grad_b", "name",
    ),
    N.TF_XW_PLUS_B: ("x", "weights", "biases", "name"),
    N.TF_RELU_LAYER: ("x", "weights", "biases", "name"),
    "tensorflow.nn.max_pool": ("value", "ksize", "strides", "padding", "data_format", "name", "input"),
    "tensorflow.nn.max_pool2d": ("input", "ksize", "strides", "padding", "data_format", "name"),
    "tensorflow.nn.avg_pool": ("value", "ksize", "strides", "padding", "data_format", "name", "input"),
    N.TF_DROPOUT: ("x", "keep_prob", "noise_shape", "seed", "name", "rate"),
    N.TF_ADD_TO_COLLECTION: ("name", "value"),
    N.TF_GET_COLLECTION: ("key", "scope"),
    N.TF_MULTIPLY: ("x", "y", "name"),
    N.TF_L2_LOSS: ("t", "name"),
    N.TF_PLACEHOLDER: ("dtype", "shape", "name"),
    N.TF_RESHAPE: ("tensor", "shape", "name"),
    "tf_slim.fully_connected": (
        "inputs", "num_outputs", "activation_fn", "normalizer_fn", "normalizer_params", "weights_initializer",
        "weights_regularizer", "biases_initializer", "biases_regularizer", "reuse", "variables_collections",
        "outputs_collections", "trainable", "scope",
    ),
    "tf_slim.max_pool2d": ("inputs", "kernel_size", "stride", "padding", "data_format", "outputs_collections", "scope"),
    "tf_slim.avg_pool2d": ("inputs", "kernel_size", "stride", "padding", "data_format", "outputs_collections", "scope"),
    "tf_slim.dropout": ("inputs", "keep_prob", "noise_shape", "is_training", "outputs_collections", "scope", "seed"),
    "tf_slim.flatten": ("inputs", "outputs_collections", "scope"),
})  # fmt: skip
SIGNATURES["tensorflow.linalg.matmul"] = SIGNATURES["tensorflow.matmul"]
SIGNATURES["tensorflow.nn.avg_pool2d"] = SIGNATURES["tensorflow.nn.avg_pool"]

# Initializer arguments that carry meaning (dtype and name are checked, not carried).
_INITIALIZER_ARGS = ("mean", "stddev", "seed", "minval", "maxval", "value")

# leaky_relu's default slope: `activation_fn=tf.nn.leaky_relu` computes it, and only it.
_LEAKY_RELU_ALPHA = 0.2

# Activation kind -> the TF function that computes it.
ACTIVATION_FUNCTIONS = {
    "relu": "tensorflow.nn.relu",
    "relu6": "tensorflow.nn.relu6",
    "elu": "tensorflow.nn.elu",
    "tanh": "tensorflow.nn.tanh",
    "sigmoid": "tensorflow.nn.sigmoid",
    "softmax": "tensorflow.nn.softmax",
    "leaky_relu": N.TF_LEAKY_RELU,
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


# tf.nn's conv and pool ops take exactly 'SAME' / 'VALID': any other spelling fails when the graph
# is built. slim's layers lower-case the string first, so 'same' / 'Valid' work there.
_PADDINGS = {"same": "SAME", "valid": "VALID"}


def read_tf_padding(node: cst.BaseExpression | None, op: str) -> str:
    """A tf.nn op's literal padding, 'SAME' or 'VALID'; refuses spellings `op` itself rejects."""
    padding = literal(node, "padding")
    if padding in _PADDINGS.values():
        return padding
    if isinstance(padding, str) and padding.lower() in _PADDINGS:
        raise Unsupported(f"padding {padding!r} is not accepted by {op}, which takes 'SAME' or 'VALID' only (the graph fails to build)")
    if isinstance(padding, list):
        raise Unsupported("explicit padding (a list of pads) is not folded")
    raise Unsupported(f"padding {padding!r} is not 'SAME' or 'VALID'")


def read_slim_padding(node: cst.BaseExpression | None, default: str) -> str:
    """A slim layer's literal padding in tf.nn's spelling: slim lower-cases it, so 'same' is 'SAME'."""
    if node is None:
        return default
    padding = literal(node, "padding")
    if isinstance(padding, str) and padding.lower() in _PADDINGS:
        return _PADDINGS[padding.lower()]
    raise Unsupported(f"padding {padding!r} is not 'SAME' or 'VALID' in any letter case")


def read_nhwc_sizes(node: cst.BaseExpression | None, what: str, ops: str) -> list[int]:
    """A literal ksize / strides / dilations of tf.nn's 2-D convs and pools as the 4 NHWC entries.

    TF 2 reads all of them with `nn_ops._get_sequence`: an int or a list of 1 int (both spatial
    axes), 2 ints (height, width; batch and channel 1) or 4 ints (NHWC, as written); any other
    length raises when the graph is built. `ops` names who reads it, for the reason."""
    values = literal(node, what)
    if isinstance(values, int):
        values = [values]
    if not (isinstance(values, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in values)):
        raise Unsupported(f"{what} is not an int or a literal list of ints")
    if any(v < 1 for v in values):
        raise Unsupported(f"{what} {values} has an entry below 1")
    if len(values) == 1:
        return [1, values[0], values[0], 1]
    if len(values) == 2:
        return [1, *values, 1]
    if len(values) != 4:
        raise Unsupported(f"{what} has {len(values)} entries; {ops} take 1, 2 or 4")
    return values


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


# tf.get_variable (and slim's layers, which create variables through it) instantiates an
# initializer given as a class (`tf_inspect.isclass`), so `initializer=tf.zeros_initializer` is
# `tf.zeros_initializer()`. TF1's initializers are classes whose arguments all have defaults;
# slim's xavier_initializer is a function, which get_variable would call with the shape and fail.
_INITIALIZER_CLASSES = frozenset(
    {
        "tensorflow.truncated_normal_initializer",
        "tensorflow.random_normal_initializer",
        "tensorflow.random_uniform_initializer",
        "tensorflow.constant_initializer",
        "tensorflow.zeros_initializer",
        "tensorflow.ones_initializer",
        "tensorflow.glorot_uniform_initializer",
    }
)


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
        initializer = Initializer(kind, _tf1_defaults_written(kind, initializer_args(args, facts)))
        return initializer, elements(args["shape"], rank, f"{what}'s shape")
    # `tf.glorot_uniform_initializer()(shape)`: an initializer object called with the shape.
    if isinstance(node.func, cst.Call) and len(node.args) == 1 and node.args[0].keyword is None:
        initializer = read_initializer(node.func, facts, what)
        return initializer, elements(node.args[0].value, rank, f"{what}'s shape")
    raise Unsupported(f"{what}'s initial value {facts.code(node.func)}(...) is not a recognized initializer")


def read_initializer(node: cst.BaseExpression, facts: FileFacts, what: str) -> Initializer:
    """`tf.truncated_normal_initializer(stddev=0.1)` -> Initializer; an initializer class passed
    uncalled (`tf.zeros_initializer`) reads as its call without arguments."""
    func = node.func if isinstance(node, cst.Call) else node
    qualified = facts.qname(func) or ""
    kind = N.TF_INITIALIZERS.get(qualified)
    if kind is None:
        raise Unsupported(f"{what} {facts.code(node)} is not a recognized initializer")
    if isinstance(node, cst.Call):
        args = bind(node, SIGNATURES[qualified])
    elif qualified in _INITIALIZER_CLASSES:
        args = {}
    else:
        raise Unsupported(f"{what} {facts.code(node)} is a function, not an initializer class: uncalled, it fails creating the variable")
    check_float32(args, facts, what)
    _check_defaults_agree(kind, args, func, facts, what)
    if "uniform" in args and not is_literal(args["uniform"], True):
        raise Unsupported(f"{what}: xavier_initializer(uniform=False) is not carried")
    if "verify_shape" in args:
        raise Unsupported(f"{what}: verify_shape= is not carried")
    initializer = Initializer(kind, _tf1_defaults_written(kind, initializer_args(args, facts)))
    if kind == "constant" and (is_literal(args.get("value"), 0.0) or is_literal(args.get("value"), 0) or "value" not in args):
        return Initializer("zeros")
    return initializer


# Defaults that differ between TF 1's initializer classes and TF 2's of the same name:
# key -> (TF 1's, TF 2's). TF 1's random ops (`tf.random_normal`) have TF 1's.
_DEFAULTS_BY_VERSION = {
    "random_normal": {"stddev": ("1.0", "0.05")},
    "random_uniform": {"minval": ("0.0", "-0.05"), "maxval": ("1.0", "0.05")},
}


def _check_defaults_agree(kind: str, args: dict, func: cst.BaseExpression, facts: FileFacts, what: str) -> None:
    """Refuses a TF initializer that leaves to its default a value TF 1 and TF 2 set differently,
    unless the call is evidently TF 1's: `tf.random_normal_initializer()` has stddev 0.05 in TF 2
    and 1.0 in TF 1, and a rewrite of TF 2 code must not start training elsewhere (checkpoints
    would still load, so nothing else would show it)."""
    for key, (tf1_default, tf2_default) in _DEFAULTS_BY_VERSION.get(kind, {}).items():
        if key not in args and not evidently_tf1(func, facts):
            raise Unsupported(
                f"{what} {facts.code(func)}: the default {key} is {tf1_default} in TensorFlow 1 and {tf2_default} in "
                f"TensorFlow 2, and nothing shows this call is TF1's; write {key}= out"
            )


def _tf1_defaults_written(kind: str, args: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """A TF 1 initializer's arguments with the defaults TF 2 would set differently written out,
    so the rewritten code means the same under either (slim code runs under TF 2 as well)."""
    given = dict(args)
    for key, (tf1_default, _) in _DEFAULTS_BY_VERSION.get(kind, {}).items():
        given.setdefault(key, tf1_default)
    return tuple((key, given[key]) for key in _INITIALIZER_ARGS if key in given)


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
        value = args[0].value
        typed = [] if isinstance(value, cst.Float) else [keyword("dtype", names.ref(N.TF_FLOAT32))]
        # A constant initializer casts to the variable's float32; tf.constant(1) would make an int32 variable.
        return cst.Call(func=names.ref(op), args=[cst.Arg(value), keyword("shape", shape), *typed])
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


# --- Scoped layer blocks ------------------------------------------------------------------
# `with tf.name_scope('s'):` holding `tf.Variable(..., name='weights')`, or
# `with tf.variable_scope('s'):` holding `tf.get_variable('weights', ...)` (either variable kind
# under variable_scope): both name their variables `s/weights`, exactly as slim's `scope='s'`.

SCOPES = (N.TF_NAME_SCOPE, N.TF_VARIABLE_SCOPE)
_VARIABLE_CALLS = (N.TF_VARIABLE, N.TF_GET_VARIABLE)


@dataclass
class ScopedBlock:
    """The parts of a scoped block, on the original nodes (their metadata is needed)."""

    facts: FileFacts
    scope: str
    scope_call: str  # N.TF_NAME_SCOPE | N.TF_VARIABLE_SCOPE
    scope_var: str | None  # `as scope`
    variables: dict[str, cst.Call]  # local name -> tf.Variable / tf.get_variable call
    ops: list[tuple[str, cst.BaseExpression]]  # intermediate tensors in order; a name may be rebound
    final: cst.BaseExpression
    output: Code | None  # None: the block ends in `return`
    binding: dict[int, int] = field(default_factory=dict)  # id(Name read) -> index into ops
    resolved: set[int] = field(default_factory=set)  # indices into ops
    weight_decay: dict[str, Regularizer] = field(default_factory=dict)  # local name -> loss the block adds for it

    def resolve(self, expression: cst.BaseExpression | None) -> cst.BaseExpression | None:
        """Follow intermediate tensors (`conv = ...; bias = f(conv)`, or `x = ...; x = f(x)`) back
        to the expression that computes them, on the original nodes (their metadata is needed)."""
        while isinstance(expression, cst.Name) and id(expression) in self.binding:
            index = self.binding[id(expression)]
            self.resolved.add(index)
            expression = self.ops[index][1]
        return expression

    def variable(self, node: cst.BaseExpression | None) -> str | None:
        """The local name of a block variable that `node` refers to, else None."""
        return node.value if isinstance(node, cst.Name) and node.value in self.variables else None

    def require_variable(self, node: cst.BaseExpression | None, what: str) -> str:
        """The block variable `node` names, or refuse saying where the tensor comes from."""
        local = self.variable(node)
        if local is not None:
            return local
        source = self.resolve(node)
        if isinstance(source, cst.Call) and self.facts.qname(source.func) not in _VARIABLE_CALLS:
            raise Unsupported(
                f"{what} comes from {self.facts.code(source.func)}(), a variable factory slimify does not fold "
                "(weight decay added to a collection slim would not fill?)"
            )
        raise Unsupported(f"{what} is not a variable created in the block")

    def split_bias(self, first, second) -> tuple[cst.BaseExpression, str]:
        """`tensor + bias` in either order (both resolved) -> (tensor, the bias variable's local name)."""
        for tensor, bias in ((first, second), (second, first)):
            if self.variable(bias) is not None:
                return tensor, bias.value
        raise Unsupported("the bias added is not a variable created in the block")

    def read_variable(self, local: str, expected_name: str, rank: int) -> tuple[Initializer, list[cst.BaseExpression], bool]:
        return read_variable(self.variables[local], expected_name, rank, self.facts, self.scope_call)

    def regularizer(self, local: str) -> Regularizer | None:
        """The weight decay on a block variable: `tf.get_variable(regularizer=...)`, a factory's,
        or an explicit `tf.add_to_collection(REGULARIZATION_LOSSES, ...)` in the block."""
        call = self.variables[local]
        found = [self.weight_decay[local]] if local in self.weight_decay else []
        if self.facts.qname(call.func) == N.TF_GET_VARIABLE:
            given = bind(call, SIGNATURES[N.TF_GET_VARIABLE]).get("regularizer")
            if given is not None and not is_literal(given, None):
                found.append(read_regularizer(given, self.facts, "regularizer="))
        if len(found) > 1:
            raise Unsupported(f"{local} gets two weight decays; slim takes one weights_regularizer")
        return found[0] if found else None

    def layer_regularizer(self, weights: str, biases: str | None) -> Regularizer | None:
        """The layer's weights_regularizer; refuses weight decay on the biases (not carried yet)."""
        if biases is not None and self.regularizer(biases) is not None:
            raise Unsupported("a regularizer on the biases is not folded yet (slim's biases_regularizer is not carried)")
        return self.regularizer(weights)

    def check_activation_args(self, call: cst.Call) -> cst.BaseExpression:
        """An activation call's input; refuses arguments slim would not keep."""
        leaky = self.facts.qname(call.func) == N.TF_LEAKY_RELU
        carried = ("features", "alpha", "name") if leaky else ("features", "name")
        args = bind(call, carried)
        name = args.get("name")
        if name is not None and not (self.scope_var and self.facts.code(name) in (self.scope_var, f"{self.scope_var}.name")):
            raise Unsupported("the activation op has its own name=, which slim would not keep")
        if set(args) - set(carried):
            raise Unsupported("the activation has arguments slim does not carry")
        if "alpha" in args and not is_literal(args["alpha"], _LEAKY_RELU_ALPHA):
            raise Unsupported(
                f"tf.nn.leaky_relu(alpha={self.facts.code(args['alpha'])}): only the literal alpha={_LEAKY_RELU_ALPHA} is folded, "
                "the default, which slim's activation_fn=tf.nn.leaky_relu computes (a functools.partial carrying another "
                "alpha is not expanded back)"
            )
        return self.resolve(args.get("features"))


def scope_of(statement: cst.CSTNode, facts: FileFacts) -> str | None:
    """N.TF_NAME_SCOPE / N.TF_VARIABLE_SCOPE if `statement` is `with tf.<that>(...)`, else None."""
    if not (isinstance(statement, cst.With) and len(statement.items) == 1):
        return None
    item = statement.items[0].item
    qualified = facts.qname(item.func) if isinstance(item, cst.Call) else None
    return qualified if qualified in SCOPES else None


def block_calls(statement: cst.With, facts: FileFacts, *qualified_names: str) -> bool:
    """Whether a line directly in the block calls one of `qualified_names`."""
    found = []

    class _Find(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if facts.qname(node.func) in qualified_names:
                found.append(node)

    for line in getattr(statement.body, "body", ()):
        if isinstance(line, cst.SimpleStatementLine):
            line.visit(_Find())
    return bool(found)


def read_scoped_layer(statement: cst.With, site: Site, match_layer: Callable) -> LayerCall:
    """A scoped block -> LayerCall, or raise Unsupported with the reason.

    `match_layer(block, expression)` reads the layer computed by `expression` (the block's
    final value, resolved) and returns `(layer IR, input expression)`.
    """
    facts = site.file
    item = statement.items[0]
    scope_call = facts.qname(item.item.func)
    scope = _scope_name(item.item, scope_call)
    scope_var = None
    if item.asname is not None:
        if not isinstance(item.asname.name, cst.Name):
            raise Unsupported("`as` target is not a plain name")
        scope_var = item.asname.name.value
    check_placement(site, scope, scope_call)

    variables: dict[str, cst.Call] = {}
    ops: list[tuple[str, cst.BaseExpression]] = []
    weight_decay: dict[str, Regularizer] = {}
    decay_temporaries: set[str] = set()
    body = list(statement.body.body) if isinstance(statement.body, cst.IndentedBlock) else []
    if not body:
        raise Unsupported("the block body is not an indented block")
    output: Code | None = None
    final: cst.BaseExpression | None = None
    for position, line in enumerate(body):
        small = line.body[0] if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 else None
        last = position == len(body) - 1
        if isinstance(small, cst.Return) and last and small.value is not None:
            output, final = None, small.value
        elif isinstance(small, cst.Expr) and facts.is_call_to(small.value, N.TF_ADD_TO_COLLECTION) and not last:
            local, regularizer, temporary = _read_collected_weight_decay(small.value, variables, ops, facts)
            if local in weight_decay:
                raise Unsupported(f"{local} gets two weight decays; slim takes one weights_regularizer")
            weight_decay[local] = regularizer
            if temporary is not None:
                decay_temporaries.add(temporary)
            continue
        elif isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = small.targets[0].target
            factory = _variable_factory(small.value, facts)
            if factory is not None or (isinstance(small.value, cst.Call) and facts.qname(small.value.func) in _VARIABLE_CALLS):
                if not isinstance(target, cst.Name) or target.value in variables or any(n == target.value for n, _ in ops):
                    raise Unsupported(f"line {facts.line_of(line)} assigns a variable to {facts.code(target)}, which is not a fresh name")
                variables[target.value] = small.value
                if factory is not None:
                    variables[target.value], regularizer = inline_variable_factory(small.value, factory, facts)
                    if regularizer is not None:
                        weight_decay[target.value] = regularizer
                continue
            if last:
                output, final = Code(facts.code(target)), small.value
            elif isinstance(target, cst.Name) and target.value not in variables:
                ops.append((target.value, small.value))
                continue
            else:
                raise Unsupported(f"line {facts.line_of(line)} rebinds or assigns to {facts.code(target)}")
        else:
            raise Unsupported(f"line {facts.line_of(line)} does something other than build the layer (weights kept for later use?)")
        break
    if final is None:
        raise Unsupported("the block does not end by assigning or returning the layer's output")

    by_name_scope = any(facts.qname(call.func) == N.TF_VARIABLE for call in variables.values())
    check_call_context(site, name_scoped=by_name_scope)
    block = ScopedBlock(facts, scope, scope_call, scope_var, variables, ops, final, output, _bind_temporaries(ops, final))
    block.weight_decay = weight_decay
    local_names = set(variables) | {n for n, _ in ops} | decay_temporaries | ({scope_var} if scope_var else set())
    if output is not None and facts.code(final) != output.text:
        # The last line rebinds its target: later reads see the layer's output, not a temporary.
        local_names.discard(output.text)
    layer, inputs = match_layer(block, block.resolve(final))
    unused = sorted({ops[i][0] for i in range(len(ops)) if i not in block.resolved})
    if unused:
        raise Unsupported(f"{', '.join(unused)} is computed but not part of the layer")
    if _reads_block_value(inputs, block, set(variables) | ({scope_var} if scope_var else set())):
        raise Unsupported("the layer's input is computed inside the block")
    read_later = site.read_after(local_names, 1)
    if read_later:
        raise Unsupported(f"{', '.join(sorted(read_later))} is read after the block (weights or tensors kept for later use)")
    return LayerCall(layer=layer, inputs=Code(facts.code(inputs)), output=output, scope=scope)


def _reads_block_value(inputs: cst.BaseExpression, block: ScopedBlock, block_names: set[str]) -> bool:
    """Whether the input reads a variable or a temporary of the block. A temporary's name read
    before the block first binds it (`x = tf.nn.conv2d(x, ...)`) is the outer value: fine."""
    if names_read(inputs) & block_names:
        return True
    found = []

    class _Bound(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            if id(node) in block.binding:
                found.append(node)

    inputs.visit(_Bound())
    return bool(found)


def _scope_name(call: cst.Call, scope_call: str) -> str:
    args = bind(call, SIGNATURES[scope_call])
    if scope_call == N.TF_NAME_SCOPE:
        if set(args) != {"name"}:
            raise Unsupported("tf.name_scope takes only a name here")
        name = args["name"]
    else:
        if "reuse" in args:
            raise Unsupported("tf.variable_scope(reuse=...) shares variables with other code; slim's call would create its own")
        if set(args) != {"name_or_scope"}:
            raise Unsupported(f"tf.variable_scope({', '.join(sorted(set(args) - {'name_or_scope'}))}=...) is not carried")
        name = args["name_or_scope"]
    scope = literal(name, "the scope name")
    if not isinstance(scope, str):
        raise Unsupported("the scope name is only known at run time")
    check_scope_string(scope)
    return scope


def check_scope_string(scope: str) -> None:
    """Refuse scope names that tf.name_scope and slim's variable scope read differently."""
    if not scope or scope.endswith("/"):
        raise Unsupported(
            f"the scope name {scope!r} is absolute or empty for tf.name_scope (no prefix, no uniquifying), "
            f"while slim's variable scope would name the variables {scope + '/weights'!r}"
        )


def check_placement(site: Site, scope: str, scope_call: str) -> None:
    """Refuse blocks whose variable or op names would differ once folded into slim's scope."""
    facts = site.file
    refuse_arg_scope(site)
    refuse_variable_reuse(site)
    if site.in_loop:
        raise Unsupported("the block runs in a loop: tf.name_scope makes names unique per pass, slim's scope would collide")
    for owner in site.enclosing((cst.With,)):
        for item in owner.items:
            if facts.is_call_to(item.item, N.TF_NAME_SCOPE):
                raise Unsupported("nested in another tf.name_scope, whose prefix slim's variables would not get")
            if facts.is_call_to(item.item, N.TF_VARIABLE_SCOPE) and len(item.item.args) != 1:
                raise Unsupported("nested in a tf.variable_scope with options (reuse, initializer, ...) slim's call would see differently")
    function = site.function
    if function is not None and facts.calls_by_name.get(function.name.value, 0) > 1:
        raise Unsupported(
            f"{function.name.value}() is called {facts.calls_by_name[function.name.value]} times: "
            "tf.name_scope makes names unique per call, slim's scope would collide"
        )
    block = site.statement
    for node, text in facts.string_literals:
        if (text == scope or text.startswith((scope + "/", scope + ":"))) and not facts.contains(block, node):
            raise Unsupported(f"line {facts.line_of(node)} names {text!r}, an op or scope whose name would change")


def check_slim_placement(site: Site, scope: str, scope_node: cst.BaseExpression) -> None:
    """Refuse expanding a slim layer whose tf.Variables (named by the name scope) would not get
    the names slim's get_variable gives them (named by the variable scope)."""
    check_scope_string(scope)
    check_call_context(site, name_scoped=True)
    facts = site.file
    for node, text in facts.memo(_scope_strings):
        if node is not scope_node and (text == scope or text.startswith(scope + "/")):
            raise Unsupported(
                f"line {facts.line_of(node)} opens or names {text!r} too: tf.name_scope({scope!r}) would become "
                f"{scope + '_1'!r} and the variables would be renamed, while slim's variable scope keeps {scope!r}"
            )


@dataclass(frozen=True)
class _CallSite:
    line: int
    in_loop: bool  # in a loop, comprehension or lambda of its function
    scopes: tuple[cst.Call, ...]  # the `with` items around the call in its function, innermost first
    function: cst.FunctionDef | None


def check_call_context(site: Site, *, name_scoped: bool) -> None:
    """Refuse a layer whose names depend on how often and under which scopes it runs.

    Within its function: enclosing `with` statements. Then through the function's call sites in
    this file, transitively: a function called more than once, or in a loop, runs tf.name_scope
    again (uniquified names, `conv1_1/weights`) where slim's scope would collide; a call under
    `tf.name_scope` gives tf.Variable names a prefix slim's variables do not get. `name_scoped`:
    the tf side names its variables by the name scope (tf.Variable), not only by the variable
    scope (tf.get_variable). Callers in other modules are not seen.
    """
    facts = site.file
    if name_scoped:
        _check_enclosing_scopes(_with_calls(site.enclosing((cst.With,))), facts, "the block")
    function, seen = site.function, set()
    while function is not None and function.name.value not in seen:
        name = function.name.value
        seen.add(name)
        calls = facts.memo(_call_sites).get(name, [])
        if len(calls) > 1:
            lines = ", ".join(str(c.line) for c in calls)
            raise Unsupported(
                f"{name}() is called {len(calls)} times (lines {lines}): "
                "tf.name_scope makes names unique per call, slim's scope would collide"
            )
        if not calls:
            return
        call = calls[0]
        if call.in_loop:
            raise Unsupported(
                f"{name}() is called in a loop or comprehension (line {call.line}): tf.name_scope makes names unique per pass, "
                "slim's scope would collide"
            )
        where = f"{name}() is called on line {call.line}"
        scopes = [c for c in call.scopes if name_scoped or not facts.is_call_to(c, N.TF_NAME_SCOPE)]
        _check_enclosing_scopes(scopes, facts, where)
        function = call.function


def _with_calls(owners: list[cst.CSTNode]) -> list[cst.Call]:
    return [item.item for owner in owners for item in owner.items if isinstance(item.item, cst.Call)]


def _check_enclosing_scopes(calls: list[cst.Call], facts: FileFacts, where: str) -> None:
    for call in calls:
        if facts.is_call_to(call, N.TF_NAME_SCOPE):
            raise Unsupported(
                f"{where} under tf.name_scope (line {facts.line_of(call)}): tf.Variable names get its prefix, slim's variables do not"
            )
        if not facts.is_call_to(call, N.TF_VARIABLE_SCOPE):
            continue
        if len(call.args) != 1:
            raise Unsupported(f"{where} under a tf.variable_scope with options (reuse, initializer, ...) slim's call would see differently")
        name = call.args[0].value
        outer = literal(name) if isinstance(name, (cst.SimpleString, cst.ConcatenatedString)) else None
        if not isinstance(outer, str):
            raise Unsupported(
                f"{where} under tf.variable_scope({facts.code(name)}): a scope object or a run-time name may open a "
                "uniquified name scope, which tf.Variable names get and slim's variables do not"
            )
        for node, text in facts.string_literals:
            if node is not name and (text == outer or text.startswith(outer + "/")):
                raise Unsupported(
                    f"{where} under tf.variable_scope({outer!r}), and line {facts.line_of(node)} names {text!r} too: "
                    f"a second entry opens the name scope {outer + '_1'!r}, which tf.Variable names get and slim's variables do not"
                )


_LIBRARIES = ("tensorflow", "tf_slim", "numpy", "keras", "torch")
_LOOP_NODES = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.Lambda)


def _call_sites(facts: FileFacts) -> dict[str, list[_CallSite]]:
    """Calls of the file's own functions and methods (`f(...)`, `obj.f(...)`), by name."""
    sites: dict[str, list[_CallSite]] = {}

    class _Calls(cst.CSTVisitor):
        def __init__(self) -> None:
            self.contexts: list[tuple[list[int], list[cst.With], cst.FunctionDef | None]] = [([0], [], None)]

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.contexts.append(([0], [], node))

        def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
            self.contexts.pop()

        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, _LOOP_NODES):
                self.contexts[-1][0][0] += 1
            elif isinstance(node, cst.With):
                self.contexts[-1][1].append(node)
            return super().on_visit(node)

        def on_leave(self, original_node: cst.CSTNode) -> None:
            if isinstance(original_node, _LOOP_NODES):
                self.contexts[-1][0][0] -= 1
            elif isinstance(original_node, cst.With):
                self.contexts[-1][1].pop()
            super().on_leave(original_node)

        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            name = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else None
            qualified = facts.qname(func) or ""
            if name is None or qualified.split(".")[0] in _LIBRARIES:
                return
            loops, withs, function = self.contexts[-1]
            scopes = tuple(_with_calls(list(reversed(withs))))
            sites.setdefault(name, []).append(_CallSite(facts.line_of(node), loops[0] > 0, scopes, function))

    facts.module.visit(_Calls())
    return sites


def _scope_strings(facts: FileFacts) -> list[tuple[cst.CSTNode, str]]:
    """String literals the file uses as op or scope names (`name=`, `scope=`, tf.name_scope / tf.variable_scope)."""
    found: list[tuple[cst.CSTNode, str]] = []
    scoping = (N.TF_NAME_SCOPE, N.TF_VARIABLE_SCOPE)

    class _Names(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            first_is_name = facts.qname(node.func) in scoping
            for position, arg in enumerate(node.args):
                named = (
                    arg.keyword.value in ("name", "scope", "name_or_scope", "default_name")
                    if arg.keyword
                    else first_is_name and position == 0
                )
                if named and isinstance(arg.value, cst.SimpleString) and isinstance(arg.value.evaluated_value, str):
                    found.append((arg.value, arg.value.evaluated_value))

    facts.module.visit(_Names())
    return found


# Calls that exist only in TensorFlow 1's API (TF 2 keeps them under tf.compat.v1): a file that
# makes one through plain `tensorflow` runs under TF 1, so its `tf.nn.dropout(x, p)` means keep_prob.
_TF1_ONLY = frozenset(
    {
        "tensorflow.placeholder",
        "tensorflow.Session",
        "tensorflow.InteractiveSession",
        "tensorflow.get_variable",
        "tensorflow.variable_scope",
        "tensorflow.global_variables_initializer",
        "tensorflow.initialize_all_variables",
        "tensorflow.train.Saver",
        "tensorflow.truncated_normal",
        "tensorflow.random_normal",
        "tensorflow.random_uniform",
        "tensorflow.get_collection",
        "tensorflow.add_to_collection",
        "tensorflow.summary.FileWriter",
        "tensorflow.train.AdamOptimizer",
        "tensorflow.train.GradientDescentOptimizer",
        "tensorflow.train.MomentumOptimizer",
    }
)


# Set while a codemod folds a snippet cut from a file whose plain `tensorflow` is already known
# to be TF 1 (the snippet alone no longer shows it).
_TF1_SOURCE: ContextVar[bool] = ContextVar("slimify_tf1_source", default=False)


def evidently_tf1(func: cst.BaseExpression, facts: FileFacts) -> bool:
    """Whether `func` is TensorFlow 1's API: reached through `compat.v1`, or through plain
    `tensorflow` in a file whose plain `tensorflow` is shown to be TF 1. Plain `import tensorflow
    as tf` is TF 2 unless the file shows otherwise; through `compat.v2` it is always TF 2."""
    version = _compat_version(func, facts)
    if version is not None:
        return version == "v1"
    return _TF1_SOURCE.get() or plain_tensorflow_is_tf1(facts)


def plain_tensorflow_is_tf1(facts: FileFacts) -> bool:
    """Whether the file calls, through plain `tensorflow` (or tf.contrib), a function only TF 1 has.

    Calls through `tensorflow.compat.v1` show nothing about plain `tensorflow`: a file importing
    both `tensorflow as tf` and `tensorflow.compat.v1 as tf1` is TF 2 code using TF 1's API
    beside it, and its `tf.nn.dropout(x, p)` is TF 2's (p is the rate). Nor does a file that
    checks which TensorFlow it runs under (`tf.__version__`, `hasattr(tf, ...)`): it is written
    for both, its TF1-only calls guarded."""
    spelled = facts.called_as_spelled
    calls_tf1_only = bool(_TF1_ONLY & spelled) or any(name.startswith("tensorflow.contrib.") for name in spelled)
    return calls_tf1_only and not facts.memo(_checks_tensorflow_version)


def _checks_tensorflow_version(facts: FileFacts) -> bool:
    """Whether the file reads TensorFlow's version or asks it whether it has an attribute."""
    found = False

    class _Checks(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            nonlocal found
            if node.attr.value in ("__version__", "VERSION") and (facts.qname(node) or "").startswith("tensorflow."):
                found = True

        def visit_Call(self, node: cst.Call) -> None:
            nonlocal found
            if isinstance(node.func, cst.Name) and node.func.value == "hasattr" and node.args:
                found = found or (facts.qname(node.args[0].value) or "") == "tensorflow"

    facts.module.visit(_Checks())
    return found


@contextmanager
def snippet_of_tf1_file(is_tf1: bool) -> Iterator[None]:
    """Fold a snippet cut from a file whose plain `tensorflow` was shown to be TF 1 (on the whole file)."""
    token = _TF1_SOURCE.set(is_tf1)
    try:
        yield
    finally:
        _TF1_SOURCE.reset(token)


def spelled_through_tf2(func: cst.BaseExpression, facts: FileFacts) -> bool:
    """Whether `func` reaches TensorFlow through `tensorflow.compat.v2` (whose APIs keep their TF2
    signatures, e.g. `tf.nn.dropout(x, rate)`), which qualified names fold onto `tensorflow`."""
    return _compat_version(func, facts) == "v2"


def _compat_version(func: cst.BaseExpression, facts: FileFacts) -> str | None:
    """'v1' / 'v2' when `func` reaches TensorFlow through compat.v1 / compat.v2, else None. The
    innermost counts: `tf.compat.v2.x` through `import tensorflow.compat.v1 as tf` is TF 2's."""
    for text in (facts.spelled(func) or "", facts.code(func)):
        v1, v2 = text.rfind("compat.v1"), text.rfind("compat.v2")
        if v1 != v2:  # both -1 when neither
            return "v1" if v1 > v2 else "v2"
    return None


def refuse_arg_scope(site: Site) -> None:
    if N.SLIM_ARG_SCOPE in site.file.called_names:
        raise Unsupported("this file uses slim.arg_scope, which may change the slim layer's defaults")


def refuse_variable_reuse(site: Site) -> None:
    line = site.file.memo(_reuse_line)
    if line is not None:
        raise Unsupported(
            f"line {line} reuses variables (reuse=True / AUTO_REUSE / reuse_variables()): which block shares whose weights is not folded"
        )


def _reuse_line(facts: FileFacts) -> int | None:
    found: list[int] = []

    class _Reuse(cst.CSTVisitor):
        def visit_Arg(self, node: cst.Arg) -> None:
            if (
                node.keyword is not None
                and node.keyword.value == "reuse"
                and not (is_literal(node.value, None) or is_literal(node.value, False))
            ):
                found.append(facts.line_of(node))

        def visit_Attribute(self, node: cst.Attribute) -> None:
            if node.attr.value == "reuse_variables" or facts.qname(node) == N.TF_AUTO_REUSE:
                found.append(facts.line_of(node))

    facts.module.visit(_Reuse())
    return min(found) if found else None


def _bind_temporaries(ops: list[tuple[str, cst.BaseExpression]], final: cst.BaseExpression) -> dict[int, int]:
    """Which definition each read of a temporary sees (id(Name) -> index into ops); refuses a
    temporary read twice (folding would compute it once where the source shares it)."""
    binding: dict[int, int] = {}
    latest: dict[str, int] = {}
    uses: dict[int, int] = {}

    class _Reads(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            node.value.visit(self)
            return False

        def visit_Name(self, node: cst.Name) -> None:
            if node.value in latest:
                binding[id(node)] = latest[node.value]
                uses[latest[node.value]] = uses.get(latest[node.value], 0) + 1

    for index, (name, expression) in enumerate([*ops, ("", final)]):
        expression.visit(_Reads())
        if name:
            latest[name] = index
    twice = sorted({ops[i][0] for i, count in uses.items() if count > 1})
    if twice:
        raise Unsupported(f"the intermediate tensor {', '.join(twice)} is used twice")
    return binding


def read_variable(call: cst.Call, expected_name: str, rank: int, facts: FileFacts, scope_call: str):
    """A block's `tf.Variable` / `tf.get_variable` -> (initializer, shape entries, trainable)."""
    if facts.qname(call.func) == N.TF_GET_VARIABLE:
        return _read_get_variable(call, expected_name, rank, facts, scope_call)
    args = bind(call, SIGNATURES[N.TF_VARIABLE])
    name = args.get("name")
    if name is None or not is_literal(name, expected_name):
        shown = facts.code(name) if name is not None else "unnamed"
        raise Unsupported(f"the variable is {shown}, slim names it {expected_name!r}; checkpoints would not load")
    unknown = set(args) - {"initial_value", "name", "trainable", "dtype"}
    if unknown:
        raise Unsupported(f"tf.Variable({', '.join(sorted(unknown))}=...) is not carried")
    check_float32(args, facts, expected_name)
    trainable = _trainable(args)
    initializer, shape = read_initial_value(args.get("initial_value"), facts, rank, expected_name)
    return initializer, shape, trainable


def _read_get_variable(call: cst.Call, expected_name: str, rank: int, facts: FileFacts, scope_call: str):
    args = bind(call, SIGNATURES[N.TF_GET_VARIABLE])
    name = args.get("name")
    if name is None or not is_literal(name, expected_name):
        shown = facts.code(name) if name is not None else "unnamed"
        raise Unsupported(f"the variable is {shown}, slim names it {expected_name!r}; checkpoints would not load")
    if scope_call != N.TF_VARIABLE_SCOPE:
        raise Unsupported(
            f"tf.get_variable ignores tf.name_scope: the variable is named {expected_name!r}, slim's would get the scope prefix"
        )
    unknown = set(args) - {"name", "shape", "dtype", "initializer", "trainable", "regularizer"}
    if unknown:
        raise Unsupported(f"tf.get_variable({', '.join(sorted(unknown))}=...) is not carried")
    check_float32(args, facts, expected_name)
    if "shape" not in args:
        raise Unsupported(f"{expected_name} has no shape=")
    shape = elements(args["shape"], rank, f"{expected_name}'s shape")
    # tf.get_variable's own default for float variables is glorot uniform (biases included).
    initializer = Initializer("glorot_uniform")
    if "initializer" in args and not is_literal(args["initializer"], None):
        initializer = read_initializer(args["initializer"], facts, f"{expected_name}'s initializer")
    return initializer, shape, _trainable(args)


def _trainable(args: dict[str, cst.BaseExpression]) -> bool:
    if "trainable" not in args or is_literal(args["trainable"], None):
        return True
    trainable = literal(args["trainable"], "trainable=")
    if not isinstance(trainable, bool):
        raise Unsupported("trainable= is only known at run time")
    return trainable


def read_bias(block: ScopedBlock, expression: cst.BaseExpression | None) -> tuple[cst.BaseExpression, str | None]:
    """`bias_add(t, b)` / `tf.add(t, b)` / `t + b` with `b` a block variable -> (t resolved, b), else (expression, None)."""
    facts = block.facts
    if isinstance(expression, cst.Call) and facts.qname(expression.func) in (N.TF_BIAS_ADD, N.TF_ADD):
        signature = SIGNATURES[facts.qname(expression.func)]
        args = bind(expression, signature)
        data_format = args.get("data_format")
        if data_format is not None and not is_literal(data_format, "NHWC"):
            raise Unsupported("bias_add with data_format other than NHWC")
        tensor, bias = block.split_bias(block.resolve(args.get(signature[0])), block.resolve(args.get(signature[1])))
        return block.resolve(tensor), bias
    if isinstance(expression, cst.BinaryOperation) and isinstance(expression.operator, cst.Add):
        tensor, bias = block.split_bias(block.resolve(expression.left), block.resolve(expression.right))
        return block.resolve(tensor), bias
    return expression, None


@dataclass(frozen=True)
class SlimLayerArgs:
    """The arguments slim's variable-backed layers share, read with slim's defaults."""

    scope: str
    activation: str | None
    weights_initializer: Initializer
    use_bias: bool
    bias_initializer: Initializer | None
    trainable: bool
    weights_regularizer: Regularizer | None = None


SLIM_NOT_CARRIED = (
    "normalizer_fn",
    "normalizer_params",
    "biases_regularizer",
    "reuse",
    "variables_collections",
    "outputs_collections",
)


def read_slim_layer_args(args: dict[str, cst.BaseExpression], facts: FileFacts) -> SlimLayerArgs:
    for key in args:
        if key in SLIM_NOT_CARRIED:
            raise Unsupported(f"{key}= is not expanded yet")
    if "scope" not in args:
        raise Unsupported("no scope=: slim names the variables by call order ('Conv', 'Conv_1', 'fully_connected', ...)")
    scope = literal(args["scope"], "the scope name")
    if not isinstance(scope, str):
        raise Unsupported("the scope name is only known at run time")
    activation = "relu"
    if "activation_fn" in args:
        if is_literal(args["activation_fn"], None):
            activation = None
        elif facts.qname(args["activation_fn"]) in N.TF_ACTIVATIONS:
            activation = N.TF_ACTIVATIONS[facts.qname(args["activation_fn"])]
        else:
            raise Unsupported(f"activation_fn={facts.code(args['activation_fn'])} is not a known activation")
    weights_init = Initializer("glorot_uniform")
    if "weights_initializer" in args:
        weights_init = read_initializer(args["weights_initializer"], facts, "weights_initializer")
    use_bias, bias_init = True, Initializer("zeros")
    if "biases_initializer" in args:
        if is_literal(args["biases_initializer"], None):
            use_bias, bias_init = False, None
        else:
            bias_init = read_initializer(args["biases_initializer"], facts, "biases_initializer")
    trainable = literal(args["trainable"], "trainable=") if "trainable" in args else True
    if not isinstance(trainable, bool):
        raise Unsupported("trainable= is only known at run time")
    regularizer = read_slim_weights_regularizer(args, facts)
    return SlimLayerArgs(scope, activation, weights_init, use_bias, bias_init, trainable, regularizer)


def slim_layer_keywords(layer, names: Names) -> list[cst.Arg]:
    """activation_fn / initializers / trainable keywords for a slim layer, omitting slim's defaults."""
    args = []
    if layer.activation != "relu":
        activation = cst.Name("None") if layer.activation is None else names.ref(ACTIVATION_FUNCTIONS[layer.activation])
        args.append(keyword("activation_fn", activation))
    if layer.weights_initializer not in (None, Initializer("glorot_uniform")):
        args.append(keyword("weights_initializer", emit_initializer(layer.weights_initializer, names)))
    if layer.weights_regularizer is not None:
        args.append(keyword("weights_regularizer", emit_slim_regularizer(layer.weights_regularizer, names)))
    if not layer.use_bias:
        args.append(keyword("biases_initializer", cst.Name("None")))
    elif layer.bias_initializer not in (None, Initializer("zeros")):
        args.append(keyword("biases_initializer", emit_initializer(layer.bias_initializer, names)))
    if not layer.trainable:
        args.append(keyword("trainable", cst.Name("False")))
    return args


def emit_variable(local: str, graph_name: str, initializer: Initializer, shape: cst.BaseExpression, trainable: bool, names: Names):
    """`local = tf.Variable(<initial value>, name='graph_name')`."""
    extra = [] if trainable else [keyword("trainable", cst.Name("False"))]
    return assign(local, cst.Call(names.ref(N.TF_VARIABLE), commas([
        cst.Arg(emit_initial_value(initializer, shape, names)),
        *extra,
        keyword("name", string(graph_name)),
    ])))  # fmt: skip


def single_call(site: Site, qualified_names: tuple[str, ...]) -> tuple[Code | None, cst.Call] | None:
    """`out = f(...)` or `return f(...)` with f one of `qualified_names` -> (output, call), else None."""
    statement = site.statement
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
        return None
    small = statement.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        output, call = Code(site.file.code(small.targets[0].target)), small.value
    elif isinstance(small, cst.Return) and small.value is not None:
        output, call = None, small.value
    else:
        return None
    if not site.file.is_call_to(call, *qualified_names):
        return None
    return output, call


def op_name_as_scope(name: cst.BaseExpression | None, facts: FileFacts) -> str | None:
    """A variable-free op's literal `name=`, to become slim's `scope=`; refuses a name that
    other code looks up (slim's op is `<scope>/<Op>`, not `<scope>`)."""
    if name is None or is_literal(name, None):
        return None
    scope = literal(name, "the op name")
    if not isinstance(scope, str):
        raise Unsupported("the op name is only known at run time")
    for node, text in facts.string_literals:
        if (text == scope or text.startswith((scope + "/", scope + ":"))) and node is not name:
            raise Unsupported(f"line {facts.line_of(node)} names {text!r}, an op whose name would change")
    return scope


# --- Weight decay -------------------------------------------------------------------------
# slim's `weights_regularizer=slim.l2_regularizer(s)` adds `s * tf.nn.l2_loss(weights)` to
# tf.GraphKeys.REGULARIZATION_LOSSES, exactly where `tf.get_variable(regularizer=...)` puts it.
# A hand-written weight decay (`tf.add_to_collection(C, tf.multiply(tf.nn.l2_loss(w), wd))`,
# inline or in a CIFAR-10 style factory) folds only when C is that collection too: a program
# reading another collection ('losses') would silently lose the loss.


def read_regularizer(node: cst.BaseExpression, facts: FileFacts, what: str) -> Regularizer:
    """`slim.l2_regularizer(s)` / `tf.contrib.layers.l1_regularizer(s)` / `tf.nn.l2_loss` -> Regularizer."""
    if facts.qname(node) == N.TF_L2_LOSS:
        return Regularizer("l2", "1.0")  # l2_regularizer(1.0) computes 1.0 * l2_loss(w): the same bits
    qualified = facts.qname(node.func) if isinstance(node, cst.Call) else facts.qname(node)
    kind = N.SLIM_REGULARIZERS.get(qualified or "")
    if kind is not None and isinstance(node, cst.Call):
        args = bind(node, ("scale", "scope"))
        if set(args) != {"scale"}:
            raise Unsupported(f"{what} {facts.code(node)}: only the scale is carried")
        return Regularizer(kind, facts.code(args["scale"]))
    if (qualified or "").startswith(N.KERAS_REGULARIZERS):
        raise Unsupported(
            f"{what} {facts.code(node)} is Keras's: scale * sum(w ** 2) without l2_loss's halving, computed by other ops; "
            "not proven identical to slim.l2_regularizer"
        )
    raise Unsupported(f"{what} {facts.code(node)} is not a regularizer slimify reads (slim.l2_regularizer / l1_regularizer, tf.nn.l2_loss)")


def read_slim_weights_regularizer(args: dict[str, cst.BaseExpression], facts: FileFacts) -> Regularizer | None:
    """A slim layer's `weights_regularizer=`, when the expansion can write it out exactly."""
    given = args.get("weights_regularizer")
    if given is None or is_literal(given, None):
        return None
    regularizer = read_regularizer(given, facts, "weights_regularizer=")
    if regularizer.kind != "l2":
        raise Unsupported(f"weights_regularizer={facts.code(given)} is not expanded yet (only l2_regularizer)")
    exact_scale(cst.parse_expression(regularizer.scale), "weights_regularizer's scale")
    return regularizer


def exact_scale(node: cst.BaseExpression, what: str) -> str:
    """A weight-decay factor both sides treat alike: a positive literal (as float source text).
    slim.l2_regularizer adds no loss at all for 0.0 and rejects integers, a hand-written decay
    adds a zero loss and takes any number."""
    try:
        scale = literal(node, what)
    except Unsupported:
        raise Unsupported(f"{what} {cst.Module([]).code_for_node(node)} is only known at run time (slim adds no loss for 0.0)") from None
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise Unsupported(f"{what} is not a number")
    if scale <= 0:
        raise Unsupported(f"{what} is {scale}: a hand-written decay adds a zero or negative loss, slim.l2_regularizer none or an error")
    return cst.Module([]).code_for_node(node) if isinstance(scale, float) else repr(float(scale))


def read_l2_decay(node: cst.BaseExpression, facts: FileFacts) -> tuple[cst.BaseExpression, cst.BaseExpression, cst.BaseExpression | None]:
    """`tf.multiply(tf.nn.l2_loss(w), wd, name=...)`, `wd * tf.nn.l2_loss(w)`, ... -> (w, wd, name node)."""
    name = None
    if facts.is_call_to(node, N.TF_MULTIPLY):
        args = bind(node, SIGNATURES[N.TF_MULTIPLY])
        if set(args) - {"x", "y", "name"}:
            raise Unsupported("the weight decay's tf.multiply has arguments slimify does not read")
        first, second, name = args.get("x"), args.get("y"), args.get("name")
    elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply):
        first, second = node.left, node.right
    else:
        raise Unsupported(f"{facts.code(node)} is not scale * tf.nn.l2_loss(weights)")
    for loss, scale in ((first, second), (second, first)):
        if facts.is_call_to(loss, N.TF_L2_LOSS):
            args = bind(loss, SIGNATURES[N.TF_L2_LOSS])
            if set(args) != {"t"}:
                raise Unsupported("tf.nn.l2_loss(name=...) names an op slim would not keep")
            return args["t"], scale, name
    raise Unsupported(f"{facts.code(node)} is not scale * tf.nn.l2_loss(weights)")


def check_loss_collection(collection: cst.BaseExpression | None, facts: FileFacts, what: str) -> None:
    """Refuse a weight decay collected anywhere but tf.GraphKeys.REGULARIZATION_LOSSES."""
    if collection is not None and (
        facts.qname(collection) == N.TF_REGULARIZATION_LOSSES or is_literal(collection, N.REGULARIZATION_LOSSES_KEY)
    ):
        return
    shown = facts.code(collection) if collection is not None else "unknown"
    readers = _collection_readers(collection, facts) if collection is not None else []
    read = f" (read on line {', '.join(map(str, readers))})" if readers else ""
    raise Unsupported(
        f"{what} goes to the collection {shown}{read}; slim's weights_regularizer would put it in "
        "tf.GraphKeys.REGULARIZATION_LOSSES instead, so the program would no longer see it"
    )


def _collection_readers(collection: cst.BaseExpression, facts: FileFacts) -> list[int]:
    def key(node: cst.BaseExpression):
        try:
            return literal(node)
        except Unsupported:
            return facts.code(node)

    wanted = key(collection)
    lines: list[int] = []

    class _Readers(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if facts.qname(node.func) == N.TF_GET_COLLECTION and node.args and key(node.args[0].value) == wanted:
                lines.append(facts.line_of(node))

    facts.module.visit(_Readers())
    return sorted(set(lines))


def _check_decay_op_name(name: cst.BaseExpression | None, facts: FileFacts) -> None:
    if name is None or is_literal(name, None):
        return
    text = literal(name, "the weight decay's op name")
    for node, other in facts.string_literals:
        if node is not name and other == text:
            raise Unsupported(f"line {facts.line_of(node)} names {text!r}, the weight decay op slim would name differently")


def _read_collected_weight_decay(call: cst.Call, variables: dict[str, cst.Call], ops: list, facts: FileFacts):
    """`tf.add_to_collection(C, <decay>)` in a block, the decay inline or the temporary just
    before -> (variable local name, Regularizer, the temporary's name or None)."""
    args = bind(call, SIGNATURES[N.TF_ADD_TO_COLLECTION])
    value, temporary = args.get("value"), None
    if isinstance(value, cst.Name) and ops and ops[-1][0] == value.value:
        temporary, value = ops.pop()
    weights, scale, name = read_l2_decay(value, facts)
    if not (isinstance(weights, cst.Name) and weights.value in variables):
        raise Unsupported("the weight decay is not on a variable created in the block")
    check_loss_collection(args.get("name"), facts, "the weight decay")
    _check_decay_op_name(name, facts)
    return weights.value, Regularizer("l2", exact_scale(scale, "the weight decay factor")), temporary


@dataclass(frozen=True)
class VariableFactory:
    """A module-level `def f(name, shape, ..., wd)` creating one variable and maybe its weight decay."""

    definition: cst.FunctionDef
    variable: str  # the local the created variable is bound to
    creation: cst.Call  # tf.get_variable / tf.Variable
    guard: str | None  # `if <guard> is not None:` around the decay
    decay: cst.BaseExpression | None  # scale * tf.nn.l2_loss(variable)
    collection: cst.BaseExpression | None


def _variable_factory(value: cst.BaseExpression, facts: FileFacts) -> VariableFactory | None:
    """The factory `value` calls, if it is a plain call to a function defined once in this module."""
    if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)):
        return None
    definitions = [s for s in facts.module.body if isinstance(s, cst.FunctionDef) and s.name.value == value.func.value]
    if len(definitions) != 1 or not _creates_variables(definitions[0], facts):
        return None
    return _read_factory(definitions[0], facts)


def _creates_variables(definition: cst.FunctionDef, facts: FileFacts) -> bool:
    """Whether a function creates a variable or collects a loss (else it is not a factory)."""
    found = []

    class _Find(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if facts.qname(node.func) in (*_VARIABLE_CALLS, N.TF_ADD_TO_COLLECTION):
                found.append(node)

    definition.visit(_Find())
    return bool(found)


def _read_factory(definition: cst.FunctionDef, facts: FileFacts) -> VariableFactory:
    name = definition.name.value
    body = list(definition.body.body) if isinstance(definition.body, cst.IndentedBlock) else []
    if body and _is_docstring(body[0]):
        body = body[1:]
    doing_more = Unsupported(f"the variable factory {name}() does more than create one variable and add its weight decay")
    if len(body) < 2 or not _simple(body[0], cst.Assign) or not _simple(body[-1], cst.Return):
        raise doing_more
    created, returned = body[0].body[0], body[-1].body[0]
    target = created.targets[0].target if len(created.targets) == 1 else None
    if not (isinstance(target, cst.Name) and isinstance(returned.value, cst.Name) and returned.value.value == target.value):
        raise doing_more
    if not (isinstance(created.value, cst.Call) and facts.qname(created.value.func) in _VARIABLE_CALLS):
        shown = facts.code(created.value.func) if isinstance(created.value, cst.Call) else facts.code(created.value)
        raise Unsupported(f"the variable factory {name}() creates its variable through {shown}, which slimify does not follow")
    middle, guard = body[1:-1], None
    if len(middle) == 1 and isinstance(middle[0], cst.If) and middle[0].orelse is None:
        guard = _is_not_none(middle[0].test)
        if guard is None:
            raise doing_more
        middle = list(middle[0].body.body)
    if not middle:
        if guard is not None:
            raise doing_more
        return VariableFactory(definition, target.value, created.value, None, None, None)
    if not all(_simple(line, (cst.Assign, cst.Expr)) for line in middle) or len(middle) > 2:
        raise doing_more
    collect = middle[-1].body[0]
    if not (isinstance(collect, cst.Expr) and facts.is_call_to(collect.value, N.TF_ADD_TO_COLLECTION)):
        raise doing_more
    args = bind(collect.value, SIGNATURES[N.TF_ADD_TO_COLLECTION])
    decay = args.get("value")
    if len(middle) == 2:
        temporary = middle[0].body[0]
        if not (
            isinstance(temporary, cst.Assign)
            and len(temporary.targets) == 1
            and isinstance(decay, cst.Name)
            and facts.code(temporary.targets[0].target) == decay.value
        ):
            raise doing_more
        decay = temporary.value
    return VariableFactory(definition, target.value, created.value, guard, decay, args.get("name"))


def inline_variable_factory(call: cst.Call, factory: VariableFactory, facts: FileFacts) -> tuple[cst.Call, Regularizer | None]:
    """A factory call -> (its tf.get_variable / tf.Variable call with the arguments put in, weight decay)."""
    name = factory.definition.name.value
    parameters = factory.definition.params
    if parameters.star_arg not in (None, cst.MaybeSentinel.DEFAULT) or parameters.star_kwarg is not None or parameters.kwonly_params:
        raise Unsupported(f"{name}() takes * or ** parameters slimify does not bind")
    order = [p.name.value for p in (*parameters.posonly_params, *parameters.params)]
    bound = bind(call, order)
    unknown = set(bound) - set(order)
    if unknown:
        raise Unsupported(f"{name}() gets {', '.join(sorted(unknown))}=, which it does not take")
    for parameter in (*parameters.posonly_params, *parameters.params):
        if parameter.name.value not in bound:
            if parameter.default is None:
                raise Unsupported(f"{name}() is called without {parameter.name.value}")
            bound[parameter.name.value] = parameter.default
    creation = substitute_names(factory.creation, bound)
    if factory.decay is None:
        return creation, None
    if factory.guard is not None and factory.guard not in bound:
        raise Unsupported(f"{name}()'s weight decay depends on {factory.guard}, which is not a parameter")
    if factory.guard is not None and is_literal(bound[factory.guard], None):
        return creation, None
    weights, scale, op_name = read_l2_decay(substitute_names(factory.decay, bound), facts)
    if not (isinstance(weights, cst.Name) and weights.value == factory.variable):
        raise Unsupported(f"{name}() decays something other than the variable it returns")
    collection = substitute_names(factory.collection, bound) if factory.collection is not None else None
    check_loss_collection(collection, facts, f"{name}()'s weight decay")
    _check_decay_op_name(op_name, facts)
    return creation, Regularizer("l2", exact_scale(scale, f"{name}()'s weight decay factor"))


def _simple(line: cst.BaseStatement, kinds) -> bool:
    return isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 and isinstance(line.body[0], kinds)


def _is_docstring(line: cst.BaseStatement) -> bool:
    return _simple(line, cst.Expr) and isinstance(line.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


def _is_not_none(test: cst.BaseExpression) -> str | None:
    """`x is not None` -> "x"."""
    if (
        isinstance(test, cst.Comparison)
        and isinstance(test.left, cst.Name)
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.IsNot)
        and is_literal(test.comparisons[0].comparator, None)
    ):
        return test.left.value
    return None


def emit_slim_regularizer(regularizer: Regularizer, names: Names) -> cst.Call:
    """Regularizer -> `slim.l2_regularizer(0.004)`."""
    function = {"l2": "tf_slim.l2_regularizer", "l1": "tf_slim.l1_regularizer"}[regularizer.kind]
    return cst.Call(names.ref(function), [cst.Arg(cst.parse_expression(regularizer.scale))])


def emit_weight_decay(regularizer: Regularizer, weights: str, names: Names) -> cst.SimpleStatementLine:
    """`tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, tf.multiply(s, tf.nn.l2_loss(weights)))`:
    what slim.l2_regularizer(s) computes and where it puts it."""
    decay = cst.Call(names.ref(N.TF_MULTIPLY), tf1_args([
        cst.parse_expression(regularizer.scale),
        cst.Call(names.ref(N.TF_L2_LOSS), [cst.Arg(cst.Name(weights))]),
    ]))  # fmt: skip
    collect = cst.Call(names.ref(N.TF_ADD_TO_COLLECTION), tf1_args([names.ref(N.TF_REGULARIZATION_LOSSES), decay]))
    return cst.SimpleStatementLine([cst.Expr(collect)])


def tf1_args(values: list[cst.BaseExpression]) -> list[cst.Arg]:
    return commas([cst.Arg(v) for v in values])


def code_is_name(node: cst.BaseExpression, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def assigns_name(statement: cst.CSTNode, name: str) -> bool:
    """Whether `statement` binds `name` anywhere (assignment, augmented assignment, for, with ... as)."""
    found = []

    class _Binds(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            found.extend(n for n in _target_names(node.target) if n == name)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            found.extend(n for n in _target_names(node.target) if n == name)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            found.extend(n for n in _target_names(node.target) if n == name)

        def visit_For(self, node: cst.For) -> None:
            found.extend(n for n in _target_names(node.target) if n == name)

        def visit_AsName(self, node: cst.AsName) -> None:
            found.extend(n for n in _target_names(node.name) if n == name)

    statement.visit(_Binds())
    return bool(found)


def _target_names(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for element in target.elements for n in _target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []
