"""The runner is the proof: a rewrite made wrong on purpose must fail it."""

import pytest

from slimify.engine import rewrite_source
from slimify.runner import VerificationError, compare_tf_graphs
from tests.fixture_files import FIXTURES, after_of, input_shapes

SEED = FIXTURES / "slim" / "seed_name_scope_relu.before.py"


def _seed():
    source = SEED.read_text()
    return source, after_of(SEED).read_text(), input_shapes(source)


def test_correct_rewrite_passes():
    before, after, shapes = _seed()
    assert compare_tf_graphs(before, after, shapes).ok


def test_dropped_bias_is_caught_even_though_the_variable_remains():
    # Zero-initialized biases would hide this; the runner re-randomizes them.
    before, after, shapes = _seed()
    expanded = rewrite_source(after, "tf").new_source
    broken = expanded.replace("tf.nn.bias_add(tf.nn.conv2d(input, weights, [1, 1, 1, 1], padding='SAME'), biases)",
                              "tf.nn.conv2d(input, weights, [1, 1, 1, 1], padding='SAME')")
    assert broken != expanded
    result = compare_tf_graphs(before, broken, shapes)
    assert not result.ok
    assert "outputs differ" in result.message


def test_dropped_bias_variable_is_caught_by_names():
    before, after, shapes = _seed()
    broken = after.replace("scope='conv1_1'", "scope='conv1_1', biases_initializer=None")
    result = compare_tf_graphs(before, broken, shapes)
    assert not result.ok
    assert "conv1_1/biases" in result.message


def test_same_turned_valid_is_caught():
    before, after, shapes = _seed()
    broken = after.replace("scope='conv1_1'", "scope='conv1_1', padding='VALID'")
    result = compare_tf_graphs(before, broken, shapes)
    assert not result.ok
    assert "shapes differ" in result.message


def test_symmetric_padding_on_odd_input_is_caught():
    # Pad 1 on every side then VALID: right for even inputs at stride 2, wrong on odd ones.
    source = (FIXTURES / "slim" / "stride_2_same_odd_input.before.py").read_text()
    broken = source.replace(
        "conv = tf.nn.conv2d(x, kernel, [1, 2, 2, 1], padding='SAME')",
        "conv = tf.nn.conv2d(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), kernel, [1, 2, 2, 1], padding='VALID')",
    )
    assert broken != source
    result = compare_tf_graphs(source, broken, [(2, 9, 9, 3), (2, 10, 10, 3)])
    assert not result.ok


def test_renamed_variable_is_caught():
    before, after, shapes = _seed()
    expanded = rewrite_source(after, "tf").new_source.replace("name='weights'", "name='kernel'")
    result = compare_tf_graphs(before, expanded, shapes)
    assert not result.ok
    assert "conv1_1/weights" in result.message


def test_runner_demands_an_odd_input_and_a_real_batch():
    before, after, _ = _seed()
    with pytest.raises(VerificationError):
        compare_tf_graphs(before, after, [(2, 8, 8, 64), (2, 10, 10, 64)])
    with pytest.raises(VerificationError):
        compare_tf_graphs(before, after, [(1, 9, 9, 64), (2, 10, 10, 64)])


def test_pool_written_with_slims_default_padding_is_caught():
    # slim.max_pool2d defaults to VALID; forgetting padding='SAME' changes the shape on odd inputs.
    source = (FIXTURES / "slim" / "max_pool_same_named.before.py").read_text()
    after = after_of(FIXTURES / "slim" / "max_pool_same_named.before.py").read_text()
    broken = after.replace("slim.max_pool2d(conv1, [3, 3], padding='SAME', scope='pool1')", "slim.max_pool2d(conv1, [3, 3], scope='pool1')")
    assert broken != after
    result = compare_tf_graphs(source, broken, input_shapes(source))
    assert not result.ok


def test_logits_given_slims_default_relu_is_caught():
    # slim.fully_connected defaults to relu: a logits layer needs activation_fn=None.
    path = FIXTURES / "slim" / "dense_get_variable_xw_plus_b_logits.before.py"
    source, after = path.read_text(), after_of(path).read_text()
    broken = after.replace("activation_fn=None, ", "")
    assert broken != after
    result = compare_tf_graphs(source, broken, input_shapes(source))
    assert not result.ok
    assert "outputs differ" in result.message


def test_plus_bias_dropped_from_a_dense_block_is_caught():
    path = FIXTURES / "slim" / "dense_plus_bias_relu.before.py"
    source = path.read_text()
    broken = source.replace("tf.nn.relu(tf.matmul(x, weights) + biases)", "tf.nn.relu(tf.matmul(x, weights)) + 0 * biases")
    assert broken != source
    result = compare_tf_graphs(source, broken, input_shapes(source))
    assert not result.ok
