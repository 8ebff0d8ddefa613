"""Conv-block folds that are wrong on purpose: --verify must refuse them and leave the file alone."""

from dataclasses import replace

from codemods.conv_block import FoldConvBlock, SlimConvEmitter
from slimify.engine import Codemods


class DropBiasEmitter(SlimConvEmitter):
    """Emits the fold without its bias (`biases_initializer=None`)."""

    def emit(self, call, names):
        return super().emit(replace(call, layer=replace(call.layer, use_bias=False)), names)


class Relu6ForReluEmitter(SlimConvEmitter):
    """Keeps every variable but swaps the activation: only the numbers show it."""

    def emit(self, call, names):
        return super().emit(replace(call, layer=replace(call.layer, activation="relu6")), names)


DROP_BIAS = Codemods((FoldConvBlock(),), (DropBiasEmitter(),))
RELU6_FOR_RELU = Codemods((FoldConvBlock(),), (Relu6ForReluEmitter(),))
