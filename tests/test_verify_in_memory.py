"""`compare_tf_blocks`, --verify's comparison, proves what the checkpoint runner proves.

It builds each side once with open batch and spatial sizes and carries the re-randomized weights
in memory instead of through a checkpoint; these tests hold it to the same standard: every
fixture pair agrees, every rewrite made wrong on purpose fails. Real TensorFlow and tf_slim.
"""

import pytest

from slimify.engine import rewrite_source
from slimify.runner import _NeedsStaticShape, _Side, _tf, compare_tf_blocks
from tests.fixture_files import FIXTURES, after_of, fixture_id, input_shapes, pairs, target_of

SEED = FIXTURES / "slim" / "seed_name_scope_relu.before.py"
HELPER = FIXTURES / "slim" / "helper_functions_weight_dicts.before.py"


def _seed():
    source = SEED.read_text()
    return source, after_of(SEED).read_text(), input_shapes(source)


@pytest.mark.parametrize("before", pairs("slim") + pairs("tf"), ids=fixture_id)
def test_every_fixture_pair_agrees(before):
    source = before.read_text()
    renames = rewrite_source(source, target_of(before)).name_map
    result = compare_tf_blocks(source, after_of(before).read_text(), input_shapes(source), renames=renames)
    assert result.ok, result.message
    assert result.variables, "the layer's variables were compared"
    assert result.max_abs_diff == 0.0
    assert result.shapes_run == input_shapes(source)


def test_dropped_bias_is_caught_even_though_the_variable_remains():
    before, after, shapes = _seed()
    expanded = rewrite_source(after, "tf").new_source
    broken = expanded.replace(
        "tf.nn.bias_add(tf.nn.conv2d(input, weights, [1, 1, 1, 1], padding='SAME'), biases)",
        "tf.nn.conv2d(input, weights, [1, 1, 1, 1], padding='SAME')",
    )
    assert broken != expanded
    result = compare_tf_blocks(before, broken, shapes)
    assert not result.ok
    assert "outputs differ" in result.message


def test_dropped_bias_variable_is_caught_by_names():
    before, after, shapes = _seed()
    result = compare_tf_blocks(before, after.replace("scope='conv1_1'", "scope='conv1_1', biases_initializer=None"), shapes)
    assert not result.ok
    assert "missing after: ['conv1_1/biases']" in result.message


def test_same_turned_valid_is_caught():
    before, after, shapes = _seed()
    result = compare_tf_blocks(before, after.replace("scope='conv1_1'", "scope='conv1_1', padding='VALID'"), shapes)
    assert not result.ok
    assert "shapes differ" in result.message


def test_symmetric_padding_for_stride_2_same_is_caught():
    source = (FIXTURES / "slim" / "stride_2_same_odd_input.before.py").read_text()
    broken = source.replace(
        "conv = tf.nn.conv2d(x, kernel, [1, 2, 2, 1], padding='SAME')",
        "conv = tf.nn.conv2d(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), kernel, [1, 2, 2, 1], padding='VALID')",
    )
    assert broken != source
    result = compare_tf_blocks(source, broken, [(2, 9, 9, 3), (2, 10, 10, 3)])
    assert not result.ok
    assert "outputs differ for input (2, 10, 10, 3)" in result.message  # SAME pads (0, 1) there, not (1, 1)


def test_a_variable_of_another_dtype_is_caught():
    before, after, shapes = _seed()
    expanded = rewrite_source(after, "tf").new_source
    broken = expanded.replace("tf.zeros([128]), name='biases'", "tf.zeros([128], tf.float64), name='biases'")
    broken = broken.replace("biases))", "tf.cast(biases, tf.float32)))")
    assert broken.count("float") == 2
    result = compare_tf_blocks(before, broken, shapes)
    assert not result.ok
    assert "dtypes differ" in result.message and "conv1_1/biases float32 -> float64" in result.message


def test_renames_are_what_is_proven():
    source, after = HELPER.read_text(), after_of(HELPER).read_text()
    renames = rewrite_source(source, "slim").name_map
    assert compare_tf_blocks(source, after, input_shapes(source), renames=renames).ok
    # Two kernels swapped between layers: the shapes no longer line up.
    swapped = dict(renames, Variable_2=renames["Variable_3"], Variable_3=renames["Variable_2"])
    assert not compare_tf_blocks(source, after, input_shapes(source), renames=swapped).ok
    two_to_one = dict(renames, Variable_1=renames["Variable"])
    result = compare_tf_blocks(source, after, input_shapes(source), renames=two_to_one)
    assert not result.ok and "two variables one name" in result.message
    result = compare_tf_blocks(source, after, input_shapes(source))  # without them nothing matches
    assert not result.ok and "missing after" in result.message


def test_a_block_that_needs_static_sizes_is_built_per_input():
    before = (
        "import tensorflow as tf\n\ndef build(x):\n"
        "    return tf.reshape(x, [-1, x.get_shape()[1:].num_elements()])\n"
    )  # fmt: skip
    after = "import tf_slim as slim\n\ndef build(x):\n    return slim.flatten(x)\n"
    with pytest.raises(_NeedsStaticShape):
        _Side.build(_tf(), before, "before", (None, None, None, 3))
    result = compare_tf_blocks(before, after, [(2, 5, 3, 4), (3, 4, 6, 4)])
    assert result.ok, result.message
    wrong = after.replace("slim.flatten(x)", "slim.flatten(tf.transpose(x, [0, 2, 1, 3]))").replace(
        "import", "import tensorflow as tf\nimport", 1
    )
    assert not compare_tf_blocks(before, wrong, [(2, 5, 3, 4), (3, 4, 6, 4)]).ok


def test_the_random_weights_are_the_ones_compared():
    # A bias that the checkpoint would have restored and a dropped one look alike at zero:
    # the weights are non-zero everywhere, so adding a zero-initialized bias is caught.
    before = "import tensorflow as tf\n\ndef build(x):\n    return tf.nn.relu(x)\n"
    after = (
        "import tensorflow as tf\n\ndef build(x):\n"
        "    b = tf.Variable(tf.zeros([3]), name='b')\n"
        "    return tf.nn.relu(x)\n"
    )  # fmt: skip
    result = compare_tf_blocks(before, after, [(2, 5, 5, 3), (3, 6, 7, 3)])
    assert not result.ok and "new after: ['b']" in result.message
    uses_it = after.replace("tf.nn.relu(x)", "tf.nn.relu(x + b)")
    result = compare_tf_blocks(uses_it.replace("x + b", "x + 0 * b"), uses_it, [(2, 5, 5, 3), (3, 6, 7, 3)])
    assert not result.ok and "outputs differ" in result.message
