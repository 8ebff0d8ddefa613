"""Dropout: `tf.nn.dropout(x, keep_prob)` <-> `slim.dropout(x, keep_prob=keep_prob)`.

Before (tf):
    fc1 = tf.nn.dropout(fc1, keep_prob)

After (slim):
    fc1 = slim.dropout(fc1, keep_prob=keep_prob)

Both keep each element with probability `keep_prob` and scale kept ones by `1 / keep_prob`
(slim passes `rate = 1 - keep_prob` to the same op); slim's `is_training` defaults to True, so
dropout stays on exactly as in the source. `keep_prob` is carried as written (a placeholder, a
name or a literal); `name=` becomes `scope=` (no variables, only op names change). Dropout is
random: the fixtures prove identity with keep_prob fed as 1.0, and tests/test_fold_dropout.py
checks the same mask structure (zeros and x / keep_prob) for keep_prob < 1.

Refuses when: TensorFlow is imported as `tensorflow.compat.v2` (its `tf.nn.dropout(x, 0.2)`
means rate=0.2); keep_prob is passed by position under a plain `import tensorflow` and the file
calls no TF1-only function through plain `tensorflow` (`tf.placeholder`, `tf.Session`,
`tf.get_variable`, ...: in TF2 that argument is the rate; calls through `tf.compat.v1` beside a
plain `import tensorflow` show TF 2 code, not TF 1); `rate=` is given instead of keep_prob (slim would compute 1 - (1 - rate), not
always the same float); `noise_shape=` or `seed=` (not carried by the IR yet); the op's name is
looked up elsewhere in the file.

Reverse (slim -> tf): `slim.dropout(x, keep_prob=p)` (slim's default keep_prob is 0.5) becomes
`tf.nn.dropout(x, keep_prob=p)`. Refuses `is_training=` other than a literal True (slim then
switches dropout off at run time, tf.nn.dropout cannot), noise_shape, seed, outputs_collections,
and `slim.arg_scope` in the file.
"""

from __future__ import annotations

import libcst as cst

from slimify import names as N
from slimify import tf1
from slimify.ir import Code, Dropout, LayerCall
from slimify.rewrite import Names, Recognized, Refusal, Site
from slimify.tf1 import Unsupported

FAMILY = "dropout"


class FoldDropout:
    """tf -> IR: `y = tf.nn.dropout(x, keep_prob)` or `return tf.nn.dropout(...)`."""

    family = FAMILY
    dialect = "tf"
    markers = ("dropout",)

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        found = tf1.single_call(site, (N.TF_DROPOUT,))
        if found is None:
            return None
        output, call = found
        facts = site.file
        try:
            args = tf1.bind(call, tf1.SIGNATURES[N.TF_DROPOUT])
            if tf1.spelled_through_tf2(call.func, facts):
                raise Unsupported("this is TF2's tf.nn.dropout (compat.v2), whose second argument is rate, not keep_prob")
            if "rate" in args:
                raise Unsupported("rate= is given: slim takes keep_prob and would compute 1 - (1 - rate), not always the same number")
            if not _keep_prob_by_keyword(call) and not tf1.evidently_tf1(call.func, facts):
                raise Unsupported(
                    "the second argument of tf.nn.dropout is keep_prob in TensorFlow 1 but rate in TensorFlow 2, and nothing "
                    "shows this call is TF1's (it is not spelled through tf.compat.v1, and the file calls no TF1-only function such "
                    "as tf.placeholder or tf.Session through plain tensorflow); write keep_prob= to fold it"
                )
            for key in ("noise_shape", "seed"):
                if key in args and not tf1.is_literal(args[key], None):
                    raise Unsupported(f"{key}= is not carried yet")
            if "keep_prob" not in args or "x" not in args:
                raise Unsupported("the input or keep_prob is missing")
            scope = tf1.op_name_as_scope(args.get("name"), facts)
        except Unsupported as reason:
            return Refusal(FAMILY, facts.line_of(site.statement), f"dropout not folded: {reason}")
        layer = Dropout(keep_prob=Code(facts.code(args["keep_prob"])))
        return Recognized(FAMILY, 1, LayerCall(layer, Code(facts.code(args["x"])), output, scope), releases=(N.TENSORFLOW,))


