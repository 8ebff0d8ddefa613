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
`a + b` and `torch.cat([...], dim=1)`, `F.max_pool2d` / `F.avg_pool2d` (as `keras.ops.max_pool` /
`average_pool`), `F.adaptive_avg_pool2d(x, 1)` / `torch.mean(x, dim=(2, 3))`, and
`F.dropout(x, p, training=self.training)` (a Keras Dropout layer). Containers: `self.features =
nn.Sequential(...)` (a keras.Sequential); `nn.ModuleList([...])`, `nn.ModuleList([m for _ in
range(3)])` or `.append(m)` in `for i in range(3):` (a Python list of Keras layers; the loop
variable may appear in the sizes), with `for block in self.blocks:` in forward unrolled, since
the list's length is a literal. Inputs change layout: the Keras model takes NHWC.

Refuses when: `forward` has control flow (if / while, a for loop not over an nn.ModuleList:
data-dependent), an `nn.ModuleList` is filled over a `range` whose bounds are not literals, an
`F.dropout` lacks `training=self.training` (it would drop in evaluation too), an attribute is
named like a keras.Model member (`self.layers`), `forward` calls anything else
(an op with no Keras equivalent), or uses a module with weights more than once (shared layers);
`__init__` takes arguments or does anything but assign layers; a layer is custom or has options
Keras does not carry (dilation, groups, padding_mode, ceil_mode, pooling padding, momentum=None,
track_running_stats=False); a size is not a literal; a flattened image reaches anything but a
Linear (NHWC and NCHW flatten in different orders); `view`'s size disagrees with the next Linear.

