"""Flatten: `tf.reshape(x, [-1, <features of x>])` <-> `slim.flatten(x)`.

Before (tf):
    flat = tf.reshape(pool2, [-1, pool2.get_shape()[1:].num_elements()])

After (slim):
    flat = slim.flatten(pool2)

`slim.flatten(x)` is `tf.reshape(x, [batch, -1])`: the same values as `tf.reshape(x, [-1, n])`
only when n is height * width * channels of x. Folded only when the source says so itself:
`x.get_shape()[1:].num_elements()`, `np.prod(x.get_shape()[1:])` /
`np.prod(x.get_shape().as_list()[1:])` (optionally inside `int(...)`), or
`tf.reshape(x, [tf.shape(x)[0], -1])`, each naming the same tensor x.

Refuses when: n is a product of numbers and names (`[-1, 7 * 7 * 64]`): whether it equals
H * W * C is only known at run time (if it does not, the source silently changes the batch size).
A single number or name (`[-1, 1]`, `[-1, dim]`) is no candidate: as often a plain reshape.
Also refused:
`name=` is given (only op names would change, but reshape ops are looked up by name often enough).

Reverse (slim -> tf): `slim.flatten(x)` becomes
`tf.reshape(x, [-1, x.get_shape()[1:].num_elements()])`. A `Flatten(size=n)` (a reshape whose
size another family read from a weight's shape) is emitted as `tf.reshape(x, [-1, n])` for both
targets: that is what the source says, and it is not provably `slim.flatten`. Refuses an input that is an expression
(it would be evaluated twice), `outputs_collections=`, `scope=`, `slim.arg_scope` in the file.
"""

from __future__ import annotations

import libcst as cst

from slimify import names as N
from slimify import tf1
from slimify.ir import Code, Flatten, LayerCall
from slimify.rewrite import FileFacts, Names, Recognized, Refusal, Site
from slimify.tf1 import Unsupported

FAMILY = "flatten"

_NUMPY_PROD = ("numpy.prod",)
_TF_SHAPE = "tensorflow.shape"


class FoldFlatten:
    """tf -> IR: `y = tf.reshape(x, [-1, <features of x>])`."""

    family = FAMILY
    dialect = "tf"
    markers = ("reshape",)

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        found = tf1.single_call(site, (N.TF_RESHAPE,))
        if found is None:
            return None
        output, call = found
        facts = site.file
        try:
            args = tf1.bind(call, tf1.SIGNATURES[N.TF_RESHAPE])
        except Unsupported:
            return None
        tensor, shape = args.get("tensor"), args.get("shape")
        if not isinstance(shape, (cst.List, cst.Tuple)) or len(shape.elements) != 2 or tensor is None:
            return None  # not a reshape to rank 2: not a flatten candidate
        first, second = (e.value for e in shape.elements)
        source = facts.code(tensor)
        if tf1.is_literal(first, -1) and _features_of(second, source, facts):
            pass
        elif tf1.is_literal(second, -1) and _batch_of(first, source, facts):
            pass
        elif tf1.is_literal(first, -1) and _plain_size(second):
            return Refusal(
                FAMILY,
                facts.line_of(site.statement),
                f"flatten not folded: tf.reshape({source}, [-1, {facts.code(second)}]) equals slim.flatten only if "
                f"{facts.code(second)} is height * width * channels of {source}, which is only known at run time",
            )
        else:
            return None
        if "name" in args:
            return Refusal(FAMILY, facts.line_of(site.statement), "flatten not folded: the reshape op's name= would change")
        return Recognized(FAMILY, 1, LayerCall(Flatten(), Code(source), output, None), releases=(N.TENSORFLOW,))


def _plain_size(node: cst.BaseExpression) -> bool:
    """A size written as a product of numbers and names (`7 * 7 * 64`, `h * w * c`): a flatten
    by intent. A single number or name (`[-1, 1]` for labels, `[-1, n_input]`) is as often a plain
    reshape, and other spellings (a weight's shape) are left to other families."""
    def factors(n: cst.BaseExpression) -> bool:
        if isinstance(n, (cst.Integer, cst.Name)):
            return True
        return isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Multiply) and factors(n.left) and factors(n.right)

    return isinstance(node, cst.BinaryOperation) and factors(node)


