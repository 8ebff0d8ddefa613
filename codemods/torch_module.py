"""PyTorch models <-> the model IR: `nn.Module` subclasses and `nn.Sequential` in, `nn.Sequential` out.

Before (torch):
    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(3, 32, 3)
            self.fc1 = nn.Linear(32 * 15 * 15, 10)
            self.pool = nn.MaxPool2d(2, 2)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = x.view(-1, 32 * 15 * 15)
            return F.log_softmax(self.fc1(x), dim=-1)

After (keras, emitted by codemods/keras_model.py):
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv1 = keras.layers.Conv2D(32, 3)
            self.fc1 = keras.layers.Dense(10)
            self.pool = keras.layers.MaxPool2D(2)

        def call(self, x):
            x = self.pool(keras.ops.relu(self.conv1(x)))
            x = keras.ops.reshape(x, (-1, 32 * 15 * 15))
            return keras.ops.log_softmax(self.fc1(x), axis=-1)

`Net()` still builds the model; the attributes keep their names. `X = nn.Sequential(...)` and
`return nn.Sequential(...)` become `keras.Sequential([...])`. Modules: Conv2d (padding 0, an
int / tuple or 'same'; explicit padding that is not SAME becomes a ZeroPadding2D), Linear,
MaxPool2d / AvgPool2d, AdaptiveAvgPool2d(1), Flatten, Dropout, BatchNorm1d / 2d (eps carried,
momentum m becomes Keras momentum 1 - m), ReLU / Tanh / Sigmoid / Softmax / LogSoftmax. In
`forward`: calls of those modules, `F.relu` / `torch.tanh`-style functions, `F.softmax` /
`F.log_softmax` over the channels, `x.view(-1, n)` / `x.reshape(-1, n)` / `torch.flatten(x, 1)`,
`a + b` and `torch.cat([...], dim=1)`. Inputs change layout: the Keras model takes NHWC.

Refuses when: `forward` has control flow (if / for / while: data-dependent), calls anything else
(an op with no Keras equivalent), or uses a module with weights more than once (shared layers);
`__init__` takes arguments or does anything but assign layers; a layer is custom or has options
Keras does not carry (dilation, groups, padding_mode, ceil_mode, pooling padding, momentum=None,
track_running_stats=False); a size is not a literal; a flattened image reaches anything but a
Linear (NHWC and NCHW flatten in different orders); `view`'s size disagrees with the next Linear.

Reverse (keras -> torch): a Keras `Sequential` (recognized by codemods/keras_model.py) becomes
`nn.Sequential(...)` with `in_channels` / `in_features` inferred from the input shape, fused
activations as separate modules, TF SAME padding as `padding=` when symmetric and an
`nn.ZeroPad2d` (the extra pixel bottom/right) when not, computed for the declared input size.
"""

from __future__ import annotations

import libcst as cst

from slimify import ir
from slimify import names as N
from slimify.ir import Activation, BatchNorm, Code, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, Model, Node, Pool2D
from slimify.model_syntax import Unsupported, bind, code, flag, float_text, integer, literal, number, pair, size_text
from slimify.rewrite import Names, Recognized, Refusal, Site

FAMILY = "torch_module"

_SIGNATURES = {
    "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode"),
    "Linear": ("in_features", "out_features", "bias"),
    "MaxPool2d": ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"),
    "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    "AdaptiveAvgPool2d": ("output_size",),
    "Flatten": ("start_dim", "end_dim"),
    "Dropout": ("p", "inplace"),
    "BatchNorm": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "ReLU": ("inplace",),
    "Tanh": (),
    "Sigmoid": (),
    "Softmax": ("dim",),
    "LogSoftmax": ("dim",),
}
_WEIGHTED = (Conv2D, Dense, BatchNorm)