Reverse (keras -> torch): a Keras `Sequential` (recognized by codemods/keras_model.py) becomes
`nn.Sequential(...)`, a functional graph a class `nn.Module` subclass; `in_channels` /
`in_features` inferred from the input shape, fused activations as separate modules. TF SAME
padding must hold for every input size, not only the declared one (a Keras Sequential runs on
any size): `padding=` when it is the same on both sides whatever the size (stride 1, odd
kernel), `nn.ZeroPad2d` when fixed but lopsided (stride 1, even kernel), and a small
`SamePad2d` module written into the file, which pads from each input's size, when it depends on
the size (stride > 1). SAME pooling becomes `padding=` (stride 1) or `ceil_mode=True`; pooling
whose SAME padding falls before the first window for some sizes is refused.
"""

from __future__ import annotations

import libcst as cst

from slimify import ir
from slimify import names as N
from slimify.dataflow import substitute_names
from slimify.ir import Activation, BatchNorm, Code, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, Model, Node, Pool2D
from slimify.model_syntax import Unsupported, bind, code, flag, float_text, integer, literal, number, pair, replay, size_text
from slimify.rewrite import Names, Recognized, Refusal, Site

FAMILY = "torch_module"
LAYOUT_NOTE = (
    "the input layout changes: the PyTorch model takes NCHW images, the Keras model NHWC (x.transpose(0, 2, 3, 1)); "
    "trained weights are carried over with slimify.model_port.port_weights (see the README)"
)

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
TORCH_MODULE_LIST = "torch.nn.ModuleList"
TORCH_POOL_FUNCTIONS = {"torch.nn.functional.max_pool2d": "max", "torch.nn.functional.avg_pool2d": "avg"}
TORCH_DROPOUT_FUNCTION = "torch.nn.functional.dropout"
TORCH_ADAPTIVE_AVG_POOL_FUNCTION = "torch.nn.functional.adaptive_avg_pool2d"
TORCH_MEAN = "torch.mean"


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
        return _pool_layer(kind, args)
    return _other_layer(kind, args)


def _pool_layer(kind: str, args: dict) -> ir.Layer:
    """`nn.MaxPool2d(...)` / `F.max_pool2d(x, ...)` (the same arguments after the input)."""
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


def _other_layer(kind: str, args: dict) -> ir.Layer:
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
            extras = {"style": "sequential", "target": target, "line": site.file.line_of(statement)}
            model = _check(Model(name, None, tuple(nodes), (nodes[-1].name,), extras))
        except Unsupported as reason:
            return Refusal(FAMILY, site.file.line_of(statement), f"PyTorch model not translated: {reason}")
        return Recognized(FAMILY, 1, model, releases=(N.TORCH,), note=LAYOUT_NOTE)


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
        model.extras["line"] = site.file.line_of(statement)
        return Recognized(FAMILY, 1, model, releases=(N.TORCH,), note=LAYOUT_NOTE)


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
    attributes = _init_layers(methods["__init__"], facts)
    forward = methods["forward"]
    parameters = _parameters(forward)
    if len(parameters) != 2:
        raise Unsupported("forward takes more than one input")
    reader = _ForwardReader(attributes, facts, parameters[1])
    reader.read(forward)
    extras = {
        "style": "module",
        "attributes": reader.attributes,
        "statements": reader.statements,
        "parameter": parameters[1],
        "reads": reader.reads,
        "groups": reader.groups,
    }
    first = statement.body.body[0] if isinstance(statement.body, cst.IndentedBlock) else None
    if isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr):
        extras["docstring"] = code(first.body[0]).strip()
    return _check(Model(statement.name.value, None, tuple(reader.nodes), reader.outputs, extras))


def _self_attribute(node: cst.BaseExpression | None) -> str | None:
    """`conv1` for `self.conv1`."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def _init_layers(init: cst.FunctionDef, facts) -> dict[str, ir.Layer | ir.LayerGroup]:
    """The layers `__init__` assigns: modules, `nn.Sequential(...)` and `nn.ModuleList` (a list, a
    comprehension over a literal `range`, or `.append` in a `for` loop over one)."""
    attributes: dict[str, ir.Layer | ir.LayerGroup] = {}
    appending: dict[str, list[ir.Layer]] = {}  # `self.blocks = nn.ModuleList()` still being filled
    for position, line in enumerate(init.body.body):
        if isinstance(line, cst.For):
            _append_loop(line, facts, appending)
            continue
        small = line.body[0] if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 else None
        if position == 0 and isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and _is_super_init(small.value):
            continue
        appended = _appended(small)
        if appended is not None and appended[0] in appending:
            appending[appended[0]].append(torch_layer(*_module_kind(appended[1], facts)))
            continue
        target = _self_attribute(small.targets[0].target) if isinstance(small, cst.Assign) and len(small.targets) == 1 else None
        if target is None:
            raise Unsupported(f"__init__ does more than assign layers (line `{code(line).strip()}`)")
        value = small.value
        qualified = facts.qname(value.func) if isinstance(value, cst.Call) else None
        if qualified == TORCH_MODULE_LIST:
            layers = _module_list(value, facts)
            if layers is None:
                appending[target] = []
                attributes[target] = ir.LayerGroup("list", ())  # keeps its place; filled below
            else:
                attributes[target] = ir.LayerGroup("list", tuple(layers))
        elif qualified == N.TORCH_SEQUENTIAL:
            if any(arg.keyword or arg.star for arg in value.args) or not value.args:
                raise Unsupported(f"`self.{target} = nn.Sequential(...)` does not list its modules")
            attributes[target] = ir.LayerGroup("sequential", tuple(torch_layer(*_module_kind(a.value, facts)) for a in value.args))
        else:
            attributes[target] = torch_layer(*_module_kind(value, facts))
    for target, layers in appending.items():
        if not layers:
            raise Unsupported(f"`self.{target}` is an nn.ModuleList that __init__ leaves empty")
        attributes[target] = ir.LayerGroup("list", tuple(layers))
    return attributes


def _appended(small: cst.BaseSmallStatement | None) -> tuple[str, cst.BaseExpression] | None:
    """(`blocks`, the module) for `self.blocks.append(module)`."""
    if not (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)):
        return None
    call = small.value
    if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "append") or len(call.args) != 1:
        return None
    target = _self_attribute(call.func.value)
    return (target, call.args[0].value) if target is not None else None


