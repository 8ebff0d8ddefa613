"""Every refusal reason issue 3 names has an unchanged fixture, and its finding names the file,
the line of the refused block and a reason a user understands.

(tests/test_fixtures_text.py checks each unchanged fixture against its own `# refuses:` header;
this table is the other direction: from the issue's list to the fixtures that prove it.)
"""

import pytest

from slimify.engine import rewrite_source
from tests.fixture_files import FIXTURES, target_of, unchanged

# issue 3's reason -> (fixture, what the finding must say, text of the refused statement's line)
REASONS = {
    "weights kept for an l2 loss": ("slim/kernel_read_later_for_l2_loss", "kernel is read after the block", "with tf."),
    "weights kept in an l2 list": ("slim/weights_kept_in_parameters_list", "does something other than build the layer", "with tf."),
    "weights kept for tf.gradients": ("slim/weights_read_by_tf_gradients", "kernel is read after the block", "with tf."),
    "a tensor used twice": ("slim/weight_used_twice_in_block", "the intermediate tensor hidden is used twice", "with tf."),
    "reuse=True": ("slim/reuse_true_elsewhere_in_file", "reuses variables (reuse=True / AUTO_REUSE / reuse_variables())", "with tf."),
    "AUTO_REUSE": ("slim/variable_scope_auto_reuse", "tf.variable_scope(reuse=...) shares variables", "with tf."),
    "data_format='NCHW'": ("slim/nchw_data_format", "data_format other than NHWC", "with tf."),
    "data_format='NCHW' on a pool": ("slim/pool_nchw", "data_format other than NHWC", "tf.nn.max_pool("),
    "strides only known at run time": ("slim/strides_known_at_run_time", "strides is only known at run time", "with tf."),
    "padding only known at run time": ("slim/padding_known_at_run_time", "padding is only known at run time", "with tf."),
    "intermediate tensors read later": ("slim/intermediate_tensor_read_later", "conv is read after the block", "with tf."),
    "op names other code looks up": ("slim/op_looked_up_by_name", "an op or scope whose name would change", "with tf."),
    "variables created in loops": ("slim/block_in_loop", "the block runs in a loop", "with tf."),
    "weight decay in a collection slim would not fill": ("slim/weight_decay_factory", "goes to the collection 'losses'", "with tf."),
    "weight decay slim would drop (0.0)": ("slim/weight_decay_factory_zero_decay", "weight decay factor is 0.0", "with tf."),
    "a Keras regularizer": ("slim/get_variable_keras_regularizer", "not proven identical to slim.l2_regularizer", "with tf."),
    "a dense expansion on a rank-4 input": ("tf/slim_fully_connected_on_conv_output", "has rank 4", "slim.fully_connected("),
}


def _first_line_with(source: str, marker: str) -> int:
    """The first line below the `# refuses:` header that contains `marker`."""
    for number, line in enumerate(source.splitlines()[1:], 2):
        if marker in line and not line.lstrip().startswith(("#", '"""')):
            return number
    raise AssertionError(f"no line with {marker!r}")


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_each_refusal_reason_has_a_fixture_with_file_line_and_reason(reason):
    fixture, expected, marker = REASONS[reason]
    path = FIXTURES / f"{fixture}.unchanged.py"
    source = path.read_text()
    result = rewrite_source(source, target_of(path), path=str(path))
    assert result.new_source == source
    matching = [f for f in result.findings if expected in f.reason]
    assert matching, [f.reason for f in result.findings]
    finding = matching[0]
    assert finding.path == str(path)
    assert finding.line == _first_line_with(source, marker), (finding.line, finding.reason)
    assert finding.family in ("conv_block", "dense_block", "pool", "flatten", "dropout", "helper_functions")


def test_every_refusing_fixture_states_its_reason():
    for path in unchanged("slim") + unchanged("tf"):
        header = path.read_text().splitlines()[0]
        assert header.startswith(("# refuses: ", "# no candidate: ")), path.name
        if header.startswith("# refuses: "):
            assert len(header.removeprefix("# refuses: ")) >= 5, f"{path.name}: the expected reason is too vague to check"
