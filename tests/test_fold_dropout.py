"""Dropout is random, so the fixtures prove identity with keep_prob fed as 1.0; here the folded
code must also drop like the source for keep_prob < 1: every element either 0 or x / keep_prob,
about the same fraction dropped, and exactly x when keep_prob is 1."""

import numpy as np

from slimify.engine import rewrite_source
from slimify.runner import _tf, load_module

SOURCE = """import tensorflow.compat.v1 as tf


def build(x, keep_prob):
    y = tf.nn.dropout(x, keep_prob)
    return y
"""


def _run(source: str, keep: float, x_value: np.ndarray) -> np.ndarray:
    tf = _tf()
    graph = tf.Graph()
    with graph.as_default():
        module = load_module(source, "m")
        x = tf.placeholder(tf.float32, shape=x_value.shape)
        keep_prob = tf.placeholder(tf.float32, shape=[])
        y = module.build(x, keep_prob)
    with tf.Session(graph=graph) as session:
        return session.run(y, {x: x_value, keep_prob: keep})


def test_folded_dropout_keeps_tf_semantics():
    folded = rewrite_source(SOURCE, "slim").new_source
    assert "slim.dropout(x, keep_prob=keep_prob)" in folded
    x_value = np.random.default_rng(0).uniform(1.0, 2.0, size=(50, 200)).astype(np.float32)
    for source in (SOURCE, folded):
        out = _run(source, 0.25, x_value)
        kept = out != 0
        np.testing.assert_allclose(out[kept], x_value[kept] / 0.25, rtol=1e-6)
        assert 0.2 < kept.mean() < 0.3  # keep_prob, not rate: 25 % kept, not 75 %
        assert np.array_equal(_run(source, 1.0, x_value), x_value)


def test_expanded_slim_dropout_keeps_slims_default_keep_prob():
    slim_source = "import tf_slim as slim\n\n\ndef build(x, keep_prob):\n    return slim.dropout(x)\n"
    expanded = rewrite_source(slim_source, "tf").new_source
    assert "tf.nn.dropout(x, keep_prob=0.5)" in expanded
    x_value = np.ones((50, 200), np.float32)
    for source in (slim_source, expanded):
        kept = _run(source, 1.0, x_value) != 0
        assert 0.45 < kept.mean() < 0.55
