"""Pools: `tf.nn.max_pool` / `tf.nn.avg_pool` <-> `slim.max_pool2d` / `slim.avg_pool2d`.

Before (tf):
    pool1 = tf.nn.max_pool(conv1, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding='SAME', name='pool1')

After (slim):
    pool1 = slim.max_pool2d(conv1, [3, 3], padding='SAME', scope='pool1')

slim's defaults are stride 2 and padding VALID, so a stride of 2 is left out and any other
stride or SAME padding is written; `name=` becomes `scope=` (pools have no variables; only the
op's name changes, from `pool1` to `pool1/MaxPool`). `tf.nn.max_pool2d` / `avg_pool2d` too.

`ksize` / `strides` may be an int or a list of 1, 2 or 4 ints, as TF 2's pools read them
(`ksize=2`, `[2]`, `[2, 3]` and `[1, 2, 3, 1]` all work; `[2, 3]` is height 2, width 3).

Refuses when: `ksize` / `strides` are not literal ints or lists of 1, 2 or 4 ints, have an entry
below 1, or (4 entries) pool over the batch or channel axis (sizes that are the enclosing
function's parameters, as in a `maxpool2d(x, k)` helper, are no candidate here: helper_functions
folds the helper's call sites); padding is not a literal 'SAME' / 'VALID' (tf.nn's pools reject
'same' when the graph is built: such code never ran); `data_format` is not NHWC; the op's name is
looked up elsewhere in the file.

Reverse (slim -> tf): `slim.max_pool2d(x, k, stride=s, padding=p, scope='n')` becomes
`tf.nn.max_pool(x, ksize=[1, k, k, 1], strides=[1, s, s, 1], padding=p, name='n')`, p spelled
'SAME' / 'VALID' (slim takes any letter case, tf.nn only upper case). Refuses
`outputs_collections=`, a non-NHWC `data_format`, sizes only known at run time, and
`slim.arg_scope` in the file (it may change the defaults).
"""

from __future__ import annotations

import libcst as cst

from slimify import names as N
from slimify import tf1
from slimify.dataflow import names_read
from slimify.ir import Code, LayerCall, Pool2D
from slimify.rewrite import Names, Recognized, Refusal, Site
from slimify.tf1 import Unsupported

FAMILY = "pool"

_TF_OPS = {**dict.fromkeys(N.TF_MAX_POOL, "max"), **dict.fromkeys(N.TF_AVG_POOL, "avg")}
_SLIM_OPS = {**dict.fromkeys(N.SLIM_MAX_POOL2D, "max"), **dict.fromkeys(N.SLIM_AVG_POOL2D, "avg")}
_TF_SPELLING = {"max": "tensorflow.nn.max_pool", "avg": "tensorflow.nn.avg_pool"}
_SLIM_SPELLING = {"max": "tf_slim.max_pool2d", "avg": "tf_slim.avg_pool2d"}


