"""Conv blocks: a hand-written TF1 convolution layer <-> one `slim.conv2d` call.

Before (tf):
    with tf.name_scope('conv1_1') as scope:
        kernel = tf.Variable(tf.truncated_normal([3, 3, 64, 128], dtype=tf.float32, stddev=1e-1), name='weights')
        conv = tf.nn.conv2d(input, kernel, [1, 1, 1, 1], padding='SAME')
        biases = tf.Variable(tf.constant(0.0, shape=[128], dtype=tf.float32), trainable=True, name='biases')
        bias = tf.nn.bias_add(conv, biases)
        conv1 = tf.nn.relu(bias, name=scope)

After (slim):
    conv1 = slim.conv2d(input, 128, [3, 3], scope='conv1_1', weights_initializer=tf.truncated_normal_initializer(stddev=1e-1))

Also folds: bias by `bias_add`, `+` or `tf.add`, or no bias; relu / relu6 / elu / tanh / sigmoid /
softmax / leaky_relu (its default alpha, 0.2, written or not) or no activation; SAME / VALID;
strides as TF 2's conv2d reads them (an int or a list of 1, 2 or 4 ints: `1`, `[2]`, `[2, 1]` and
`[1, 2, 1, 1]` all work; `[2, 1]` is height 2, width 1); non-square kernels; the ops written on
one line or over several (temporaries may be rebound: `x = conv2d(x, ...); x = relu(x)`);
positional or keyword arguments; `tf.get_variable('weights', shape, initializer=...)` under
`tf.variable_scope('s')` (the CIFAR-10 form; get_variable's default initializer, glorot uniform,
is written out; a TF initializer class passed uncalled, `initializer=tf.zeros_initializer`, is
its call without arguments: get_variable instantiates it). Weight decay on the weights becomes `weights_regularizer=slim.l2_regularizer(s)`
(slim puts `s * tf.nn.l2_loss(weights)` in tf.GraphKeys.REGULARIZATION_LOSSES): from
`tf.get_variable(regularizer=slim/tf.contrib.layers l2_regularizer(s) | l1_regularizer(s) | tf.nn.l2_loss)`,
from `tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, tf.multiply(tf.nn.l2_loss(w), s))` in
the block, or from a CIFAR-10 style factory (`_variable_with_weight_decay(name, shape, stddev, wd)`
defined in the file: one variable, an optional `if wd is not None:` decay, `return var`) whose
decay goes to that collection. The variables keep their names (`conv1_1/weights`,
`conv1_1/biases`), so existing checkpoints still load.

Refuses when: the variables are not named `weights` / `biases`; a weight, bias or intermediate
tensor is read after the block or used twice; the block does anything else; the scope name,
strides or padding are only known at run time; padding other than 'SAME' / 'VALID' (tf.nn.conv2d
rejects 'same' when the graph is built: such code never ran); `tf.nn.leaky_relu(alpha=...)` with
an alpha other than 0.2 (slim's `activation_fn=tf.nn.leaky_relu` computes 0.2; a functools.partial
would not be expanded back); strides that are not an int or a list of 1, 2 or 4 ints, have an
entry below 1 (tf.nn.conv2d raises on both when the graph is built) or (4 entries) step over the
batch or channel axis (it fails at run time); `data_format` other than NHWC; `dilations` other
than 1 (in any of the strides' forms);
a variable is not float32 or has options slim does not carry; weight decay collected anywhere but
REGULARIZATION_LOSSES (CIFAR-10's 'losses': the program would no longer see it), a decay factor
of 0.0 or only known at run time (slim adds no loss for 0.0), a Keras regularizer (no halving:
not proven identical), a regularizer on the biases, a factory that creates its variable through
another function (CIFAR-10's `_variable_on_cpu`) or does anything else; `tf.get_variable` under
`tf.name_scope`; `reuse=` / AUTO_REUSE / `reuse_variables()` anywhere in the file; the block
runs in a loop, inside another
`tf.name_scope`, or in a function called more than once (name_scope would make the names
unique, slim's scope would collide), followed through the callers in the file (a call in a
loop or under `tf.name_scope`, a caller called twice); inside a `tf.variable_scope` entered
again elsewhere (tf.Variable gets the name scope `net_1`, slim the variable scope `net`); a
scope name ending in '/'; the file uses `slim.arg_scope` (it would change the
folded call's defaults); another string in the file names an op under the block's scope.

Reverse (slim -> tf): `slim.conv2d(x, n, [kh, kw], scope='s', ...)` expands into `tf.name_scope`
+ two `tf.Variable`s named `weights` / `biases` + `tf.nn.conv2d` / `bias_add` / activation,
with slim's default initializers written out (glorot uniform, zeros), an initializer class given
uncalled read as its call (slim creates variables through get_variable), and slim's padding, which
it takes in any letter case ('same'), spelled as tf.nn needs it ('SAME');
`weights_regularizer=slim.l2_regularizer(s)` with a literal s > 0 becomes
`tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, tf.multiply(s, tf.nn.l2_loss(weights)))`
in the block. Refuses what the expansion cannot carry: normalizer_fn, l1 or run-time-scaled
regularizers, biases_regularizer, reuse (as an argument or anywhere in the file: the
expansion's tf.Variable would not share what slim's get_variable shares), collections, rate,
data_format, a missing `scope=`, arg_scope in the file, and placements where the expansion's
tf.Variables would be named differently from slim's variables: under `tf.name_scope` (here or at
a call of the function), in a `tf.variable_scope` entered twice, a scope name another `name=` /
scope in the file also uses, a scope name ending in '/'.
"""

