"""Dense blocks: a hand-written TF1 fully connected layer <-> one `slim.fully_connected` call.

Before (tf):
    with tf.name_scope('fc1'):
        weights = tf.Variable(tf.truncated_normal([256, 64], stddev=0.1), name='weights')
        biases = tf.Variable(tf.constant(0.1, shape=[64]), name='biases')
        fc1 = tf.nn.relu(tf.matmul(x, weights) + biases)

After (slim):
    fc1 = slim.fully_connected(x, 64, scope='fc1', weights_initializer=tf.truncated_normal_initializer(stddev=0.1),
                               biases_initializer=tf.constant_initializer(0.1))

Also folds: bias by `+`, `tf.add`, `tf.nn.bias_add`, `tf.nn.xw_plus_b(x, W, b)`, or no bias;
`tf.nn.relu_layer(x, W, b)`; relu / relu6 / elu / tanh / sigmoid / softmax / leaky_relu (default
alpha only, as in conv_block) or none (logits: `activation_fn=None`); `x @ W`; `tf.Variable` under
`tf.name_scope` or `tf.variable_scope`, and `tf.get_variable('weights', shape, initializer=...)`
under `tf.variable_scope` (its default initializer, glorot uniform, is written out for the biases;
an initializer class passed uncalled, as in conv_block, is its call without arguments). Weight
decay folds into `weights_regularizer=` as in conv_block (same readers, same refusals). Variables
keep their names (`fc1/weights`, `fc1/biases`).

Refuses when (the same rules as conv_block): variables not named `weights` / `biases`; a weight,
bias or intermediate tensor read after the block or used twice; the block does anything else;
`transpose_*`/`adjoint_*`/sparse matmul options; the scope name only known at run time;
non-float32 variables; weight decay conv_block refuses; `reuse=` / AUTO_REUSE anywhere in the
file; the block in a loop, in a nested `tf.name_scope`, or in a function called more than once
(callers in the file followed: a call in a loop or under `tf.name_scope`); inside a
`tf.variable_scope` entered twice; a scope name ending in '/'; `slim.arg_scope` in the file; an op
name under the scope looked up elsewhere.

Reverse (slim -> tf): `slim.fully_connected(x, n, scope='s', ...)` expands into `tf.name_scope`
+ `weights` / `biases` variables + `tf.matmul` / `tf.nn.bias_add` / activation, with slim's
default initializers written out and `weights_regularizer=slim.l2_regularizer(s)` as an explicit
`tf.add_to_collection(REGULARIZATION_LOSSES, ...)`. slim contracts the last axis of a rank > 2
input with `tensordot`; `tf.matmul` equals it for rank 2 only, so the feature count is read as
`int(x.get_shape().with_rank(2)[-1])`, which fails at graph construction for any other rank, and
an input the code shows to be of another rank (a conv or pool output without a flatten) is
refused. Refuses what the expansion cannot carry: normalizer_fn, l1 or run-time-scaled
regularizers, reuse (as an argument or anywhere in the file), collections, a missing `scope=`,
arg_scope, and placements where the tf.Variables would be named differently (as conv_block).
"""

from __future__ import annotations

import libcst as cst

from slimify import names as N
from slimify import tf1
from slimify.ir import Code, Dense, Initializer, LayerCall
from slimify.rewrite import Names, Recognized, Refusal, Site
from slimify.tf1 import Unsupported

FAMILY = "dense_block"

_MATMUL_OPTIONS = ("transpose_a", "transpose_b", "adjoint_a", "adjoint_b", "a_is_sparse", "b_is_sparse")


