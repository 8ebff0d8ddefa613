"""Weight decay folded into `weights_regularizer` (and expanded back) keeps the losses where the
program reads them: same values, in the same collections.

The fixture runner compares outputs and variables only; here each before/after graph is built
with real TensorFlow (compat.v1) and tf_slim, the before-graph's variables are re-randomized and
copied into the after-graph by name, and then every collection holding tensors (losses) is
evaluated on both sides: the collection names, how many losses each holds and their values must
be identical, and so must the outputs and `tf.losses.get_regularization_losses()`.
"""

import numpy as np
import pytest

from slimify.engine import rewrite_source
from slimify.runner import load_module
from tests.fixture_files import FIXTURES, after_of, fixture_id, input_shapes

WEIGHT_DECAY_PAIRS = [
    FIXTURES / "slim" / "get_variable_l2_loss_regularizer.before.py",
    FIXTURES / "slim" / "conv_get_variable_slim_l2_regularizer.before.py",
    FIXTURES / "slim" / "weight_decay_factory_regularization_losses.before.py",
    FIXTURES / "slim" / "weight_decay_added_in_block.before.py",
    FIXTURES / "tf" / "slim_layers_with_l2_regularizer.before.py",
]
LOSSES_FACTORY = FIXTURES / "slim" / "weight_decay_factory.unchanged.py"


def _tf():
    import tensorflow.compat.v1 as tf  # noqa: PLC0415  (the rewrite path never imports TensorFlow)

    return tf


def _is_variable_or_op(item) -> bool:
    import tensorflow  # noqa: PLC0415  (tensorflow.Variable: the base of v1 and resource variables)

    return isinstance(item, (tensorflow.Variable, tensorflow.Operation))


def _run(source: str, shape, weights: dict[str, np.ndarray] | None, seed: int = 0):
    """Build `source`'s graph; load `weights` by variable name (or randomize them, non-zero
    biases included); return (output, {collection: loss values}, regularization losses, weights)."""
    tf = _tf()
    graph = tf.Graph()
    with graph.as_default():
        module = load_module(source, "fixture")
        x = tf.placeholder(tf.float32, shape=shape, name="input")
        y = module.build(x)
        variables = {v.op.name: v for v in tf.global_variables()}
        # Loss collections: everything but variables and ops (get_variable's regularizer
        # collects a lazily evaluated tensor, hence convert_to_tensor).
        losses = {
            key: tf.convert_to_tensor(graph.get_collection(key))
            for key in graph.get_all_collection_keys()
            if graph.get_collection(key) and not any(_is_variable_or_op(item) for item in graph.get_collection(key))
        }
        regularization = tf.losses.get_regularization_losses()
        with tf.Session(graph=graph) as session:
            session.run(tf.global_variables_initializer())
            if weights is None:
                rng = np.random.default_rng(seed)
                weights = {name: rng.standard_normal(v.shape.as_list()).astype(np.float32) * 0.5 + 0.25 for name, v in variables.items()}
            assert sorted(weights) == sorted(variables), "variable names differ"
            for name, variable in variables.items():
                variable.load(weights[name], session)
            feed = {x: np.random.default_rng(seed + 1).standard_normal(shape).astype(np.float32)}
            output, loss_values, regularization_values = session.run((y, losses, regularization), feed)
    return output, loss_values, regularization_values, weights


def assert_same_losses(before: str, after: str, shapes) -> dict[str, np.ndarray]:
    for run, shape in enumerate(shapes):
        out1, losses1, regularization1, weights = _run(before, shape, None, seed=run)
        out2, losses2, regularization2, _ = _run(after, shape, weights, seed=run)
        assert sorted(losses1) == sorted(losses2), f"loss collections differ: {sorted(losses1)} vs {sorted(losses2)}"
        for key in losses1:
            assert np.array_equal(np.sort(losses1[key]), np.sort(losses2[key])), f"collection {key!r}: {losses1[key]} vs {losses2[key]}"
        assert np.array_equal(np.sort(regularization1), np.sort(regularization2))
        assert np.array_equal(out1, out2), f"outputs differ for input {shape}"
    return losses1


@pytest.mark.parametrize("before", WEIGHT_DECAY_PAIRS, ids=fixture_id)
def test_weight_decay_lands_in_the_same_collection_with_the_same_value(before):
    losses = assert_same_losses(before.read_text(), after_of(before).read_text(), input_shapes(before.read_text()))
    assert len(losses.get("regularization_losses", [])) >= 1, "the fixture has a weight decay to compare"
    assert all(value > 0 for value in losses["regularization_losses"])


@pytest.mark.parametrize("before", [p for p in WEIGHT_DECAY_PAIRS if p.parent.name == "slim"], ids=fixture_id)
def test_fold_then_expand_keeps_the_weight_decay(before):
    source = before.read_text()
    folded = rewrite_source(source, "slim").new_source
    expanded = rewrite_source(folded, "tf")
    assert "add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES" in expanded.new_source
    assert not expanded.findings
    assert_same_losses(source, expanded.new_source, input_shapes(source))


def test_the_loss_collection_check_catches_a_moved_loss():
    """Folding the 'losses' factory by force (what slimify refuses) is caught: the loss leaves
    'losses' for REGULARIZATION_LOSSES."""
    source = LOSSES_FACTORY.read_text()
    assert rewrite_source(source, "slim").new_source == source
    forced = source.replace(
        "    with tf.variable_scope('conv1') as scope:\n"
        "        kernel = _variable_with_weight_decay('weights', shape=[5, 5, 3, 8], stddev=5e-2, wd=0.004)\n"
        "        conv = tf.nn.conv2d(images, kernel, [1, 1, 1, 1], padding='SAME')\n"
        "        biases = tf.get_variable('biases', [8], initializer=tf.constant_initializer(0.0))\n"
        "        pre_activation = tf.nn.bias_add(conv, biases)\n"
        "        conv1 = tf.nn.relu(pre_activation, name=scope.name)\n",
        "    conv1 = slim.conv2d(images, 8, [5, 5], scope='conv1', weights_initializer=tf.truncated_normal_initializer(stddev=5e-2),\n"
        "                        weights_regularizer=slim.l2_regularizer(0.004))\n",
    ).replace("import tensorflow as tf\n", "import tensorflow as tf\nimport tf_slim as slim\n")
    assert forced != source
    # The program's own output reads 'losses', which is now empty: tf.add_n fails or the sum changes.
    forced = forced.replace("return conv1 + total_loss()", "return conv1")
    original = source.replace("return conv1 + total_loss()", "return conv1")
    with pytest.raises(AssertionError, match="loss collections differ"):
        assert_same_losses(original, forced, input_shapes(source))


def test_the_loss_value_check_catches_a_wrong_scale():
    before = FIXTURES / "slim" / "weight_decay_factory_regularization_losses.before.py"
    after = after_of(before).read_text()
    wrong = after.replace("slim.l2_regularizer(0.004)", "slim.l2_regularizer(0.008)")
    assert wrong != after
    # The fixture adds the loss to its output too; compare the collections before the output.
    with pytest.raises(AssertionError, match="regularization_losses"):
        assert_same_losses(before.read_text(), wrong, input_shapes(after))