from __future__ import annotations

import libcst as cst

from slimify import names as N
from slimify import tf1
from slimify.ir import Code, Conv2D, Initializer, LayerCall
from slimify.rewrite import Names, Recognized, Refusal, Site
from slimify.tf1 import Unsupported

FAMILY = "conv_block"


class FoldConvBlock:
    """tf -> IR: `with tf.name_scope(...)` / `with tf.variable_scope(...)` holding a variable-backed
    tf.nn.conv2d layer."""

    family = FAMILY
    dialect = "tf"
    markers = ("conv2d",)

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        statement = site.statement
        if tf1.scope_of(statement, site.file) is None or not tf1.block_calls(statement, site.file, N.TF_CONV2D):
            return None
        try:
            layer_call = tf1.read_scoped_layer(statement, site, self._match_layer)
        except Unsupported as reason:
            return Refusal(FAMILY, site.file.line_of(statement), f"conv block not folded: {reason}")
        return Recognized(FAMILY, 1, layer_call, releases=(N.TENSORFLOW,))

    def _match_layer(self, block: tf1.ScopedBlock, expression) -> tuple[Conv2D, cst.BaseExpression]:
        facts = block.facts
        activation = None
        if isinstance(expression, cst.Call) and facts.qname(expression.func) in N.TF_ACTIVATIONS:
            activation = N.TF_ACTIVATIONS[facts.qname(expression.func)]
            expression = block.check_activation_args(expression)

        bias_var = None
        if isinstance(expression, cst.Call) and facts.qname(expression.func) in (N.TF_BIAS_ADD, N.TF_ADD):
            signature = tf1.SIGNATURES[facts.qname(expression.func)]
            args = tf1.bind(expression, signature)
            first, second = args.get(signature[0]), args.get(signature[1])
            data_format = args.get("data_format")
            if data_format is not None and not tf1.is_literal(data_format, "NHWC"):
                raise Unsupported("bias_add with data_format other than NHWC")
            expression, bias_var = split_bias(block.resolve(first), block.resolve(second), block)
        elif isinstance(expression, cst.BinaryOperation) and isinstance(expression.operator, cst.Add):
            expression, bias_var = split_bias(block.resolve(expression.left), block.resolve(expression.right), block)
        expression = block.resolve(expression)

        if not facts.is_call_to(expression, N.TF_CONV2D):
            raise Unsupported(f"{facts.code(expression)} is not conv2d -> bias -> activation")
        conv = tf1.bind(expression, tf1.SIGNATURES[N.TF_CONV2D])
        kernel = block.require_variable(conv.get("filter", conv.get("filters")), "the convolution's filter")
        unknown = set(conv) - {"input", "filter", "filters", "strides", "padding", "use_cudnn_on_gpu", "data_format", "dilations", "name"}
        if unknown:
            raise Unsupported(f"tf.nn.conv2d({', '.join(sorted(unknown))}=...) is not carried")
        if "data_format" in conv and not tf1.is_literal(conv["data_format"], "NHWC"):
            raise Unsupported("data_format other than NHWC is not carried")
        if "dilations" in conv and tf1.read_nhwc_sizes(conv["dilations"], "dilations", "the convolutions") != [1, 1, 1, 1]:
            raise Unsupported("dilated convolutions are not folded")
        strides = tf1.read_nhwc_sizes(conv.get("strides"), "strides", "the convolutions")
        if strides[0] != 1 or strides[3] != 1:
            raise Unsupported(f"strides {strides} step over the batch or channel axis (tf.nn.conv2d fails on them at run time)")
        padding = tf1.read_tf_padding(conv.get("padding"), "tf.nn.conv2d")

        expected = {kernel} | ({bias_var} if bias_var else set())
        extra = set(block.variables) - expected
        if extra:
            raise Unsupported(f"variable {', '.join(sorted(extra))} is not part of the layer")
        weights_init, shape, weights_trainable = block.read_variable(kernel, "weights", 4)
        filters = shape[3]
        use_bias = bias_var is not None
        bias_init = None
        if use_bias:
            bias_init, bias_shape, bias_trainable = block.read_variable(bias_var, "biases", 1)
            if facts.code(bias_shape[0]) != facts.code(filters):
                raise Unsupported("the bias shape does not match the number of filters")
            if bias_trainable != weights_trainable:
                raise Unsupported("weights and biases differ in trainable=")
        layer = Conv2D(
            filters=tf1.value(filters, facts),
            kernel_size=(tf1.value(shape[0], facts), tf1.value(shape[1], facts)),
            strides=(strides[1], strides[2]),
            padding=padding,
            activation=activation,
            use_bias=use_bias,
            in_channels=tf1.value(shape[2], facts),
            weights_initializer=weights_init,
            bias_initializer=bias_init,
            weights_regularizer=block.layer_regularizer(kernel, bias_var),
            trainable=weights_trainable,
        )
        return layer, conv["input"]