def _module_list(call: cst.Call, facts) -> list[ir.Layer] | None:
    """The layers of `nn.ModuleList([...])` or `nn.ModuleList([module for i in range(n)])`; None for `nn.ModuleList()`."""
    if not call.args:
        return None
    if len(call.args) != 1 or call.args[0].keyword or call.args[0].star:
        raise Unsupported("nn.ModuleList(...) takes one list here")
    value = call.args[0].value
    if isinstance(value, (cst.List, cst.Tuple)):
        return [torch_layer(*_module_kind(e.value, facts)) for e in value.elements]
    if isinstance(value, cst.ListComp) and value.for_in.inner_for_in is None and not value.for_in.ifs:
        variable, numbers = _loop_over_range(value.for_in.target, value.for_in.iter)
        return [_unrolled_layer(value.elt, variable, n, facts) for n in numbers]
    raise Unsupported(f"`{code(value)}` in nn.ModuleList is not a list of modules or a comprehension over range(n)")


def _append_loop(loop: cst.For, facts, appending: dict[str, list[ir.Layer]]) -> None:
    """`for i in range(3): self.blocks.append(nn.Conv2d(...))`, unrolled."""
    if loop.orelse is not None or loop.asynchronous is not None:
        raise Unsupported("a for loop with else in __init__")
    variable, numbers = _loop_over_range(loop.target, loop.iter)
    body = loop.body.body if isinstance(loop.body, cst.IndentedBlock) else ()
    for iteration in numbers:
        for line in body:
            small = line.body[0] if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 else None
            appended = _appended(small)
            if appended is None or appended[0] not in appending:
                raise Unsupported(f"the loop in __init__ does more than append to an nn.ModuleList (line `{code(line).strip()}`)")
            appending[appended[0]].append(_unrolled_layer(appended[1], variable, iteration, facts))


def _loop_over_range(target: cst.BaseExpression, iterable: cst.BaseExpression) -> tuple[str | None, range]:
    """`i`, range(3) for `for i in range(3)`: the bounds must be literals to unroll the loop."""
    if not (isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and iterable.func.value == "range"):
        raise Unsupported(f"a loop over `{code(iterable)}` in __init__: only `range(n)` with a literal n is unrolled")
    if not isinstance(target, cst.Name):
        raise Unsupported(f"the loop variable `{code(target)}` is not a name")
    bounds = []
    for arg in iterable.args:
        if arg.keyword or arg.star or not _is_literal(arg.value) or ir.int_value(literal(arg.value, "")) is None:
            raise Unsupported(f"`{code(iterable)}`: the number of layers is only known at run time (range needs literal bounds)")
        bounds.append(ir.int_value(literal(arg.value, "")))
    numbers = range(*bounds)
    if not numbers or len(numbers) > 64:
        raise Unsupported(f"`{code(iterable)}` makes {len(numbers)} layers")
    return (None if target.value == "_" else target.value), numbers


