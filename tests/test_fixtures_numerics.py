"""Every fixture pair is executed before and after and must compute exactly the same.

Real TensorFlow (compat.v1 graphs) and tf_slim; weights re-randomized with non-zero biases and
carried across by a checkpoint, so variable names and shapes must match too. Where a rewrite
renames variables (helper-function style), the checkpoint is restored through the name map the
rewrite reports, which proves the map.
"""

import pytest

from slimify.engine import rewrite_source
from slimify.runner import compare_tf_graphs
from tests.fixture_files import after_of, fixture_id, input_shapes, pairs, target_of

TF_PAIRS = pairs("slim") + pairs("tf")


@pytest.mark.parametrize("before", TF_PAIRS, ids=fixture_id)
def test_pair_computes_the_same(before):
    source = before.read_text()
    name_map = rewrite_source(source, target_of(before)).name_map or None
    result = compare_tf_graphs(source, after_of(before).read_text(), input_shapes(source), name_map=name_map)
    assert result.ok, result.message
    assert result.variables, "the layer's variables were compared"
    assert result.max_abs_diff == 0.0


@pytest.mark.parametrize("before", pairs("slim"), ids=fixture_id)
def test_fold_then_expand_computes_the_same(before):
    source = before.read_text()
    folded = after_of(before).read_text()
    expansion = rewrite_source(folded, "tf")
    expanded = expansion.new_source
    assert expanded != folded
    assert not expansion.findings, [f.reason for f in expansion.findings]
    name_map = rewrite_source(source, "slim").name_map or None
    result = compare_tf_graphs(source, expanded, input_shapes(source), name_map=name_map)
    assert result.ok, result.message
    # Folding the expansion gives the folded code back (unless the expansion dropped the
    # file's own slim alias, which the fold then spells `slim`).
    if "tf_slim" not in source:
        assert rewrite_source(expanded, "slim").new_source == folded