class FoldDenseBlock:
    """tf -> IR: a scoped block computing `act(x @ weights + biases)`."""

    family = FAMILY
    dialect = "tf"
    markers = ("matmul", "xw_plus_b", "relu_layer")

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        statement = site.statement
        facts = site.file
        if tf1.scope_of(statement, facts) is None:
            return None
        if tf1.block_calls(statement, facts, N.TF_CONV2D):
            return None  # a conv block's business
        if not (tf1.block_calls(statement, facts, *N.TF_MATMUL, N.TF_XW_PLUS_B, N.TF_RELU_LAYER) or _has_matmul_operator(statement)):
            return None
        try:
            layer_call = tf1.read_scoped_layer(statement, site, self._match_layer)
        except Unsupported as reason:
            return Refusal(FAMILY, facts.line_of(statement), f"dense block not folded: {reason}")
        return Recognized(FAMILY, 1, layer_call, releases=(N.TENSORFLOW,))

    def _match_layer(self, block: tf1.ScopedBlock, expression) -> tuple[Dense, cst.BaseExpression]:
        facts = block.facts
        activation = None
        qualified = facts.qname(expression.func) if isinstance(expression, cst.Call) else None
        if qualified in N.TF_ACTIVATIONS:
            activation = N.TF_ACTIVATIONS[qualified]
            expression = block.check_activation_args(expression)
            qualified = facts.qname(expression.func) if isinstance(expression, cst.Call) else None

        if qualified in (N.TF_XW_PLUS_B, N.TF_RELU_LAYER):
            if qualified == N.TF_RELU_LAYER:
                if activation is not None:
                    raise Unsupported("an activation applied to relu_layer's output")
                activation = "relu"
            args = tf1.bind(expression, tf1.SIGNATURES[qualified])
            if "name" in args:
                raise Unsupported(f"{facts.code(expression.func)}(name=...) names an op slim would not keep")
            inputs = args.get("x")
            weights, bias = block.variable(block.resolve(args.get("weights"))), block.variable(block.resolve(args.get("biases")))
            if weights is None or bias is None:
                raise Unsupported(f"{facts.code(expression.func)}'s weights and biases are not variables created in the block")
        else:
            expression, bias = tf1.read_bias(block, expression)
            inputs, weights = self._read_matmul(block, expression)

        extra = set(block.variables) - {weights} - ({bias} if bias else set())
        if extra:
            raise Unsupported(f"variable {', '.join(sorted(extra))} is not part of the layer")
        weights_init, shape, weights_trainable = block.read_variable(weights, "weights", 2)
        bias_init = None
        if bias is not None:
            bias_init, bias_shape, bias_trainable = block.read_variable(bias, "biases", 1)
            if facts.code(bias_shape[0]) != facts.code(shape[1]):
                raise Unsupported("the bias shape does not match the number of units")
            if bias_trainable != weights_trainable:
                raise Unsupported("weights and biases differ in trainable=")
        layer = Dense(
            units=tf1.value(shape[1], facts),
            activation=activation,
            use_bias=bias is not None,
            in_features=tf1.value(shape[0], facts),
            weights_initializer=weights_init,
            bias_initializer=bias_init,
            weights_regularizer=block.layer_regularizer(weights, bias),
            trainable=weights_trainable,
        )
        return layer, inputs

    @staticmethod
    def _read_matmul(block: tf1.ScopedBlock, expression) -> tuple[cst.BaseExpression, str]:
        facts = block.facts
        if isinstance(expression, cst.BinaryOperation) and isinstance(expression.operator, cst.MatrixMultiply):
            inputs, kernel = expression.left, expression.right
        elif isinstance(expression, cst.Call) and facts.qname(expression.func) in N.TF_MATMUL:
            args = tf1.bind(expression, tf1.SIGNATURES[facts.qname(expression.func)])
            for option in _MATMUL_OPTIONS:
                if option in args and not tf1.is_literal(args[option], False):
                    raise Unsupported(f"tf.matmul({option}=...) is not what slim.fully_connected computes")
            unknown = set(args) - {"a", "b", "name", *_MATMUL_OPTIONS}
            if unknown:
                raise Unsupported(f"tf.matmul({', '.join(sorted(unknown))}=...) is not carried")
            inputs, kernel = args.get("a"), args.get("b")
        else:
            raise Unsupported(f"{facts.code(expression)} is not matmul -> bias -> activation")
        weights = block.require_variable(kernel, "the matmul's weights (its second argument)")
        return block.resolve(inputs), weights