def _unrolled_layer(node: cst.BaseExpression, variable: str | None, value: int, facts) -> ir.Layer:
    """The layer one loop iteration constructs (the module is resolved on the original tree)."""
    kind, _ = _module_kind(node, facts)
    return torch_layer(kind, node if variable is None else substitute_names(node, {variable: cst.Integer(str(value))}))


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

    def __init__(self, attributes: dict[str, ir.Layer | ir.LayerGroup], facts, parameter: str) -> None:
        self.attributes = dict(attributes)
        self.loop_modules: dict[str, str] = {}  # `block` in `for block in self.blocks` -> "blocks[i]"
        # A call of an `nn.Sequential` attribute: its last node -> its first, so the Keras `call`
        # calls the container once instead of each layer.
        self.groups: dict[str, str] = {}
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
            if isinstance(line, cst.For) and self._module_loop(line):
                continue
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

    def _module_loop(self, loop: cst.For) -> bool:
        """`for block in self.blocks: x = F.relu(block(x))`, unrolled over the nn.ModuleList.

        The list's length is known from __init__, so the loop runs the same for every input.
        False when the loop is not over a ModuleList attribute (the caller refuses it).
        """
        container = _self_attribute(loop.iter)
        group = self.attributes.get(container) if container else None
        if not isinstance(group, ir.LayerGroup) or group.kind != "list" or not isinstance(loop.target, cst.Name):
            return False
        if loop.orelse is not None:
            raise Unsupported("a for loop with else in forward")
        body = loop.body.body if isinstance(loop.body, cst.IndentedBlock) else ()
        for index in range(len(group.layers)):
            self.loop_modules[loop.target.value] = f"{container}[{index}]"
            for line in body:
                small = line.body[0] if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 else None
                if not (isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name)):
                    raise Unsupported(f"the loop over `self.{container}` does more than assign (line `{code(line).strip()}`)")
                node = self.expression(small.value)
                variable = small.targets[0].target.value
                self.env[variable] = node
                self.statements.append((variable, node, _spelled(small.value)))
        del self.loop_modules[loop.target.value]
        return True

    def _layer_at(self, path: str) -> ir.Layer | ir.LayerGroup | None:
        """The layer at `conv1` or `blocks[2]`."""
        name, _, index = path.partition("[")
        layer = self.attributes.get(name)
        if index and isinstance(layer, ir.LayerGroup):
            position = int(index.rstrip("]"))
            return layer.layers[position] if position < len(layer.layers) else None
        return None if index else layer

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
        if isinstance(func, cst.Name) and func.value in self.loop_modules:
            return self._module_call(self.loop_modules[func.value], node)
        if isinstance(func, cst.Subscript) and _self_attribute(func.value) and len(func.slice) == 1:
            index = func.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, cst.Integer):
                return self._module_call(f"{_self_attribute(func.value)}[{index.value.evaluated_value}]", node)
        qualified = facts.qname(func)
        if qualified in TORCH_POOL_FUNCTIONS:
            kind = "MaxPool2d" if TORCH_POOL_FUNCTIONS[qualified] == "max" else "AvgPool2d"
            args = bind(node, ("input",) + _SIGNATURES[kind], code(func))
            source = self.operand(args["input"])
            if self.rank[source] != 4:
                raise Unsupported(f"`{code(func)}` is applied to a flat tensor")
            return self.add(_pool_layer(kind, args), (source,))
        if qualified == TORCH_DROPOUT_FUNCTION:
            return self._dropout(node)
        if qualified == TORCH_MEAN:
            return self._spatial_mean(node)
        if qualified == TORCH_ADAPTIVE_AVG_POOL_FUNCTION:
            args = bind(node, ("input", "output_size"), code(func))
            if pair(args.get("output_size"), "output_size") != (1, 1):
                raise Unsupported(f"`{code(func)}` to a size other than 1")
            source = self.operand(args["input"])
            if self.rank[source] != 4:
                raise Unsupported(f"`{code(func)}` is applied to a flat tensor")
            return self.add(GlobalAvgPool2D(keepdims=True), (source,))
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
        layer = self._layer_at(attribute)
        if layer is None:
            raise Unsupported(f"forward calls `self.{attribute}`, which __init__ does not define as a layer")
        if len(call.args) != 1 or call.args[0].keyword or call.args[0].star:
            raise Unsupported(f"`self.{attribute}` is called with more than one input")
        if isinstance(layer, ir.LayerGroup) and layer.kind == "list":
            raise Unsupported(f"the nn.ModuleList `self.{attribute}` is called like a module")
        weighted = any(isinstance(one, _WEIGHTED) for one in (layer.layers if isinstance(layer, ir.LayerGroup) else (layer,)))
        if weighted and attribute in self.used:
            raise Unsupported(f"`self.{attribute}` is used in several places (a shared layer)")
        self.used.add(attribute)
        source = self.operand(call.args[0].value)
        if isinstance(layer, ir.LayerGroup):  # an nn.Sequential: its layers one after the other
            first = None
            for index, inner in enumerate(layer.layers):
                if index:  # the first layer reads the call's argument, the others the layer before
                    self._operands.append(None)
                source = self._apply_module(f"{attribute}[{index}]", inner, source)
                first = first or source
            self.groups[source] = first
            return source
        return self._apply_module(attribute, layer, source)

    def _apply_module(self, attribute: str, layer: ir.Layer, source: str) -> str:
        if isinstance(layer, (Conv2D, Pool2D, GlobalAvgPool2D)) and self.rank[source] != 4:
            raise Unsupported(f"`self.{attribute}` is applied to a flat tensor")
        if isinstance(layer, Activation) and layer.kind in ("softmax", "log_softmax") and self.rank[source] not in (2, 4):
            raise Unsupported(f"`self.{attribute}` is applied to a tensor of unknown rank")
        rank = 2 if isinstance(layer, (Flatten, Dense)) else None
        return self.add(layer, (source,), attribute, rank)

    def _spatial_mean(self, call: cst.Call) -> str:
        """`torch.mean(x, dim=(2, 3))`: a global average pool (over H and W in NCHW)."""
        args = bind(call, ("input", "dim", "keepdim", "dtype"), "torch.mean")
        if "dtype" in args or tuple(literal(args.get("dim"), "dim") or ()) not in ((2, 3), (-2, -1)):
            raise Unsupported("torch.mean over dimensions other than the spatial ones (2, 3)")
        source = self.operand(args["input"])
        if self.rank[source] != 4:
            raise Unsupported("torch.mean of a tensor that is not an image")
        keepdims = flag(args.get("keepdim"), "keepdim", False)
        return self.add(GlobalAvgPool2D(keepdims=keepdims), (source,), rank=4 if keepdims else 2)

    def _dropout(self, call: cst.Call) -> str:
        """`F.dropout(x, p, training=self.training)`: a Keras Dropout layer, which knows when it trains.

        Without `training=self.training`, F.dropout drops in evaluation too; Keras never does.
        """
        args = bind(call, ("input", "p", "training", "inplace"), code(call.func))
        if _self_attribute(args.get("training")) != "training":
            raise Unsupported(f"`{code(call)}` drops even in evaluation (pass training=self.training); a Keras Dropout does not")
        source = self.operand(args["input"])
        attribute, count = "dropout", 1
        while attribute in self.attributes:
            count += 1
            attribute = f"dropout{count}"
        self.attributes[attribute] = Dropout(rate=number(args.get("p"), "p", 0.5))
        return self.add(self.attributes[attribute], (source,), attribute)

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
    """IR -> torch: `nn.Sequential(...)` for a sequential model, an `nn.Module` subclass for a graph
    (sizes inferred from the input shape in both)."""

    dialect = "torch"
    layer_types = (Model,)

    def emit(self, model: Model, names: Names) -> list[cst.BaseStatement] | Refusal:
        try:
            style = model.extras.get("style")
            if style == "sequential":
                return _emit_sequential(model, names)
            if style == "functional":
                return _emit_module_class(model, names)
            raise Unsupported(f"a {style} model has no PyTorch emitter")
        except Unsupported as reason:
            return Refusal(FAMILY, model.extras.get("line", 1), f"no PyTorch translation: {reason}")