class SlimDropout:
    """slim -> IR: `y = slim.dropout(x, keep_prob=p)`."""

    family = FAMILY
    dialect = "slim"
    markers = ("dropout",)

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        found = tf1.single_call(site, N.SLIM_DROPOUT)
        if found is None:
            return None
        output, call = found
        facts = site.file
        try:
            tf1.refuse_arg_scope(site)
            args = tf1.bind(call, tf1.SIGNATURES["tf_slim.dropout"])
            if "is_training" in args and not tf1.is_literal(args["is_training"], True):
                raise Unsupported("is_training= switches dropout off at run time; tf.nn.dropout has no such switch")
            for key in ("noise_shape", "seed", "outputs_collections"):
                if key in args and not tf1.is_literal(args[key], None):
                    raise Unsupported(f"{key}= is not expanded yet")
            scope = None
            if "scope" in args:
                scope = tf1.literal(args["scope"], "the scope name")
                if not isinstance(scope, str):
                    raise Unsupported("the scope name is only known at run time")
        except Unsupported as reason:
            return Refusal(FAMILY, facts.line_of(site.statement), f"slim.dropout not expanded: {reason}")
        keep_prob = Code(facts.code(args["keep_prob"])) if "keep_prob" in args else Code("0.5")
        layer = Dropout(keep_prob=keep_prob)
        return Recognized(FAMILY, 1, LayerCall(layer, Code(facts.code(args["inputs"])), output, scope), releases=(N.TF_SLIM,))


def _keep_prob_by_keyword(call: cst.Call) -> bool:
    """`keep_prob=` spelled out: TensorFlow 2's tf.nn.dropout has no such parameter, so this is TF1."""
    return any(arg.keyword is not None and arg.keyword.value == "keep_prob" for arg in call.args)


def _keep_prob(layer: Dropout) -> cst.BaseExpression | Refusal:
    if layer.keep_prob is None:
        # A rate from Keras / PyTorch: 1 - rate is not always the keep_prob the source meant.
        return Refusal(FAMILY, 0, "dropout given as a rate, not keep_prob: not converted")
    return tf1.expression(layer.keep_prob)


class SlimDropoutEmitter:
    dialect = "slim"
    layer_types = (Dropout,)

    def emit(self, call: LayerCall, names: Names) -> list[cst.BaseStatement] | Refusal:
        keep_prob = _keep_prob(call.layer)
        if isinstance(keep_prob, Refusal):
            return keep_prob
        args = [cst.Arg(cst.parse_expression(call.inputs.text)), tf1.keyword("keep_prob", keep_prob)]
        if call.scope is not None:
            args.append(tf1.keyword("scope", tf1.string(call.scope)))
        return [tf1.assign_or_return(call.output, cst.Call(names.ref("tf_slim.dropout"), tf1.commas(args)))]


class TfDropoutEmitter:
    dialect = "tf"
    layer_types = (Dropout,)

    def emit(self, call: LayerCall, names: Names) -> list[cst.BaseStatement] | Refusal:
        keep_prob = _keep_prob(call.layer)
        if isinstance(keep_prob, Refusal):
            return keep_prob
        args = [cst.Arg(cst.parse_expression(call.inputs.text)), tf1.keyword("keep_prob", keep_prob)]
        if call.scope is not None:
            args.append(tf1.keyword("name", tf1.string(call.scope)))
        return [tf1.assign_or_return(call.output, cst.Call(names.ref(N.TF_DROPOUT), tf1.commas(args)))]


RECOGNIZERS = [FoldDropout(), SlimDropout()]
EMITTERS = [SlimDropoutEmitter(), TfDropoutEmitter()]
