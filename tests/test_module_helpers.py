"""Module-level helpers an emitter needs (PyTorch's `SamePad2d`) are written once, after the imports."""

import ast

from slimify.engine import rewrite_source
from slimify.model_runner import compare_models

TWO_MODELS = '''\
"""Two Keras models that both need TensorFlow's SAME padding with a stride of 2."""
from tensorflow import keras

SIZE = 13


def build_model():
    return keras.Sequential([
        keras.layers.Conv2D(4, 3, strides=2, padding='same', input_shape=(13, 13, 3)),
        keras.layers.Flatten(),
        keras.layers.Dense(5),
    ])


model = keras.Sequential([
    keras.layers.Conv2D(6, 5, strides=2, padding='same', activation='relu', input_shape=(13, 13, 3)),
    keras.layers.Flatten(),
    keras.layers.Dense(3),
])
'''


def test_one_definition_at_module_level_serves_every_model():
    result = rewrite_source(TWO_MODELS, "torch")
    assert len(result.rewrites) == 2
    tree = ast.parse(result.new_source)
    classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    assert classes == ["SamePad2d"]
    assert result.new_source.count("class SamePad2d") == 1
    # after the docstring and imports, before the code that uses it
    body = [type(node).__name__ for node in tree.body]
    assert body.index("ClassDef") < body.index("Assign") and body.index("ClassDef") < body.index("FunctionDef")
    assert rewrite_source(result.new_source, "torch").new_source == result.new_source


def test_each_model_still_computes_the_same():
    after = rewrite_source(TWO_MODELS, "torch").new_source
    shapes = [(2, 13, 13, 3), (3, 13, 13, 3)]
    for entry in ("build_model", "model"):
        comparison = compare_models(TWO_MODELS, after, entry, shapes, "keras->torch")
        assert comparison.ok, f"{entry}: {comparison.message}"


def test_each_rewrite_shows_the_helper_it_writes():
    """--format json's `after` (and --verify's after-module) must hold what the rewrite needs to run."""
    for rewrite in rewrite_source(TWO_MODELS, "torch").rewrites:
        assert "class SamePad2d" in rewrite.after