SAME_PAD_CLASS = "SamePad2d"

_SAME_PAD_SOURCE = """\
class {name}({module}):
    \"\"\"Zero padding like TensorFlow's padding='same', for any input size.\"\"\"

    # With a stride above 1 how much SAME pads depends on the input size (a 3 x 3 stride-2
    # kernel pads (0, 1) on an even size, (1, 1) on an odd one), so it is computed from each
    # input: the output keeps ceil(size / stride) pixels and the odd pixel goes bottom / right.
    def __init__(self, kernel_size, stride):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x):
        pads = []  # {pad} takes the last dimension first: (left, right, top, bottom)
        for size, kernel, stride in zip(x.shape[:1:-1], self.kernel_size[::-1], self.stride[::-1]):
            total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
            pads += [total // 2, total - total // 2]
        return {pad}(x, pads)
"""


class _Spelling:
    """How this file spells PyTorch names, and the module-level helpers the emitted code needs."""

    def __init__(self, names: Names) -> None:
        self.names = names

    def ref(self, qualified: str) -> str:
        return code(self.names.ref(qualified))

    def nn(self, kind: str) -> str:
        return self.ref(f"torch.nn.{kind}")

    def same_pad(self) -> str:
        """The file's `SamePad2d` class, defined once at module level however many models use it."""

        def make(name: str) -> cst.BaseStatement:
            source = _SAME_PAD_SOURCE.format(name=name, module=self.nn("Module"), pad=self.ref("torch.nn.functional.pad"))
            return cst.parse_statement(source)

        return self.names.module_helper(SAME_PAD_CLASS, make)