class FoldPool:
    """tf -> IR: `y = tf.nn.max_pool(x, ksize=[1, k, k, 1], strides=[1, s, s, 1], padding=...)`."""

    family = FAMILY
    dialect = "tf"
    markers = ("max_pool", "avg_pool")

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        found = tf1.single_call(site, tuple(_TF_OPS))
        if found is None:
            return None
        output, call = found
        facts = site.file
        qualified = facts.qname(call.func)
        if _sizes_are_parameters(call, site):
            return None  # a helper such as `maxpool2d(x, k)`: its call sites decide (helper_functions)
        try:
            layer_call = self._read(call, qualified, output, site)
        except Unsupported as reason:
            return Refusal(FAMILY, facts.line_of(site.statement), f"{_TF_OPS[qualified]} pool not folded: {reason}")
        return Recognized(FAMILY, 1, layer_call, releases=(N.TENSORFLOW,))

    @staticmethod
    def _read(call: cst.Call, qualified: str, output: Code | None, site: Site) -> LayerCall:
        facts = site.file
        args = tf1.bind(call, tf1.SIGNATURES[qualified])
        inputs = args.get("value", args.get("input"))
        if inputs is None or ("value" in args and "input" in args):
            raise Unsupported("the input tensor is not given once")
        unknown = set(args) - {"value", "input", "ksize", "strides", "padding", "data_format", "name"}
        if unknown:
            raise Unsupported(f"{', '.join(sorted(unknown))}= is not carried")
        if "data_format" in args and not tf1.is_literal(args["data_format"], "NHWC"):
            raise Unsupported("data_format other than NHWC is not carried")
        pool_size = _spatial(args.get("ksize"), "ksize")
        strides = _spatial(args.get("strides"), "strides")
        op = qualified.replace("tensorflow.", "tf.")
        if qualified in _ANY_RANK and _rank_left_open(args.get("ksize")) and not tf1.evidently_tf1(call.func, facts):
            raise Unsupported(
                f"{op} with a ksize of one entry pools over any number of dimensions in "
                "TensorFlow 2 (slim's pool takes 4-D input only) and nothing shows this call is TF1's; write ksize=[1, k, k, 1] "
                "or use tf.nn.max_pool2d / avg_pool2d"
            )
        padding = tf1.read_tf_padding(args.get("padding"), op)
        scope = tf1.op_name_as_scope(args.get("name"), facts)
        layer = Pool2D(kind=_TF_OPS[qualified], pool_size=pool_size, strides=strides, padding=padding)
        return LayerCall(layer=layer, inputs=Code(facts.code(inputs)), output=output, scope=scope)


def _sizes_are_parameters(call: cst.Call, site: Site) -> bool:
    function = site.function
    if function is None:
        return False
    parameters = {p.name.value for p in (*function.params.posonly_params, *function.params.params, *function.params.kwonly_params)}
    sizes = [a.value for a in call.args if a.keyword is None or a.keyword.value in ("ksize", "strides", "padding")][1:]
    return any(names_read(size) & parameters for size in sizes)


# TF 2's tf.nn.max_pool / avg_pool pool an input of any rank (1-D, 2-D, 3-D); TF 1's (and
# compat.v1's) are 2-D only, as are the *_pool2d ops. A ksize of 2 or 4 entries fits a 4-D input
# only, so it pins the rank; an int or one entry does not.
_ANY_RANK = ("tensorflow.nn.max_pool", "tensorflow.nn.avg_pool")


def _rank_left_open(ksize: cst.BaseExpression | None) -> bool:
    values = tf1.literal(ksize, "ksize")
    return isinstance(values, int) or len(values) == 1


def _spatial(node: cst.BaseExpression | None, what: str) -> tuple[int, int]:
    """A pool's ksize / strides as slim's (height, width); a 4-entry size must be 1 over batch and channel."""
    batch, height, width, channel = tf1.read_nhwc_sizes(node, what, "the pools")
    if batch != 1 or channel != 1:
        raise Unsupported(f"{what} pools over the batch or channel axis")
    return (height, width)


class SlimPool:
    """slim -> IR: `y = slim.max_pool2d(x, [kh, kw], stride=..., padding=..., scope=...)`."""

    family = FAMILY
    dialect = "slim"
    markers = ("max_pool2d", "avg_pool2d")

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        found = tf1.single_call(site, tuple(_SLIM_OPS))
        if found is None:
            return None
        output, call = found
        facts = site.file
        qualified = facts.qname(call.func)
        try:
            tf1.refuse_arg_scope(site)
            layer_call = self._read(call, qualified, output, facts)
        except Unsupported as reason:
            return Refusal(FAMILY, facts.line_of(site.statement), f"slim.{_SLIM_OPS[qualified]}_pool2d not expanded: {reason}")
        return Recognized(FAMILY, 1, layer_call, releases=(N.TF_SLIM,))

    @staticmethod
    def _read(call: cst.Call, qualified: str, output: Code | None, facts) -> LayerCall:
        args = tf1.bind(call, tf1.SIGNATURES[qualified])
        if "outputs_collections" in args:
            raise Unsupported("outputs_collections= is not expanded yet")
        if "data_format" in args and not (tf1.is_literal(args["data_format"], "NHWC") or tf1.is_literal(args["data_format"], None)):
            raise Unsupported("data_format other than NHWC is not carried")
        pool_size = _pair(args.get("kernel_size"), "kernel_size")
        strides = _pair(args["stride"], "stride") if "stride" in args else (2, 2)
        padding = tf1.read_slim_padding(args.get("padding"), "VALID")
        scope = None
        if "scope" in args:
            scope = tf1.literal(args["scope"], "the scope name")
            if not isinstance(scope, str):
                raise Unsupported("the scope name is only known at run time")
        layer = Pool2D(kind=_SLIM_OPS[qualified], pool_size=pool_size, strides=strides, padding=padding)
        return LayerCall(layer=layer, inputs=Code(facts.code(args["inputs"])), output=output, scope=scope)


