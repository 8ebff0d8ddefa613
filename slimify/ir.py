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


@dataclass(frozen=True)
class Regularizer:
    """Weight decay added to the regularization losses: `scale * sum(w ** 2) / 2` for "l2"
    (TensorFlow's `l2_loss`, slim's `l2_regularizer`), `scale * sum(|w|)` for "l1".

    `scale` is the factor as source text; `collection` is where the loss goes when it is not
    `tf.GraphKeys.REGULARIZATION_LOSSES` (source text), None for that default.
    """

    kind: str
    scale: str
    collection: str | None = None


# "relu6", "elu" and "leaky_relu" (TF's default slope, alpha 0.2) come from the TF1 dialects only:
# the Keras and PyTorch readers never produce them, and the PyTorch emitter refuses them.
ACTIVATIONS = ("relu", "relu6", "elu", "tanh", "sigmoid", "softmax", "log_softmax", "leaky_relu")


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
    weights_regularizer: Regularizer | None = None
    trainable: bool = True
    # Explicit zero padding (top, bottom, left, right) applied before a VALID convolution, as
    # PyTorch's `padding=p` does; None when `padding` says it all.
    pads: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class Dense:
    units: Value
    activation: str | None = None
    use_bias: bool = True
    in_features: Value | None = None
    weights_initializer: Initializer | None = None
    bias_initializer: Initializer | None = None
    weights_regularizer: Regularizer | None = None
    trainable: bool = True


@dataclass(frozen=True)
class Pool2D:
    kind: str  # "max" | "avg"
    pool_size: tuple[Value, Value]
    strides: tuple[Value, Value]
    padding: str = "VALID"
    # Keep a last, partial window (PyTorch's ceil_mode=True); None for TensorFlow semantics.
    ceil_mode: bool = False


@dataclass(frozen=True)
class GlobalAvgPool2D:
    keepdims: bool = False  # PyTorch's AdaptiveAvgPool2d(1) keeps a 1 x 1 spatial map


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
    axis: int = -1  # softmax / log_softmax: the axis, in the channels-last layout


@dataclass(frozen=True)
class Add:
    pass


@dataclass(frozen=True)
class Concatenate:
    axis: int = -1  # channel axis in the source dialect's own layout


Layer = Conv2D | Dense | Pool2D | GlobalAvgPool2D | Flatten | Dropout | BatchNorm | Activation | Add | Concatenate


@dataclass(frozen=True)
class LayerGroup:
    """Layers held together by one model attribute: a PyTorch `nn.ModuleList` ("list") or an
    `nn.Sequential` ("sequential") kept as `self.features`; each layer is also a Node of the graph."""

    kind: str  # "list" | "sequential"
    layers: tuple[Layer, ...]


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
    # The model attribute holding the layer (`self.conv1`) in a subclassed model; several nodes
    # may name one attribute only when its layer has no weights (a pooling layer used twice).
    attribute: str | None = None


@dataclass(frozen=True)
class Model:
    """A whole model definition: ordered nodes plus the input shape (H, W, C), channels last.

    `extras` carries how the source spelled the model, for an emitter that mirrors it:
    `style` ("sequential" or "module"), `statements` (for a module's forward: the variable each
    materialized node was assigned to, in order), `init_prelude` (source lines of `__init__`
    before the layers, e.g. the `super().__init__()` call).
    """

    name: str
    input_shape: tuple[int, ...] | None
    nodes: tuple[Node, ...]
    outputs: tuple[str, ...] = ()
    extras: dict = field(default_factory=dict, compare=False, hash=False)