# What a producer does to its input's rank: keeps it, or yields a known rank.
_RANK_4_PRODUCERS = (*N.SLIM_CONV2D, *N.SLIM_MAX_POOL2D, *N.SLIM_AVG_POOL2D, N.TF_CONV2D, *N.TF_MAX_POOL, *N.TF_AVG_POOL)
_RANK_KEEPING = (*N.SLIM_FULLY_CONNECTED, *N.SLIM_DROPOUT, N.TF_DROPOUT, *N.TF_ACTIVATIONS)


def _refuse_known_rank_other_than_2(inputs: cst.BaseExpression, site: Site) -> None:
    """slim.fully_connected contracts the last axis of a rank > 2 input with tensordot; the
    expansion's tf.matmul would broadcast a batched matmul instead (other rounding). A rank
    read from the code that is not 2 refuses here; an unknown one is checked by the expansion
    itself (`x.get_shape().with_rank(2)` fails at graph construction)."""
    rank, producer = _rank_of(inputs, site.body[: site.index], site.file)
    if rank is not None and rank != 2:
        raise Unsupported(
            f"the input {site.file.code(inputs)} has rank {rank} ({producer}); slim.fully_connected contracts its last axis "
            "with tensordot, tf.matmul would not compute the same: flatten it first"
        )


def _rank_of(tensor: cst.BaseExpression, before: list, facts, depth: int = 0) -> tuple[int | None, str]:
    """The static rank of `tensor` from the statements before its use, when they say it."""
    if not isinstance(tensor, cst.Name) or depth > 20:
        return None, ""
    for position in range(len(before) - 1, -1, -1):
        statement = before[position]
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 else None
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and tf1.code_is_name(small.targets[0].target, tensor.value):
            value = small.value
            if not isinstance(value, cst.Call):
                return None, ""
            qualified = facts.qname(value.func)
            where = f"line {facts.line_of(statement)}: {facts.code(value.func)}"
            if qualified in _RANK_4_PRODUCERS:
                return 4, where
            if qualified in N.SLIM_FLATTEN:
                return 2, where
            if qualified == N.TF_RESHAPE:
                shape = tf1.bind(value, tf1.SIGNATURES[N.TF_RESHAPE]).get("shape")
                return (len(shape.elements), where) if isinstance(shape, (cst.List, cst.Tuple)) else (None, "")
            if qualified in _RANK_KEEPING and value.args and value.args[0].keyword is None:
                return _rank_of(value.args[0].value, before[:position], facts, depth + 1)
            return None, ""
        if tf1.assigns_name(statement, tensor.value):
            return None, ""  # bound in a compound statement or by unpacking: not followed
    return None, ""


def _has_matmul_operator(statement: cst.With) -> bool:
    found = []

    class _Find(cst.CSTVisitor):
        def visit_MatrixMultiply(self, node: cst.MatrixMultiply) -> None:
            found.append(node)

    statement.body.visit(_Find())
    return bool(found)


class SlimFullyConnected:
    """slim -> IR: `x = slim.fully_connected(...)` or `return slim.fully_connected(...)`."""

    family = FAMILY
    dialect = "slim"
    markers = ("fully_connected",)

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        found = tf1.single_call(site, N.SLIM_FULLY_CONNECTED)
        if found is None:
            return None
        output, call = found
        facts = site.file
        try:
            tf1.refuse_arg_scope(site)
            tf1.refuse_variable_reuse(site)  # tf.Variable would not reuse what slim's get_variable shares
            args = tf1.bind(call, tf1.SIGNATURES["tf_slim.fully_connected"])
            common = tf1.read_slim_layer_args(args, facts)
            tf1.check_slim_placement(site, common.scope, args["scope"])
            inputs = args.get("inputs")
            if not isinstance(inputs, (cst.Name, cst.Attribute, cst.Subscript)):
                raise Unsupported("the input is an expression; expanding would evaluate it twice")
            _refuse_known_rank_other_than_2(inputs, site)
        except Unsupported as reason:
            return Refusal(FAMILY, facts.line_of(site.statement), f"slim.fully_connected not expanded: {reason}")
        layer = Dense(
            units=tf1.value(args["num_outputs"], facts),
            activation=common.activation,
            use_bias=common.use_bias,
            weights_initializer=common.weights_initializer,
            bias_initializer=common.bias_initializer,
            weights_regularizer=common.weights_regularizer,
            trainable=common.trainable,
        )
        return Recognized(FAMILY, 1, LayerCall(layer, Code(facts.code(inputs)), output, common.scope), releases=(N.TF_SLIM,))