def _shapes(model: Model) -> dict[str, tuple[int, ...]]:
    try:
        return ir.output_shapes(model)
    except ir.ShapeError as error:
        raise Unsupported(str(error)) from None


def _modules(layer: ir.Layer, shape: tuple[int, ...], spell: _Spelling) -> list[str]:
    """PyTorch module constructors for one IR layer applied to an input of `shape` (H, W, C)."""
    nn = spell.nn
    if isinstance(layer, Conv2D):
        return _conv(layer, shape, spell)
    if isinstance(layer, Dense):
        bias = "" if layer.use_bias else ", bias=False"
        return [f"{nn('Linear')}({shape[0]}, {layer.units}{bias})"]
    if isinstance(layer, Pool2D):
        return [_pool(layer, nn)]
    if isinstance(layer, GlobalAvgPool2D):
        return [f"{nn('AdaptiveAvgPool2d')}(1)"] + ([] if layer.keepdims else [f"{nn('Flatten')}()"])
    if isinstance(layer, Flatten):
        return [f"{nn('Flatten')}()"]
    if isinstance(layer, Dropout):
        return [f"{nn('Dropout')}({layer.rate})"]
    if isinstance(layer, BatchNorm):
        kind = "BatchNorm2d" if len(shape) == 3 else "BatchNorm1d"
        affine = "" if layer.center else ", affine=False"
        return [f"{nn(kind)}({shape[-1]}, eps={float_text(layer.epsilon)}, momentum={float_text(1 - layer.momentum)}{affine})"]
    if isinstance(layer, Activation):
        simple = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}
        if layer.kind in simple:
            return [f"{nn(simple[layer.kind])}()"]
        if layer.kind in ("softmax", "log_softmax"):
            # Keras's last axis: the channels, dim 1 in NCHW and in a flat tensor
            return [f"{nn('Softmax' if layer.kind == 'softmax' else 'LogSoftmax')}(dim=1)"]
        raise Unsupported(f"activation {layer.kind!r} has no PyTorch module here")
    raise Unsupported(f"{type(layer).__name__} has no PyTorch module here")


def _emit_sequential(model: Model, names: Names) -> list[cst.BaseStatement]:
    shapes = _shapes(model)
    spell = _Spelling(names)
    made = [m for node in model.nodes for m in _modules(node.layer, shapes[node.inputs[0]], spell)]
    indent = ""  # LibCST keeps the lines inside brackets relative to the enclosing block's indentation
    body = "\n".join(f"{indent}    {m}," for m in made)
    call = f"{spell.nn('Sequential')}(\n{body}\n{indent})"
    target = model.extras.get("target")
    statement = cst.parse_statement(f"return {call}\n" if target is None else f"{target} = {call}\n")
    return [statement]