def int_value(value: Value | None) -> int | None:
    """The integer a value denotes: literals, and `Code` that is integer arithmetic (`16 * 6 * 6`)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Code):
        import ast  # noqa: PLC0415  (only integer arithmetic is evaluated, never names)

        operators = {ast.Add: int.__add__, ast.Sub: int.__sub__, ast.Mult: int.__mul__, ast.FloorDiv: int.__floordiv__}

        def evaluate(node):
            if isinstance(node, ast.Constant) and type(node.value) is int:
                return node.value
            if isinstance(node, ast.BinOp) and type(node.op) in operators:
                left, right = evaluate(node.left), evaluate(node.right)
                if left is None or right is None or (isinstance(node.op, ast.FloorDiv) and right == 0):
                    return None
                return operators[type(node.op)](left, right)
            return None

        try:
            return evaluate(ast.parse(value.text, mode="eval").body)
        except SyntaxError:
            return None
    return None


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding along one axis: (before, after); the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def same_pads_for_every_size(kernel: int, stride: int) -> tuple[int, int] | None:
    """Fixed (before, after) zero padding that reproduces TensorFlow's SAME for *every* input size.

    SAME pads `max((ceil(n / s) - 1) * s + k - n, 0)` pixels, which depends on `n mod s`: with
    stride 1 it is a constant (an even kernel pads one more after), but a 3 x 3 stride-2 kernel
    pads (0, 1) on an even size and (1, 1) on an odd one. A fixed padding is only right when the
    `before` part never changes and the largest `after` part adds no output pixel; None otherwise
    (the translation then pads at run time, or refuses).
    """
    sizes = range(max(kernel, 1), max(kernel, 1) + stride)  # every residue of n mod stride
    pads = [same_pads(size, kernel, stride) for size in sizes]
    if len({before for before, _ in pads}) != 1:
        return None
    before, after = pads[0][0], max(after for _, after in pads)
    if any((size + before + after - kernel) // stride + 1 != -(-size // stride) for size in sizes):
        return None
    return before, after


class ShapeError(ValueError):
    """The model does not apply to the input shape (or a layer's size is not a literal)."""


def output_shapes(model: Model, input_shape: tuple[int, ...] | None = None) -> dict[str, tuple[int, ...]]:
    """Each node's output shape for one example: (H, W, C) channels last, or (features,)."""
    shapes: dict[str, tuple[int, ...]] = {}
    start = tuple(input_shape or model.input_shape or ())
    if not start:
        raise ShapeError("the input shape is unknown")
    shapes["input"] = start
    for node in model.nodes:
        shapes[node.name] = _layer_output(node, [shapes[name] for name in node.inputs])
    return shapes


def _known(value: Value | None, what: str) -> int:
    number = int_value(value)
    if number is None:
        raise ShapeError(f"{what} is not a literal integer")
    return number


def _layer_output(node: Node, inputs: list[tuple[int, ...]]) -> tuple[int, ...]:
    layer = node.layer
    shape = inputs[0]
    if isinstance(layer, (Conv2D, Pool2D)):
        if len(shape) != 3:
            raise ShapeError(f"{node.name} needs an image input, got shape {shape}")
        height, width, channels = shape
        if isinstance(layer, Conv2D):
            kernel = (_known(layer.kernel_size[0], "kernel size"), _known(layer.kernel_size[1], "kernel size"))
            strides = layer.strides
            if layer.in_channels is not None and int_value(layer.in_channels) != channels:
                raise ShapeError(f"{node.name} expects {layer.in_channels} input channels, gets {channels}")
            channels = _known(layer.filters, "filters")
            if layer.pads is not None:
                top, bottom, left, right = layer.pads
                height, width = height + top + bottom, width + left + right
        else:
            kernel = (_known(layer.pool_size[0], "pool size"), _known(layer.pool_size[1], "pool size"))
            strides = (_known(layer.strides[0], "pool stride"), _known(layer.strides[1], "pool stride"))
        sizes = []
        for size, k, s in zip((height, width), kernel, strides, strict=True):
            if layer.padding == "SAME":
                sizes.append(-(-size // s))
            elif getattr(layer, "ceil_mode", False):
                sizes.append(-(-(size - k) // s) + 1)
            else:
                sizes.append((size - k) // s + 1)
        if min(sizes) < 1:
            raise ShapeError(f"{node.name}: the input {shape} is too small")
        return (sizes[0], sizes[1], channels)
    if isinstance(layer, GlobalAvgPool2D):
        if len(shape) != 3:
            raise ShapeError(f"{node.name} needs an image input, got shape {shape}")
        return (1, 1, shape[2]) if layer.keepdims else (shape[2],)
    if isinstance(layer, Flatten):
        features = 1
        for dim in shape:
            features *= dim
        if layer.size is not None and int_value(layer.size) != features:
            raise ShapeError(f"{node.name} reshapes to {layer.size} features, but the tensor has {features} ({shape})")
        return (features,)
    if isinstance(layer, Dense):
        if len(shape) != 1:
            raise ShapeError(f"{node.name} needs a flat input, got shape {shape}")
        if layer.in_features is not None and int_value(layer.in_features) != shape[0]:
            raise ShapeError(f"{node.name} expects {int_value(layer.in_features)} features, gets {shape[0]}")
        return (_known(layer.units, "units"),)
    if isinstance(layer, BatchNorm):
        if layer.num_features is not None and layer.num_features != shape[-1]:
            raise ShapeError(f"{node.name} normalizes {layer.num_features} features, gets {shape[-1]}")
        return shape
    if isinstance(layer, Add):
        if any(other != shape for other in inputs[1:]):
            raise ShapeError(f"{node.name} adds tensors of different shapes {inputs}")
        return shape
    if isinstance(layer, Concatenate):
        if any(len(other) != len(shape) or other[:-1] != shape[:-1] for other in inputs[1:]):
            raise ShapeError(f"{node.name} concatenates tensors of incompatible shapes {inputs}")
        return (*shape[:-1], sum(other[-1] for other in inputs))
    return shape  # Dropout, Activation


# Layers that act on each feature alone: a permutation of the features passes through them.
_ELEMENTWISE = (Dropout, BatchNorm)


def _elementwise(layer: Layer) -> bool:
    return isinstance(layer, _ELEMENTWISE) or (isinstance(layer, Activation) and layer.kind not in ("softmax", "log_softmax"))


def flatten_feeding(model: Model, dense: Node) -> Node | None:
    """The Flatten whose output reaches `dense` through elementwise layers only, if any.

    Keras flattens (H, W, C) and PyTorch (C, H, W): that Dense's weight rows are permuted
    when weights are ported.
    """
    by_name = {node.name: node for node in model.nodes}
    current = by_name.get(dense.inputs[0]) if dense.inputs else None
    while current is not None:
        if isinstance(current.layer, Flatten):
            return current
        if not _elementwise(current.layer) or len(current.inputs) != 1:
            return None
        current = by_name.get(current.inputs[0])
    return None


def unabsorbed_flatten(model: Model) -> Node | None:
    """A Flatten of an image whose feature order would reach something other than a Dense.

    Flattening NHWC and NCHW orders features differently; a following Dense absorbs that in its
    ported weights, anything else (the model's output, a softmax over the features, a sum)
    would see the features in another order.
    """
    by_name = {node.name: node for node in model.nodes}
    users: dict[str, list[Node]] = {}
    for node in model.nodes:
        for name in node.inputs:
            users.setdefault(name, []).append(node)
    outputs = set(model.outputs or (model.nodes[-1].name,) if model.nodes else ())
    for node in model.nodes:
        if not isinstance(node.layer, Flatten):
            continue
        source = by_name.get(node.inputs[0]) if node.inputs else None
        if source is not None and isinstance(source.layer, GlobalAvgPool2D):
            continue  # a 1 x 1 map: both orders agree
        pending = [node]
        while pending:
            current = pending.pop()
            if current.name in outputs:
                return node
            for user in users.get(current.name, []):
                if isinstance(user.layer, Dense):
                    continue
                if not _elementwise(user.layer):
                    return node
                pending.append(user)
    return None