def _pair(node: cst.BaseExpression | None, what: str) -> tuple[int, int]:
    values = tf1.literal(node, what)
    if isinstance(values, int) and not isinstance(values, bool):
        return (values, values)
    if isinstance(values, list) and len(values) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return (values[0], values[1])
    raise Unsupported(f"{what} is not an int or a literal pair of ints")


class SlimPoolEmitter:
    """IR -> `y = slim.max_pool2d(x, [kh, kw], stride=s, padding=p, scope=n)`, slim's defaults left out."""

    dialect = "slim"
    layer_types = (Pool2D,)

    def emit(self, call: LayerCall, names: Names) -> list[cst.BaseStatement] | Refusal:
        layer: Pool2D = call.layer
        if not all(isinstance(v, int) for v in (*layer.pool_size, *layer.strides)):
            return Refusal(FAMILY, 0, "pool sizes only known at run time")
        args = [cst.Arg(cst.parse_expression(call.inputs.text)), cst.Arg(tf1.int_list(layer.pool_size))]
        if layer.strides != (2, 2):
            stride = layer.strides[0] if layer.strides[0] == layer.strides[1] else list(layer.strides)
            args.append(tf1.keyword("stride", tf1.expression(stride) if isinstance(stride, int) else tf1.int_list(stride)))
        if layer.padding != "VALID":
            args.append(tf1.keyword("padding", tf1.string(layer.padding)))
        if call.scope is not None:
            args.append(tf1.keyword("scope", tf1.string(call.scope)))
        value = cst.Call(func=names.ref(_SLIM_SPELLING[layer.kind]), args=tf1.commas(args))
        return [tf1.assign_or_return(call.output, value)]


class TfPoolEmitter:
    """IR -> `y = tf.nn.max_pool(x, ksize=[1, kh, kw, 1], strides=[1, sh, sw, 1], padding=p)`."""

    dialect = "tf"
    layer_types = (Pool2D,)

    def emit(self, call: LayerCall, names: Names) -> list[cst.BaseStatement] | Refusal:
        layer: Pool2D = call.layer
        if not all(isinstance(v, int) for v in (*layer.pool_size, *layer.strides)):
            return Refusal(FAMILY, 0, "pool sizes only known at run time")
        args = [
            cst.Arg(cst.parse_expression(call.inputs.text)),
            tf1.keyword("ksize", tf1.int_list([1, *layer.pool_size, 1])),
            tf1.keyword("strides", tf1.int_list([1, *layer.strides, 1])),
            tf1.keyword("padding", tf1.string(layer.padding)),
        ]
        if call.scope is not None:
            args.append(tf1.keyword("name", tf1.string(call.scope)))
        value = cst.Call(func=names.ref(_TF_SPELLING[layer.kind]), args=tf1.commas(args))
        return [tf1.assign_or_return(call.output, value)]


RECOGNIZERS = [FoldPool(), SlimPool()]
EMITTERS = [SlimPoolEmitter(), TfPoolEmitter()]