def torch_layer(kind: str, call: cst.Call) -> ir.Layer:
    """The IR layer for one PyTorch module constructor."""
    args = bind(call, _SIGNATURES[kind], f"nn.{kind}")
    if kind == "Conv2d":
        if literal(args.get("padding_mode"), "padding_mode") not in (None, "zeros"):
            raise Unsupported("padding_mode other than 'zeros' has no Keras counterpart")
        if pair(args.get("dilation"), "dilation", 1) != (1, 1) or integer(args.get("groups"), "groups", 1) != 1:
            raise Unsupported("dilated or grouped convolutions are not translated")
        kernel = pair(args.get("kernel_size"), "kernel_size")
        stride = pair(args.get("stride"), "stride", 1)
        padding, pads = "VALID", None
        written = literal(args.get("padding"), "padding")
        if written == "same":
            padding = "SAME"  # PyTorch allows it for stride 1 only, where it pads like TensorFlow
        elif written not in (None, "valid"):
            ph, pw = pair(args.get("padding"), "padding")
            if stride == (1, 1) and all(k % 2 for k in kernel) and (ph, pw) == ((kernel[0] - 1) // 2, (kernel[1] - 1) // 2):
                padding = "SAME"  # stride 1, odd kernel: TensorFlow's SAME pads (k - 1) / 2 on each side too
            elif (ph, pw) != (0, 0):
                pads = (ph, ph, pw, pw)
        return Conv2D(
            filters=integer(args.get("out_channels"), "out_channels"),
            kernel_size=kernel,
            strides=stride,
            padding=padding,
            use_bias=flag(args.get("bias"), "bias", True),
            in_channels=integer(args.get("in_channels"), "in_channels"),
            pads=pads,
        )
    if kind == "Linear":
        return Dense(
            units=integer(args.get("out_features"), "out_features"),
            use_bias=flag(args.get("bias"), "bias", True),
            in_features=integer(args.get("in_features"), "in_features"),
        )
    if kind in ("MaxPool2d", "AvgPool2d"):
        if pair(args.get("padding"), "padding", 0) != (0, 0):
            raise Unsupported(f"nn.{kind} with padding has no Keras counterpart")
        if flag(args.get("ceil_mode"), "ceil_mode", False):
            raise Unsupported(f"nn.{kind} with ceil_mode=True has no exact Keras counterpart")
        dilated = kind == "MaxPool2d" and pair(args.get("dilation"), "dilation", 1) != (1, 1)
        if dilated or (kind == "MaxPool2d" and flag(args.get("return_indices"), "return_indices", False)):
            raise Unsupported("nn.MaxPool2d with dilation or return_indices")
        if kind == "AvgPool2d" and literal(args.get("divisor_override"), "divisor_override") is not None:
            raise Unsupported("nn.AvgPool2d with divisor_override")
        size = pair(args.get("kernel_size"), "kernel_size")
        stride = pair(args.get("stride"), "stride") if literal(args.get("stride"), "stride") is not None else size
        return Pool2D("max" if kind == "MaxPool2d" else "avg", size, stride)
    if kind == "AdaptiveAvgPool2d":
        if pair(args.get("output_size"), "output_size") != (1, 1):
            raise Unsupported("nn.AdaptiveAvgPool2d to a size other than 1")
        return GlobalAvgPool2D(keepdims=True)
    if kind == "Flatten":
        if integer(args.get("start_dim"), "start_dim", 1) != 1 or integer(args.get("end_dim"), "end_dim", -1) != -1:
            raise Unsupported("nn.Flatten over other dimensions")
        return Flatten()
    if kind == "Dropout":
        return Dropout(rate=number(args.get("p"), "p", 0.5))
    if kind == "BatchNorm":
        if literal(args.get("momentum"), "momentum") is None and args.get("momentum") is not None:
            raise Unsupported("BatchNorm with momentum=None (a cumulative average) has no Keras counterpart")
        if not flag(args.get("track_running_stats"), "track_running_stats", True):
            raise Unsupported("BatchNorm with track_running_stats=False has no Keras counterpart")
        affine = flag(args.get("affine"), "affine", True)
        return BatchNorm(
            epsilon=number(args.get("eps"), "eps", 1e-5),
            momentum=float(float_text(1 - number(args.get("momentum"), "momentum", 0.1))),
            center=affine,
            scale=affine,
            num_features=integer(args.get("num_features"), "num_features"),
        )
    if kind in ("Softmax", "LogSoftmax"):
        dim = literal(args.get("dim"), "dim")
        if dim != 1:
            raise Unsupported(f"nn.{kind} needs dim=1 (the channels) to translate, not {dim!r}")
        return Activation("softmax" if kind == "Softmax" else "log_softmax")
    return Activation({"ReLU": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid"}[kind])


def _module_kind(node: cst.BaseExpression, facts) -> tuple[str, cst.Call]:
    if not isinstance(node, cst.Call):
        raise Unsupported(f"`{code(node)}` is defined elsewhere and may be shared")
    qualified = facts.qname(node.func) or ""
    kind = N.TORCH_LAYER_KINDS.get(qualified)
    if kind is None:
        raise Unsupported(f"`{code(node.func)}` is a custom module or has no Keras equivalent")
    return kind, node


def _check(model: Model) -> Model:
    flattened = ir.unabsorbed_flatten(model)
    if flattened is not None:
        raise Unsupported("a flattened image reaches something other than a Linear layer (NHWC and NCHW flatten in different orders)")
    return model


class TorchSequential:
    """torch -> IR: `X = nn.Sequential(...)` or `return nn.Sequential(...)`."""

    family = FAMILY
    dialect = "torch"
    markers = ("Sequential",)

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        statement = site.statement
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return None
        small = statement.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
            target, value = small.targets[0].target.value, small.value
        elif isinstance(small, cst.Return) and small.value is not None and site.function is not None:
            target, value = None, small.value
        else:
            return None
        if not site.file.is_call_to(value, N.TORCH_SEQUENTIAL):
            return None
        try:
            nodes: list[Node] = []
            for arg in value.args:
                if arg.keyword or arg.star:
                    raise Unsupported("nn.Sequential takes its modules as positional arguments here")
                layer = torch_layer(*_module_kind(arg.value, site.file))
                nodes.append(Node(f"layer{len(nodes)}", layer, (nodes[-1].name if nodes else "input",)))
            if not nodes:
                raise Unsupported("an empty nn.Sequential")
            name = target or (site.function.name.value if site.function else "model")
            extras = {"style": "sequential", "target": target}
            model = _check(Model(name, None, tuple(nodes), (nodes[-1].name,), extras))
        except Unsupported as reason:
            return Refusal(FAMILY, site.file.line_of(statement), f"PyTorch model not translated: {reason}")
        return Recognized(FAMILY, 1, model, releases=(N.TORCH,))


class TorchModuleClass:
    """torch -> IR: `class Net(nn.Module)` with layers in `__init__` and a straight-line `forward`."""

    family = FAMILY
    dialect = "torch"
    markers = ("Module",)

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        statement = site.statement
        if not isinstance(statement, cst.ClassDef) or len(statement.bases) != 1:
            return None
        if site.file.qname(statement.bases[0].value) != N.TORCH_MODULE:
            return None
        try:
            model = _read_module(statement, site.file)
        except Unsupported as reason:
            return Refusal(FAMILY, site.file.line_of(statement), f"PyTorch model not translated: {reason}")
        return Recognized(FAMILY, 1, model, releases=(N.TORCH,))


def _methods(statement: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    methods: dict[str, cst.FunctionDef] = {}
    body = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ()
    for position, member in enumerate(body):
        if isinstance(member, cst.FunctionDef) and not member.decorators:
            methods[member.name.value] = member
        elif position == 0 and isinstance(member, cst.SimpleStatementLine) and isinstance(member.body[0], cst.Expr):
            continue  # a docstring
        else:
            raise Unsupported("the class body holds more than __init__ and forward")
    if set(methods) != {"__init__", "forward"}:
        raise Unsupported("the class defines methods other than __init__ and forward")
    return methods


def _parameters(function: cst.FunctionDef) -> list[str]:
    params = function.params
    if params.star_arg not in (None, cst.MaybeSentinel.DEFAULT) or params.kwonly_params or params.star_kwarg or params.posonly_params:
        raise Unsupported(f"{function.name.value} takes *args, **kwargs or keyword-only arguments")
    if any(p.default is not None for p in params.params):
        raise Unsupported(f"{function.name.value} has default arguments")
    return [p.name.value for p in params.params]


def _read_module(statement: cst.ClassDef, facts) -> Model:
    methods = _methods(statement)
    if _parameters(methods["__init__"]) != ["self"]:
        raise Unsupported("__init__ takes arguments; the model's sizes must be literals")
    attributes: dict[str, ir.Layer] = {}
    for position, line in enumerate(methods["__init__"].body.body):
        small = line.body[0] if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 else None
        if position == 0 and isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and _is_super_init(small.value):
            continue
        target = small.targets[0].target if isinstance(small, cst.Assign) and len(small.targets) == 1 else None
        if not (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self"):
            raise Unsupported(f"__init__ does more than assign layers (line `{code(line).strip()}`)")
        attributes[target.attr.value] = torch_layer(*_module_kind(small.value, facts))
    forward = methods["forward"]
    parameters = _parameters(forward)
    if len(parameters) != 2:
        raise Unsupported("forward takes more than one input")
    reader = _ForwardReader(attributes, facts, parameters[1])
    reader.read(forward)
    extras = {
        "style": "module",
        "attributes": attributes,
        "statements": reader.statements,
        "parameter": parameters[1],
        "reads": reader.reads,
    }
    first = statement.body.body[0] if isinstance(statement.body, cst.IndentedBlock) else None
    if isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr):
        extras["docstring"] = code(first.body[0]).strip()
    return _check(Model(statement.name.value, None, tuple(reader.nodes), reader.outputs, extras))


def _is_super_init(call: cst.Call) -> bool:
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == "__init__"
        and isinstance(func.value, cst.Call)
        and isinstance(func.value.func, cst.Name)
        and func.value.func.value == "super"
        and not call.args
    )


class _ForwardReader:
    """Straight-line `forward` -> IR nodes, and which variable each statement assigned."""

    def __init__(self, attributes: dict[str, ir.Layer], facts, parameter: str) -> None:
        self.attributes = attributes
        self.facts = facts
        self.nodes: list[Node] = []
        self.rank: dict[str, int] = {"input": 4}
        self.env: dict[str, str] = {parameter: "input"}
        self.statements: list[tuple[str | None, str, str | None]] = []  # (assigned variable, node, variable read)
        self.outputs: tuple[str, ...] = ()
        self.used: set[str] = set()
        # Which variable forward read each operand from (None for a nested expression), so the
        # Keras `call` reads the same variables: `out + identity` stays `out + identity`.
        self.reads: dict[str, tuple[str | None, ...]] = {}
        self._operands: list[str | None] = []

    def operand(self, node: cst.BaseExpression) -> str:
        name = self.expression(node)
        self._operands.append(node.value if isinstance(node, cst.Name) else None)
        return name

    def read(self, forward: cst.FunctionDef) -> None:
        body = forward.body.body if isinstance(forward.body, cst.IndentedBlock) else ()
        for position, line in enumerate(body):
            if isinstance(line, (cst.If, cst.For, cst.While, cst.Try, cst.With)):
                raise Unsupported("forward has control flow (it may depend on the data)")
            if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
                raise Unsupported(f"forward statement `{code(line).strip()}` is not translated")
            small = line.body[0]
            if isinstance(small, cst.Return) and small.value is not None and position == len(body) - 1:
                node = self.expression(small.value)
                self.statements.append((None, node, _spelled(small.value)))
                self.outputs = (node,)
                return
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                node = self.expression(small.value)
                variable = small.targets[0].target.value
                self.env[variable] = node
                self.statements.append((variable, node, _spelled(small.value)))
                continue
            raise Unsupported(f"forward statement `{code(line).strip()}` is not translated")
        raise Unsupported("forward does not end in `return`")

    def add(self, layer: ir.Layer, inputs: tuple[str, ...], attribute: str | None = None, rank: int | None = None) -> str:
        name = f"node{len(self.nodes)}"
        self.reads[name] = tuple(self._operands[-len(inputs) :])
        del self._operands[-len(inputs) :]
        self.nodes.append(Node(name, layer, inputs, attribute))
        self.rank[name] = rank if rank is not None else self.rank[inputs[0]]
        return name

    def expression(self, node: cst.BaseExpression) -> str:
        facts = self.facts
        if isinstance(node, cst.Name):
            if node.value not in self.env:
                raise Unsupported(f"forward reads `{node.value}`, which it did not compute")
            return self.env[node.value]
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            left, right = self.operand(node.left), self.operand(node.right)
            return self.add(ir.Add(), (left, right))
        if not isinstance(node, cst.Call):
            raise Unsupported(f"`{code(node)}` in forward has no Keras equivalent")
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            return self._module_call(func.attr.value, node)
        qualified = facts.qname(func)
        if qualified in N.TORCH_ACTIVATION_FUNCTIONS:
            kind = N.TORCH_ACTIVATION_FUNCTIONS[qualified]
            signature = ("input", "dim") if kind in ("softmax", "log_softmax") else ("input",)
            args = bind(node, signature + ("inplace",), code(func))
            source = self.operand(args["input"])
            if kind in ("softmax", "log_softmax"):
                self._channel_dim(args.get("dim"), source, code(func))
            return self.add(Activation(kind), (source,))
        if qualified == N.TORCH_FLATTEN:
            args = bind(node, ("input", "start_dim", "end_dim"), "torch.flatten")
            if integer(args.get("start_dim"), "start_dim", 0) != 1 or integer(args.get("end_dim"), "end_dim", -1) != -1:
                raise Unsupported("torch.flatten needs start_dim=1 to translate")
            return self._flatten(self.operand(args["input"]), None)
        if qualified in N.TORCH_CAT:
            args = bind(node, ("tensors", "dim"), "torch.cat")
            tensors = args.get("tensors")
            if not isinstance(tensors, (cst.List, cst.Tuple)):
                raise Unsupported("torch.cat of tensors not written out")
            inputs = tuple(self.operand(e.value) for e in tensors.elements)
            self._channel_dim(args.get("dim"), inputs[0], "torch.cat")
            return self.add(ir.Concatenate(), inputs)
        if isinstance(func, cst.Attribute) and func.attr.value in ("view", "reshape") and qualified is None:
            return self._view(func.value, node)
        raise Unsupported(f"`{code(func)}` in forward has no Keras equivalent here")

    def _module_call(self, attribute: str, call: cst.Call) -> str:
        if attribute not in self.attributes:
            raise Unsupported(f"forward calls `self.{attribute}`, which __init__ does not define as a layer")
        if len(call.args) != 1 or call.args[0].keyword or call.args[0].star:
            raise Unsupported(f"`self.{attribute}` is called with more than one input")
        layer = self.attributes[attribute]
        if isinstance(layer, _WEIGHTED) and attribute in self.used:
            raise Unsupported(f"`self.{attribute}` is used in several places (a shared layer)")
        self.used.add(attribute)
        source = self.operand(call.args[0].value)
        if isinstance(layer, (Conv2D, Pool2D, GlobalAvgPool2D)) and self.rank[source] != 4:
            raise Unsupported(f"`self.{attribute}` is applied to a flat tensor")
        if isinstance(layer, Activation) and layer.kind in ("softmax", "log_softmax") and self.rank[source] not in (2, 4):
            raise Unsupported(f"`self.{attribute}` is applied to a tensor of unknown rank")
        rank = 2 if isinstance(layer, (Flatten, Dense)) else None
        return self.add(layer, (source,), attribute, rank)

    def _channel_dim(self, node: cst.BaseExpression | None, source: str, what: str) -> None:
        dim = literal(node, "dim") if node is not None else None
        # dim 1 is the channels in NCHW (and the features of a flat tensor): Keras's last axis.
        if not (dim == 1 or (dim == -1 and self.rank[source] == 2)):
            raise Unsupported(f"{what} over dim={dim!r} is not the channel dimension")

    def _flatten(self, source: str, size: Code | None) -> str:
        if self.rank[source] != 4:
            raise Unsupported("a reshape of a tensor that is not an image")
        return self.add(Flatten(size=size), (source,), rank=2)

    def _view(self, tensor: cst.BaseExpression, call: cst.Call) -> str:
        args = [a for a in call.args]
        if len(args) != 2 or any(a.keyword or a.star for a in args):
            raise Unsupported(f"`{code(call)}` is not `x.view(-1, n)` or `x.view(x.size(0), -1)`")
        source = self.operand(tensor)
        first, second = literal(args[0].value, "view size") if _is_literal(args[0].value) else None, args[1].value
        if first == -1:
            size = literal(second, "the view size")
            if ir.int_value(size) is None:
                raise Unsupported(f"the view size `{code(second)}` is not an integer")
            return self._flatten(source, size if isinstance(size, Code) else Code(code(second)))
        if _is_batch_size(args[0].value, tensor) and _is_literal(second) and literal(second, "view size") == -1:
            return self._flatten(source, None)
        raise Unsupported(f"`{code(call)}` is not `x.view(-1, n)` or `x.view(x.size(0), -1)`")


def _spelled(node: cst.BaseExpression) -> str | None:
    return node.value if isinstance(node, cst.Name) else None


def _is_literal(node: cst.BaseExpression) -> bool:
    try:
        literal(node, "")
    except Unsupported:
        return False
    return True


def _is_batch_size(node: cst.BaseExpression, tensor: cst.BaseExpression) -> bool:
    """`x.size(0)` or `x.shape[0]` of the tensor being reshaped."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "size":
        return code(node.func.value) == code(tensor) and len(node.args) == 1 and code(node.args[0].value) == "0"
    if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute) and node.value.attr.value == "shape":
        return code(node.value.value) == code(tensor) and code(node.slice[0].slice) == "0" if len(node.slice) == 1 else False
    return False


# ---------------------------------------------------------------------------------------------
# IR -> PyTorch


class TorchModuleEmitter:
    """IR -> torch: `nn.Sequential(...)` for a sequential model (sizes inferred from the input shape)."""

    dialect = "torch"
    layer_types = (Model,)

    def emit(self, model: Model, names: Names) -> list[cst.BaseStatement] | Refusal:
        try:
            if model.extras.get("style") != "sequential":
                raise Unsupported("only sequential models are emitted as PyTorch so far")
            return [_emit_sequential(model, names)]
        except Unsupported as reason:
            return Refusal(FAMILY, model.extras.get("line", 1), f"no PyTorch translation: {reason}")


def _emit_sequential(model: Model, names: Names) -> cst.BaseStatement:
    try:
        shapes = ir.output_shapes(model)
    except ir.ShapeError as error:
        raise Unsupported(str(error)) from None
    nn = lambda kind: code(names.ref(f"torch.nn.{kind}"))  # noqa: E731
    made: list[str] = []
    for node in model.nodes:
        shape = shapes[node.inputs[0]]
        layer = node.layer
        if isinstance(layer, Conv2D):
            made += _conv(layer, shape, nn)
        elif isinstance(layer, Dense):
            bias = "" if layer.use_bias else ", bias=False"
            made.append(f"{nn('Linear')}({shape[0]}, {layer.units}{bias})")
        elif isinstance(layer, Pool2D):
            made.append(_pool(layer, shape, nn))
        elif isinstance(layer, GlobalAvgPool2D):
            made.append(f"{nn('AdaptiveAvgPool2d')}(1)")
            if not layer.keepdims:
                made.append(f"{nn('Flatten')}()")
        elif isinstance(layer, Flatten):
            made.append(f"{nn('Flatten')}()")
        elif isinstance(layer, Dropout):
            made.append(f"{nn('Dropout')}({layer.rate})")
        elif isinstance(layer, BatchNorm):
            kind = "BatchNorm2d" if len(shape) == 3 else "BatchNorm1d"
            affine = "" if layer.center else ", affine=False"
            made.append(f"{nn(kind)}({shape[-1]}, eps={float_text(layer.epsilon)}, momentum={float_text(1 - layer.momentum)}{affine})")
        elif isinstance(layer, Activation):
            simple = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}
            if layer.kind in simple:
                made.append(f"{nn(simple[layer.kind])}()")
            else:  # Keras's last axis: the channels, dim 1 in NCHW and in a flat tensor
                made.append(f"{nn('Softmax' if layer.kind == 'softmax' else 'LogSoftmax')}(dim=1)")
        else:
            raise Unsupported(f"{type(layer).__name__} has no PyTorch module here")
    indent = ""  # LibCST keeps the lines inside brackets relative to the enclosing block's indentation
    body = "\n".join(f"{indent}    {m}," for m in made)
    call = f"{nn('Sequential')}(\n{body}\n{indent})"
    target = model.extras.get("target")
    return cst.parse_statement(f"return {call}\n" if target is None else f"{target} = {call}\n")


def _conv(layer: Conv2D, shape: tuple[int, ...], nn) -> list[str]:
    height, width, channels = shape
    kernel = tuple(ir.int_value(k) for k in layer.kernel_size)
    args = [str(channels), str(layer.filters), size_text(kernel)]
    if layer.strides != (1, 1):
        args.append(f"stride={size_text(tuple(layer.strides))}")
    made = []
    if layer.padding == "SAME":
        # TensorFlow pads the odd pixel after (bottom / right); PyTorch's padding= is symmetric.
        top, bottom = ir.same_pads(height, kernel[0], layer.strides[0])
        left, right = ir.same_pads(width, kernel[1], layer.strides[1])
        if (top, left) != (bottom, right):
            made.append(f"{nn('ZeroPad2d')}(({left}, {right}, {top}, {bottom}))")
        elif (top, left) != (0, 0):
            args.append(f"padding={size_text((top, left))}")
    if not layer.use_bias:
        args.append("bias=False")
    made.append(f"{nn('Conv2d')}({', '.join(args)})")
    return made


def _pool(layer: Pool2D, shape: tuple[int, ...], nn) -> str:
    kind = "MaxPool2d" if layer.kind == "max" else "AvgPool2d"
    size, strides = tuple(layer.pool_size), tuple(layer.strides)
    args = [size_text(size)] + ([] if strides == size else [f"stride={size_text(strides)}"])
    if layer.padding == "SAME":
        pads = [ir.same_pads(n, k, s) for n, k, s in zip(shape[:2], size, strides, strict=True)]
        if any(before for before, _ in pads) or (any(after for _, after in pads) and size != strides):
            raise Unsupported(f"SAME pooling of a {shape[0]}x{shape[1]} input pads before the first window; PyTorch cannot")
        if any(after for _, after in pads):
            # The padded pixel only completes the last window; ceil_mode keeps that partial window.
            args.append("ceil_mode=True")
    return f"{nn(kind)}({', '.join(args)})"


RECOGNIZERS = [TorchSequential(), TorchModuleClass()]
EMITTERS = [TorchModuleEmitter()]