def split_bias(first, second, block: tf1.ScopedBlock) -> tuple[cst.BaseExpression, str]:
    """`tensor + bias` in either order -> (tensor, the bias variable's local name)."""
    for tensor, bias in ((first, second), (second, first)):
        if block.variable(bias) is not None:
            return tensor, bias.value
    raise Unsupported("the bias added is not a variable created in the block")


class SlimConv:
    """slim -> IR: `x = slim.conv2d(...)` or `return slim.conv2d(...)`."""

    family = FAMILY
    dialect = "slim"
    markers = ("conv2d", "convolution2d")

    def recognize(self, site: Site) -> Recognized | Refusal | None:
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
        if not site.file.is_call_to(call, *N.SLIM_CONV2D):
            return None
        try:
            layer_call = self._read(call, output, site)
        except Unsupported as reason:
            return Refusal(FAMILY, site.file.line_of(statement), f"slim.conv2d not expanded: {reason}")
        return Recognized(FAMILY, 1, layer_call, releases=(N.TF_SLIM,))

    def _read(self, call: cst.Call, output: Code | None, site: Site) -> LayerCall:
        facts = site.file
        tf1.refuse_arg_scope(site)
        tf1.refuse_variable_reuse(site)  # tf.Variable would not reuse what slim's get_variable shares
        args = tf1.bind(call, tf1.SIGNATURES["tf_slim.conv2d"])
        common = tf1.read_slim_layer_args(args, facts)
        if "data_format" in args and not (tf1.is_literal(args["data_format"], "NHWC") or tf1.is_literal(args["data_format"], None)):
            raise Unsupported("data_format other than NHWC is not carried")
        if "rate" in args and not tf1.is_literal(args["rate"], 1):
            raise Unsupported("dilated convolutions (rate=) are not expanded yet")
        tf1.check_slim_placement(site, common.scope, args["scope"])
        kernel = args["kernel_size"]
        if isinstance(kernel, (cst.List, cst.Tuple)):
            kh, kw = tf1.elements(kernel, 2, "kernel_size")
            kernel_size = (tf1.value(kh, facts), tf1.value(kw, facts))
        else:
            size = tf1.value(kernel, facts)
            kernel_size = (size, size)
        stride = tf1.literal(args["stride"], "stride") if "stride" in args else 1
        if isinstance(stride, int) and not isinstance(stride, bool):
            strides = (stride, stride)
        elif isinstance(stride, list) and len(stride) == 2 and all(isinstance(s, int) for s in stride):
            strides = (stride[0], stride[1])
        else:
            raise Unsupported("stride is only known at run time")
        padding = tf1.read_slim_padding(args.get("padding"), "SAME")
        inputs = args["inputs"]
        if not isinstance(inputs, (cst.Name, cst.Attribute, cst.Subscript)):
            raise Unsupported("the input is an expression; expanding would evaluate it twice")
        layer = Conv2D(
            filters=tf1.value(args["num_outputs"], facts),
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            activation=common.activation,
            use_bias=common.use_bias,
            weights_initializer=common.weights_initializer,
            bias_initializer=common.bias_initializer,
            weights_regularizer=common.weights_regularizer,
            trainable=common.trainable,
        )
        return LayerCall(layer=layer, inputs=Code(facts.code(inputs)), output=output, scope=common.scope)


