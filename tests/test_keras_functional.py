"""The Keras functional API: graphs with branches read into the IR, emitted as an nn.Module, proven.

The fixture pairs (fixtures/torch/functional_*) are executed by test_keras_torch_numerics; these
tests pin what the fixtures alone would not show.
"""

import pytest

from slimify import model_port
from slimify.engine import rewrite_source
from slimify.ir import BatchNorm, Conv2D, Dense
from slimify.model_runner import build_entry, compare_models, model_ir_of
from tests.fixture_files import FIXTURES, input_shapes

INCEPTION = FIXTURES / "torch" / "functional_inception_concatenate.before.py"
RESIDUAL = FIXTURES / "torch" / "functional_residual_block.before.py"


def _after(before):
    return before.with_name(before.name.replace(".before.py", ".after.py")).read_text()


def test_residual_block_keeps_the_entry_point_and_adds_the_skip():
    after = _after(RESIDUAL)
    assert "def build_model():" in after and "return Net()" in after
    assert "class Net(nn.Module):" in after
    assert "x = shortcut + y" in after  # layers.Add()([shortcut, y])


def test_concatenate_is_over_the_channels():
    assert "torch.cat([branch1, branch3, branch_pool], dim=1)" in _after(INCEPTION)


def test_weights_follow_the_graph_not_the_keras_layer_order(monkeypatch):
    # Keras lists a functional model's layers by depth; porting by position would pair the
    # wrong layers. In the inception fixture the two orders differ.
    before = INCEPTION
    source = before.read_text()
    model_ir = model_ir_of(source, "build_model" if "def build_model" in source else "model", "keras->torch")
    keras_model = build_entry(source, model_ir.name, "before")
    by_graph = model_port.keras_graph_layers(keras_model, model_ir)
    weighted = [node for node in model_ir.nodes if isinstance(node.layer, (Conv2D, Dense, BatchNorm))]
    by_depth = [layer for layer in keras_model.layers if layer.weights]
    assert [by_graph[node.name] for node in weighted] != by_depth

    shapes = input_shapes(source)
    assert compare_models(source, _after(before), model_ir.name, shapes, "keras->torch", model_ir=model_ir).ok

    def positional(model, ir_model):
        return dict(zip([n.name for n in weighted], [layer for layer in model.layers if layer.weights], strict=True))

    monkeypatch.setattr(model_port, "keras_graph_layers", positional)
    try:
        result = compare_models(source, _after(before), model_ir.name, shapes, "keras->torch", model_ir=model_ir)
    except ValueError as error:  # the weights' shapes no longer line up
        assert "shape" in str(error)
    else:
        assert not result.ok  # or the outputs differ


FUNCTIONAL_AT_MODULE_LEVEL = """\
import keras
from keras import layers

inputs = keras.Input(shape=(8, 8, 2))
x = layers.Conv2D(4, 3, padding='same', activation='relu')(inputs)
outputs = layers.GlobalAveragePooling2D()(x)
model = keras.Model(inputs=inputs, outputs=outputs)
model.summary()
"""


def test_keras_model_methods_after_the_definition_are_refused():
    result = rewrite_source(FUNCTIONAL_AT_MODULE_LEVEL, "torch")
    assert result.new_source == FUNCTIONAL_AT_MODULE_LEVEL
    assert any("`model.summary` is used after the definition" in f.reason for f in result.findings)


def test_keyword_inputs_outputs_at_module_level():
    source = FUNCTIONAL_AT_MODULE_LEVEL.replace("model.summary()\n", "")
    result = rewrite_source(source, "torch")
    assert not result.findings
    assert "model = Net()" in result.new_source
    assert "x = F.relu(self.conv1(inputs))" in result.new_source
    assert compare_models(source, result.new_source, "model", [(2, 8, 8, 2), (3, 8, 8, 2)], "keras->torch").ok


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("inputs = keras.Input(shape=(8, 8, 2))", "is not (height, width, channels)"),
        ("x = layers.Conv2D(4, 3, padding='same', activation='relu')(inputs, training=True)", "passes more than the input tensor"),
        ("x = layers.Conv2D(4, 3, dilation_rate=2)(inputs)", "dilated or grouped"),
        ("x = layers.Conv2D(4, 3)(inputs)\nunused = layers.Conv2D(4, 1)(inputs)", "does not reach the model's output"),
    ],
)
def test_refusals_name_what_is_unsupported(change, reason):
    source = FUNCTIONAL_AT_MODULE_LEVEL.replace("model.summary()\n", "")
    if change.startswith("inputs"):
        source = source.replace(change, "inputs = keras.Input(shape=(None, None, 2))")
    else:
        source = source.replace("x = layers.Conv2D(4, 3, padding='same', activation='relu')(inputs)", change)
    result = rewrite_source(source, "torch")
    assert result.new_source == source
    assert any(reason in f.reason for f in result.findings), [f.reason for f in result.findings]


def test_residual_graph_translates_back_to_keras_and_verifies():
    # Keras functional -> PyTorch nn.Module -> Keras subclassed model: the torch side is read
    # back as a graph (the skip `shortcut + y`, `torch.mean` over H and W) and proven again.
    torch_source = _after(RESIDUAL)
    result = rewrite_source(torch_source, "keras")
    assert not result.findings, [f.reason for f in result.findings]
    assert "x = shortcut + y" in result.new_source and "class Net(keras.Model):" in result.new_source
    assert "keras.ops.mean(x, axis=(1, 2))" in result.new_source
    comparison = compare_models(torch_source, result.new_source, "Net", input_shapes(torch_source), "torch->keras")
    assert comparison.ok, comparison.message
