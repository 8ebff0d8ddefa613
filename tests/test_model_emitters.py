"""The PyTorch emitter refuses an activation it has no module or function for, in both styles.

The Keras and PyTorch readers never produce relu6 / elu / leaky_relu (only the TF1 dialects do),
so this is reached only through a new reader or a changed IR: it must refuse, never fall through
to another activation.
"""

from dataclasses import replace

import pytest

from codemods.keras_model import RECOGNIZERS as KERAS_RECOGNIZERS
from codemods.torch_module import TorchModuleEmitter
from slimify.engine import Codemods, rewrite_source
from slimify.ir import Activation

SEQUENTIAL = """\
import keras

model = keras.Sequential([
    keras.Input(shape=(8, 8, 3)),
    keras.layers.Conv2D(4, 3, activation='relu'),
    keras.layers.Flatten(),
    keras.layers.Dense(2, activation='softmax'),
])
"""

FUNCTIONAL = """\
import keras

inputs = keras.Input(shape=(8, 8, 3))
x = keras.layers.Conv2D(4, 3)(inputs)
x = keras.layers.Activation('relu')(x)
x = keras.layers.Flatten()(x)
outputs = keras.layers.Dense(2)(x)
model = keras.Model(inputs, outputs)
"""


class ReluAs(TorchModuleEmitter):
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def emit(self, model, names):
        def swap(layer):
            return Activation(self.kind) if isinstance(layer, Activation) and layer.kind == "relu" else layer

        nodes = tuple(replace(node, layer=swap(node.layer)) for node in model.nodes)
        extras = dict(model.extras)
        if "attributes" in extras:
            extras["attributes"] = {name: swap(layer) for name, layer in extras["attributes"].items()}
        return super().emit(replace(model, nodes=nodes, extras=extras), names)


@pytest.mark.parametrize("source", [SEQUENTIAL, FUNCTIONAL], ids=["sequential", "functional"])
def test_relu_translates(source):
    result = rewrite_source(source, "torch", codemods=Codemods(tuple(KERAS_RECOGNIZERS), (ReluAs("relu"),)))
    assert result.changed and "relu" in result.new_source.lower()


@pytest.mark.parametrize("kind", ["relu6", "elu", "leaky_relu"])
@pytest.mark.parametrize("source", [SEQUENTIAL, FUNCTIONAL], ids=["sequential", "functional"])
def test_an_activation_without_a_pytorch_equivalent_is_refused(source, kind):
    result = rewrite_source(source, "torch", codemods=Codemods(tuple(KERAS_RECOGNIZERS), (ReluAs(kind),)))
    assert not result.changed, result.new_source
    [finding] = result.findings
    assert finding.kind == "refused" and f"activation {kind!r} has no PyTorch" in finding.reason