class SlimConvEmitter:
    """IR -> `out = slim.conv2d(x, filters, [kh, kw], scope=..., ...)`."""

    dialect = "slim"
    layer_types = (Conv2D,)

    def emit(self, call: LayerCall, names: Names) -> list[cst.BaseStatement]:
        layer: Conv2D = call.layer
        args = [
            cst.Arg(cst.parse_expression(call.inputs.text)),
            cst.Arg(tf1.expression(layer.filters)),
            cst.Arg(tf1.int_list(layer.kernel_size)),
            tf1.keyword("scope", tf1.string(call.scope)),
        ]
        if layer.strides != (1, 1):
            stride = layer.strides[0] if layer.strides[0] == layer.strides[1] else list(layer.strides)
            args.append(tf1.keyword("stride", tf1.expression(stride) if isinstance(stride, int) else tf1.int_list(stride)))
        if layer.padding != "SAME":
            args.append(tf1.keyword("padding", tf1.string(layer.padding)))
        args += tf1.slim_layer_keywords(layer, names)
        value = cst.Call(func=names.ref("tf_slim.conv2d"), args=tf1.commas(args))
        return [tf1.assign_or_return(call.output, value)]


class TfConvEmitter:
    """IR -> `with tf.name_scope(...)`: two tf.Variables, conv2d, bias_add, activation."""

    dialect = "tf"
    layer_types = (Conv2D,)

    def emit(self, call: LayerCall, names: Names) -> list[cst.BaseStatement] | Refusal:
        layer: Conv2D = call.layer
        weights, biases = names.fresh("weights"), names.fresh("biases")
        in_channels = (
            tf1.expression(layer.in_channels)
            if layer.in_channels is not None
            else cst.parse_expression(f"int({call.inputs.text}.get_shape()[-1])")
        )
        shape = cst.List([cst.Element(e) for e in (*map(tf1.expression, layer.kernel_size), in_channels, tf1.expression(layer.filters))])
        trainable = [] if layer.trainable else [tf1.keyword("trainable", cst.Name("False"))]
        body = [
            tf1.assign(weights, cst.Call(names.ref("tensorflow.Variable"), tf1.commas([
                cst.Arg(tf1.emit_initial_value(layer.weights_initializer or Initializer("glorot_uniform"), shape, names)),
                *trainable,
                tf1.keyword("name", tf1.string("weights")),
            ]))),
        ]  # fmt: skip
        if layer.weights_regularizer is not None:
            body.append(tf1.emit_weight_decay(layer.weights_regularizer, weights, names))
        tensor: cst.BaseExpression = cst.Call(
            names.ref("tensorflow.nn.conv2d"),
            tf1.commas([
                cst.Arg(cst.parse_expression(call.inputs.text)),
                cst.Arg(cst.Name(weights)),
                cst.Arg(tf1.int_list([1, *layer.strides, 1])),
                tf1.keyword("padding", tf1.string(layer.padding)),
            ]),
        )  # fmt: skip
        if layer.use_bias:
            bias_shape = cst.List([cst.Element(tf1.expression(layer.filters))])
            body.append(
                tf1.assign(biases, cst.Call(names.ref("tensorflow.Variable"), tf1.commas([
                    cst.Arg(tf1.emit_initial_value(layer.bias_initializer or Initializer("zeros"), bias_shape, names)),
                    *trainable,
                    tf1.keyword("name", tf1.string("biases")),
                ])))
            )  # fmt: skip
            tensor = cst.Call(names.ref("tensorflow.nn.bias_add"), tf1.commas([cst.Arg(tensor), cst.Arg(cst.Name(biases))]))
        if layer.activation is not None:
            tensor = cst.Call(names.ref(tf1.ACTIVATION_FUNCTIONS[layer.activation]), [cst.Arg(tensor)])
        body.append(tf1.assign_or_return(call.output, tensor))
        scope = cst.Call(names.ref("tensorflow.name_scope"), [cst.Arg(tf1.string(call.scope))])
        return [cst.With(items=[cst.WithItem(scope)], body=cst.IndentedBlock(body=body))]


RECOGNIZERS = [FoldConvBlock(), SlimConv()]
EMITTERS = [SlimConvEmitter(), TfConvEmitter()]