def _conv(layer: Conv2D, shape: tuple[int, ...], spell: _Spelling) -> list[str]:
    """`nn.Conv2d`, preceded by the padding TensorFlow's SAME needs when `padding=` cannot say it.

    PyTorch's `padding=` is symmetric and fixed. SAME is symmetric and fixed for stride 1 and an
    odd kernel; fixed but lopsided for an even kernel (an `nn.ZeroPad2d`); and for a stride above
    1 it depends on the input size, so a `SamePad2d` computes it from each input.
    """
    channels = shape[2]
    kernel = tuple(ir.int_value(k) for k in layer.kernel_size)
    strides = tuple(layer.strides)
    args = [str(channels), str(layer.filters), size_text(kernel)]
    if strides != (1, 1):
        args.append(f"stride={size_text(strides)}")
    made = []
    if layer.padding == "SAME":
        fixed = [ir.same_pads_for_every_size(k, s) for k, s in zip(kernel, strides, strict=True)]
        if None in fixed:
            made.append(f"{spell.same_pad()}(kernel_size={kernel}, stride={strides})")
        else:
            (top, bottom), (left, right) = fixed
            if (top, left) != (bottom, right):
                made.append(f"{spell.nn('ZeroPad2d')}(({left}, {right}, {top}, {bottom}))")
            elif (top, left) != (0, 0):
                args.append(f"padding={size_text((top, left))}")
    if not layer.use_bias:
        args.append("bias=False")
    made.append(f"{spell.nn('Conv2d')}({', '.join(args)})")
    return made


