"""The framework-neutral layer IR every rewrite goes through.

A rewrite is recognizer(source dialect) -> IR -> emitter(target dialect). Recognizers live in
`codemods/`, one pattern family per file; the IR is the only thing they share, so adding an
arrow between two dialects means adding one recognizer or one emitter, never an N x N codemod.

Values that the source spells as literals are kept as Python values (`int`, `float`, `str`);
anything else (a name such as `n_filters`, an expression) is kept verbatim as `Code`, so an
emitter can carry it over without understanding it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Code:
    """A Python expression carried over verbatim from the source."""

    text: str


Value = int | float | Code


@dataclass(frozen=True)
class Initializer:
    """How a variable's first value is drawn.

    `kind` is one of INITIALIZER_KINDS; `args` are the keyword arguments as written in the
    source (`stddev`, `mean`, `seed`, `value`, `minval`, `maxval`), each kept as source text so
    `1e-1` stays `1e-1`.
    """

    kind: str
    args: tuple[tuple[str, str], ...] = ()


INITIALIZER_KINDS = (
    "truncated_normal",
    "random_normal",
    "random_uniform",
    "constant",
    "zeros",
    "ones",
    "glorot_uniform",
)

ACTIVATIONS = ("relu", "relu6", "elu", "tanh", "sigmoid", "softmax", "log_softmax")


@dataclass(frozen=True)
class Conv2D:
    filters: Value
    kernel_size: tuple[Value, Value]
    strides: tuple[int, int] = (1, 1)
    padding: str = "SAME"  # "SAME" | "VALID", TensorFlow's meaning
    activation: str | None = None  # one of ACTIVATIONS, or None for linear
    use_bias: bool = True
    in_channels: Value | None = None
    weights_initializer: Initializer | None = None  # None: the target dialect's default
    bias_initializer: Initializer | None = None
    trainable: bool = True


@dataclass(frozen=True)
class Dense:
    units: Value
    activation: str | None = None
    use_bias: bool = True
    in_features: Value | None = None
    weights_initializer: Initializer | None = None
    bias_initializer: Initializer | None = None
    trainable: bool = True


@dataclass(frozen=True)
class Pool2D:
    kind: str  # "max" | "avg"
    pool_size: tuple[Value, Value]
    strides: tuple[Value, Value]
    padding: str = "VALID"


@dataclass(frozen=True)
class GlobalAvgPool2D:
    pass


@dataclass(frozen=True)
class Flatten:
    size: Value | None = None  # features per example when the source states it (`tf.reshape(x, [-1, n])`)


@dataclass(frozen=True)
class Dropout:
    rate: Value | None = None  # the fraction dropped (Keras/PyTorch convention)
    keep_prob: Value | None = None  # TF1's convention (rate = 1 - keep_prob), kept as written


@dataclass(frozen=True)
class BatchNorm:
    epsilon: float = 1e-3
    momentum: float = 0.99  # Keras convention: moving = momentum * moving + (1 - momentum) * batch
    center: bool = True
    scale: bool = True
    num_features: int | None = None


@dataclass(frozen=True)
class Activation:
    kind: str  # one of ACTIVATIONS


@dataclass(frozen=True)
class Add:
    pass


@dataclass(frozen=True)
class Concatenate:
    axis: int = -1  # channel axis in the source dialect's own layout


Layer = (
    Conv2D
    | Dense
    | Pool2D
    | GlobalAvgPool2D
    | Flatten
    | Dropout
    | BatchNorm
    | Activation
    | Add
    | Concatenate
)


@dataclass(frozen=True)
class LayerCall:
    """One layer applied inside TF1 graph code: `output = layer(inputs)` under `scope`.

    Variables are named `<scope>/weights` and `<scope>/biases` on both sides of a tf <-> slim
    rewrite, so checkpoints keep loading.
    """

    layer: Layer
    inputs: Code
    output: Code | None  # assignment target; None means the block ends in `return`
    scope: str | None


@dataclass(frozen=True)
class Node:
    """One layer of a model graph; `inputs` name earlier nodes (or "input")."""

    name: str
    layer: Layer
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Model:
    """A whole model definition: ordered nodes plus the input shape (H, W, C), channels last."""

    name: str
    input_shape: tuple[int, ...] | None
    nodes: tuple[Node, ...]
    outputs: tuple[str, ...] = ()
    extras: dict = field(default_factory=dict, compare=False, hash=False)
