"""Keras <-> PyTorch translations that are wrong on purpose: --verify must refuse them."""

from dataclasses import replace

from codemods.keras_model import RECOGNIZERS as KERAS_RECOGNIZERS
from codemods.keras_model import KerasModelEmitter
from codemods.torch_module import RECOGNIZERS as TORCH_RECOGNIZERS
from codemods.torch_module import TorchModuleEmitter
from slimify.engine import Codemods
from slimify.ir import Activation, Dense


class SigmoidForReluTorchEmitter(TorchModuleEmitter):
    """Translates to PyTorch with every ReLU turned into a sigmoid: the weights still port, only the numbers show it."""

    def emit(self, model, names):
        nodes = tuple(
            replace(node, layer=Activation("sigmoid")) if isinstance(node.layer, Activation) and node.layer.kind == "relu" else node
            for node in model.nodes
        )
        return super().emit(replace(model, nodes=nodes), names)


class DenseWithoutBiasKerasEmitter(KerasModelEmitter):
    """Translates to Keras with `use_bias=False` on every Dense: the PyTorch bias has nowhere to go."""

    def emit(self, model, names):
        nodes = tuple(replace(node, layer=_without_bias(node.layer)) for node in model.nodes)
        extras = dict(model.extras)
        if "attributes" in extras:  # a subclassed model is emitted from its attributes
            extras["attributes"] = {name: _without_bias(layer) for name, layer in extras["attributes"].items()}
        return super().emit(replace(model, nodes=nodes, extras=extras), names)


def _without_bias(layer):
    return replace(layer, use_bias=False) if isinstance(layer, Dense) else layer


SIGMOID_FOR_RELU = Codemods(tuple(KERAS_RECOGNIZERS), (SigmoidForReluTorchEmitter(),))
DENSE_WITHOUT_BIAS = Codemods(tuple(TORCH_RECOGNIZERS), (DenseWithoutBiasKerasEmitter(),))