def _pool(layer: Pool2D, nn) -> str:
    """`nn.MaxPool2d` / `nn.AvgPool2d`; SAME pooling only where PyTorch says it for every input size.

    A stride-1 window pads the same on both sides, which `padding=` says. Otherwise SAME pooling
    pads the last window (bottom / right) with pixels that do not count, which is what
    `ceil_mode=True` does with a last, partial window, as long as nothing is padded before the
    first window and the window count agrees, whatever the input size.
    """
    kind = "MaxPool2d" if layer.kind == "max" else "AvgPool2d"
    size, strides = tuple(ir.int_value(v) for v in layer.pool_size), tuple(ir.int_value(v) for v in layer.strides)
    args = [size_text(size)] + ([] if strides == size else [f"stride={size_text(strides)}"])
    fixed = [ir.same_pads_for_every_size(k, s) for k, s in zip(size, strides, strict=True)]
    if layer.padding == "SAME" and all(pads is not None and pads[0] == pads[1] for pads in fixed):
        if any(pads[0] for pads in fixed):
            # PyTorch pads max pooling with -inf; average pooling leaves the pads out of the count
            # with count_include_pad=False: both as TensorFlow's SAME does.
            args.append(f"padding={size_text((fixed[0][0], fixed[1][0]))}")
            if layer.kind == "avg":
                args.append("count_include_pad=False")
    elif layer.padding == "SAME":
        needs_ceil = False
        for k, s in zip(size, strides, strict=True):
            sizes = range(k, k + s)  # every residue of the input size mod the stride
            if any(ir.same_pads(n, k, s)[0] for n in sizes) or any(-(-(n - k) // s) + 1 != -(-n // s) for n in sizes):
                raise Unsupported(
                    f"SAME pooling with window {k} and stride {s} pads before the first window for some input sizes; PyTorch cannot"
                )
            needs_ceil = needs_ceil or any(ir.same_pads(n, k, s)[1] for n in sizes)
        if needs_ceil:
            args.append("ceil_mode=True")
    return f"{nn(kind)}({', '.join(args)})"


# Functions for the IR layers a module's `forward` computes without a module.
_TORCH_FUNCTIONS = {"relu": "torch.nn.functional.relu", "tanh": "torch.tanh", "sigmoid": "torch.sigmoid"}


def _class_name(model: Model) -> str:
    """`ResNet` from `keras.Model(..., name="res_net")`, else from `build_resnet` / `model`."""
    base = model.extras.get("model_name") or model.extras.get("function") or model.name
    for prefix in ("build_", "make_", "create_", "get_"):
        if base.startswith(prefix) and len(base) > len(prefix):
            base = base[len(prefix) :]
    words = [w for w in base.replace("-", "_").split("_") if w]
    name = "".join(w[:1].upper() + w[1:] for w in words)
    return name if name.isidentifier() and name.lower() not in ("model", "net", "") else "Net"


def _emit_module_class(model: Model, names: Names) -> list[cst.BaseStatement]:
    """A graph as `class Net(nn.Module)`: layers in `__init__`, the Keras assignments in `forward`."""
    shapes = _shapes(model)
    spell = _Spelling(names)
    class_name = names.fresh(_class_name(model))
    indent = "    "
    init = [f"{indent}def __init__(self):", f"{indent * 2}super().__init__()"]
    padded: dict[str, str] = {}  # attribute -> attribute of the padding in front of it
    for node in model.nodes:
        if node.attribute is None:
            continue
        made = _modules(node.layer, shapes[node.inputs[0]], spell)
        if len(made) == 2 and isinstance(node.layer, Conv2D):
            padded[node.attribute] = f"{node.attribute}_pad"
            init.append(f"{indent * 2}self.{node.attribute}_pad = {made[0]}")
        elif len(made) != 1:
            raise Unsupported(f"{type(node.layer).__name__} needs several PyTorch modules")
        init.append(f"{indent * 2}self.{node.attribute} = {made[-1]}")

    def render(node: Node, args: list[str]) -> str:
        layer = node.layer
        if node.attribute is not None:
            argument = f"self.{padded[node.attribute]}({args[0]})" if node.attribute in padded else args[0]
            return f"self.{node.attribute}({argument})"
        if isinstance(layer, Activation):
            if layer.kind in _TORCH_FUNCTIONS:
                return f"{spell.ref(_TORCH_FUNCTIONS[layer.kind])}({args[0]})"
            if layer.kind in ("softmax", "log_softmax"):
                return f"{spell.ref(f'torch.nn.functional.{layer.kind}')}({args[0]}, dim=1)"
            raise Unsupported(f"activation {layer.kind!r} has no PyTorch function here")
        if isinstance(layer, Flatten):
            return f"{spell.ref('torch.flatten')}({args[0]}, 1)"
        if isinstance(layer, GlobalAvgPool2D):
            return f"{spell.ref('torch.mean')}({args[0]}, dim=(2, 3){', keepdim=True' if layer.keepdims else ''})"
        if isinstance(layer, ir.Add):
            return " + ".join(args)
        if isinstance(layer, ir.Concatenate):
            return f"{spell.ref('torch.cat')}([{', '.join(args)}], dim=1)"
        raise Unsupported(f"{type(layer).__name__} has no PyTorch op here")

    parameter = model.extras["parameter"]
    forward = [f"{indent}def forward(self, {parameter}):"]
    forward += [f"{indent * 2}{line}" for line in replay(model, parameter, render)]
    lines = [f"class {class_name}({spell.nn('Module')}):", *init, "", *forward]
    module_class = cst.parse_statement("\n".join(lines) + "\n")
    function = model.extras.get("function")
    if function is not None:
        docstring = model.extras.get("docstring")
        body = ([f"{indent}{docstring}"] if docstring else []) + [f"{indent}return {class_name}()"]
        entry = cst.parse_statement(f"def {function}():\n" + "\n".join(body) + "\n")
    else:
        entry = cst.parse_statement(f"{model.extras['target']} = {class_name}()\n")
    return [module_class, entry.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * 2)]


RECOGNIZERS = [TorchSequential(), TorchModuleClass()]
EMITTERS = [TorchModuleEmitter()]