def _shape_tail(node: cst.BaseExpression, source: str, facts: FileFacts) -> bool:
    """`x.get_shape()[1:]`, `x.shape[1:]` or `.as_list()[1:]` of either, for x spelled `source`."""
    if not (isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Slice)):
        return False
    piece = node.slice[0].slice
    if not (tf1.is_literal(piece.lower, 1) and piece.upper is None and piece.step is None):
        return False
    shape = node.value
    if isinstance(shape, cst.Call) and isinstance(shape.func, cst.Attribute) and shape.func.attr.value == "as_list" and not shape.args:
        shape = shape.func.value
    if isinstance(shape, cst.Call) and isinstance(shape.func, cst.Attribute) and shape.func.attr.value == "get_shape" and not shape.args:
        return facts.code(shape.func.value) == source
    return isinstance(shape, cst.Attribute) and shape.attr.value == "shape" and facts.code(shape.value) == source


def _features_of(node: cst.BaseExpression, source: str, facts: FileFacts) -> bool:
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "int" and len(node.args) == 1:
        node = node.args[0].value
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "num_elements" and not node.args:
        # TensorShape.num_elements(): `.as_list()` would make it a list, which has none.
        inner = node.func.value
        return _shape_tail(inner, source, facts) and "as_list" not in facts.code(inner)
    if facts.is_call_to(node, *_NUMPY_PROD) and len(node.args) == 1 and node.args[0].keyword is None:
        return _shape_tail(node.args[0].value, source, facts)
    return False


def _batch_of(node: cst.BaseExpression, source: str, facts: FileFacts) -> bool:
    """`tf.shape(x)[0]`."""
    if not (isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index)):
        return False
    call = node.value
    return (
        tf1.is_literal(node.slice[0].slice.value, 0)
        and facts.is_call_to(call, _TF_SHAPE)
        and len(call.args) == 1
        and call.args[0].keyword is None
        and facts.code(call.args[0].value) == source
    )


class SlimFlatten:
    """slim -> IR: `y = slim.flatten(x)`."""

    family = FAMILY
    dialect = "slim"
    markers = ("flatten",)

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        found = tf1.single_call(site, N.SLIM_FLATTEN)
        if found is None:
            return None
        output, call = found
        facts = site.file
        try:
            tf1.refuse_arg_scope(site)
            args = tf1.bind(call, tf1.SIGNATURES["tf_slim.flatten"])
            if set(args) - {"inputs"}:
                raise Unsupported(f"{', '.join(sorted(set(args) - {'inputs'}))}= is not expanded yet")
            inputs = args.get("inputs")
            if not isinstance(inputs, (cst.Name, cst.Attribute)):
                raise Unsupported("the input is an expression; expanding would evaluate it twice")
        except Unsupported as reason:
            return Refusal(FAMILY, facts.line_of(site.statement), f"slim.flatten not expanded: {reason}")
        return Recognized(FAMILY, 1, LayerCall(Flatten(), Code(facts.code(inputs)), output, None), releases=(N.TF_SLIM,))


class SlimFlattenEmitter:
    dialect = "slim"
    layer_types = (Flatten,)

    def emit(self, call: LayerCall, names: Names) -> list[cst.BaseStatement] | Refusal:
        if call.layer.size is not None:
            return [_reshape_to_size(call, names)]
        value = cst.Call(names.ref("tf_slim.flatten"), [cst.Arg(cst.parse_expression(call.inputs.text))])
        return [tf1.assign_or_return(call.output, value)]


class TfFlattenEmitter:
    dialect = "tf"
    layer_types = (Flatten,)

    def emit(self, call: LayerCall, names: Names) -> list[cst.BaseStatement] | Refusal:
        if call.layer.size is not None:
            return [_reshape_to_size(call, names)]
        tensor = call.inputs.text
        shape = cst.parse_expression(f"[-1, {tensor}.get_shape()[1:].num_elements()]")
        value = cst.Call(names.ref(N.TF_RESHAPE), tf1.commas([cst.Arg(cst.parse_expression(tensor)), cst.Arg(shape)]))
        return [tf1.assign_or_return(call.output, value)]


def _reshape_to_size(call: LayerCall, names: Names) -> cst.BaseStatement:
    """A flatten whose size the source states (not provably slim.flatten): said again as it was."""
    shape = cst.List([cst.Element(cst.parse_expression("-1")), cst.Element(tf1.expression(call.layer.size))])
    value = cst.Call(names.ref(N.TF_RESHAPE), tf1.commas([cst.Arg(cst.parse_expression(call.inputs.text)), cst.Arg(shape)]))
    return tf1.assign_or_return(call.output, value)


RECOGNIZERS = [FoldFlatten(), SlimFlatten()]
EMITTERS = [SlimFlattenEmitter(), TfFlattenEmitter()]
