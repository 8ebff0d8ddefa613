"""Fold then expand (and expand then fold) round-trips to numerically identical code, for every
layer kind: conv, dense, pool, flatten, dropout, and the helper-function style.

tests/test_fixtures_numerics.py runs fold-then-expand on the checked-in .after.py files (which
the text tests show are the fold's own output); here: every layer kind is covered, and the other
direction (slim -> tf -> slim) runs on the fixtures/tf pairs.
"""

import pytest

from slimify.engine import rewrite_source
from slimify.ir import Conv2D, Dense, Dropout, Flatten, LayerCall, Pool2D
from slimify.runner import compare_tf_graphs, load_module
from tests.fixture_files import fixture_id, input_shapes, pairs

LAYER_KINDS = (Conv2D, Dense, Pool2D, Flatten, Dropout)


def _kinds(result) -> set[type]:
    return {type(r.ir.layer) for r in result.rewrites if isinstance(r.ir, LayerCall)}


def test_every_layer_kind_and_the_helper_style_round_trip():
    folded_kinds, expanded_kinds, families = set(), set(), set()
    for before in pairs("slim"):
        folded = rewrite_source(before.read_text(), "slim")
        folded_kinds |= _kinds(folded)
        families |= {r.family for r in folded.rewrites}
        expanded_kinds |= _kinds(rewrite_source(folded.new_source, "tf"))
    assert set(LAYER_KINDS) <= folded_kinds
    assert set(LAYER_KINDS) <= expanded_kinds
    assert "helper_functions" in families


@pytest.mark.parametrize("before", pairs("tf"), ids=fixture_id)
def test_expand_then_fold_is_numerically_identical(before):
    source = before.read_text()
    expanded = rewrite_source(source, "tf").new_source
    folded = rewrite_source(expanded, "slim")
    assert folded.rewrites and not folded.findings, [f.reason for f in folded.findings]
    result = compare_tf_graphs(source, folded.new_source, input_shapes(source))
    assert result.ok, result.message
    # The fold writes arguments in its own order; expanding that again gives the same tf code
    # (the tensorflow import may be re-added under its default spelling).
    assert _body(rewrite_source(folded.new_source, "tf").new_source) == _body(expanded)


def _body(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not line.startswith(("import ", "from ")))


def test_expanded_dense_fails_loudly_on_an_input_of_another_rank():
    """slim.fully_connected on a rank-3 input contracts the last axis with tensordot; the
    expansion's tf.matmul would not compute the same bits, so it must refuse to build."""
    import tensorflow.compat.v1 as tf  # noqa: PLC0415

    source = "import tf_slim as slim\n\n\ndef build(x):\n    return slim.fully_connected(x, 4, scope='fc1')\n"
    expanded = rewrite_source(source, "tf").new_source
    assert "with_rank(2)" in expanded
    with tf.Graph().as_default():
        module = load_module(expanded, "expanded")
        module.build(tf.placeholder(tf.float32, (2, 12)))  # rank 2 builds
    with tf.Graph().as_default(), pytest.raises(ValueError, match="must have rank 2"):
        module = load_module(expanded, "expanded")
        module.build(tf.placeholder(tf.float32, (2, 5, 12)))