class SlimDenseEmitter:
    """IR -> `out = slim.fully_connected(x, units, scope=..., ...)`."""

    dialect = "slim"
    layer_types = (Dense,)

    def emit(self, call: LayerCall, names: Names) -> list[cst.BaseStatement] | Refusal:
        layer: Dense = call.layer
        if call.scope is None:
            return Refusal(FAMILY, 0, "a dense layer without a scope cannot keep its variable names")
        args = [
            cst.Arg(cst.parse_expression(call.inputs.text)),
            cst.Arg(tf1.expression(layer.units)),
            tf1.keyword("scope", tf1.string(call.scope)),
            *tf1.slim_layer_keywords(layer, names),
        ]
        value = cst.Call(func=names.ref("tf_slim.fully_connected"), args=tf1.commas(args))
        return [tf1.assign_or_return(call.output, value)]


class TfDenseEmitter:
    """IR -> `with tf.name_scope(...)`: two tf.Variables, matmul, bias_add, activation."""

    dialect = "tf"
    layer_types = (Dense,)

    def emit(self, call: LayerCall, names: Names) -> list[cst.BaseStatement] | Refusal:
        layer: Dense = call.layer
        if call.scope is None:
            return Refusal(FAMILY, 0, "a dense layer without a scope cannot keep its variable names")
        weights, biases = names.fresh("weights"), names.fresh("biases")
        # with_rank(2): tf.matmul equals slim's layer for rank-2 inputs only; anything else fails here.
        in_features = (
            tf1.expression(layer.in_features)
            if layer.in_features is not None
            else cst.parse_expression(f"int({call.inputs.text}.get_shape().with_rank(2)[-1])")
        )
        shape = cst.List([cst.Element(in_features), cst.Element(tf1.expression(layer.units))])
        weights_init = layer.weights_initializer or Initializer("glorot_uniform")
        body = [tf1.emit_variable(weights, "weights", weights_init, shape, layer.trainable, names)]
        if layer.weights_regularizer is not None:
            body.append(tf1.emit_weight_decay(layer.weights_regularizer, weights, names))
        tensor: cst.BaseExpression = cst.Call(
            names.ref("tensorflow.matmul"), tf1.commas([cst.Arg(cst.parse_expression(call.inputs.text)), cst.Arg(cst.Name(weights))])
        )
        if layer.use_bias:
            bias_shape = cst.List([cst.Element(tf1.expression(layer.units))])
            bias_init = layer.bias_initializer or Initializer("zeros")
            body.append(tf1.emit_variable(biases, "biases", bias_init, bias_shape, layer.trainable, names))
            tensor = cst.Call(names.ref("tensorflow.nn.bias_add"), tf1.commas([cst.Arg(tensor), cst.Arg(cst.Name(biases))]))
        if layer.activation is not None:
            tensor = cst.Call(names.ref(tf1.ACTIVATION_FUNCTIONS[layer.activation]), [cst.Arg(tensor)])
        body.append(tf1.assign_or_return(call.output, tensor))
        scope = cst.Call(names.ref("tensorflow.name_scope"), [cst.Arg(tf1.string(call.scope))])
        return [cst.With(items=[cst.WithItem(scope)], body=cst.IndentedBlock(body=body))]


RECOGNIZERS = [FoldDenseBlock(), SlimFullyConnected()]
EMITTERS = [SlimDenseEmitter(), TfDenseEmitter()]
