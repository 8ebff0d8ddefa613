"""Keras models <-> the model IR: `Sequential` and functional definitions in, Keras code out.

Before (keras):
    model = Sequential()
    model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)))
    model.add(MaxPool2D())
    model.add(Flatten())
    model.add(Dense(10, activation='softmax'))

After (torch, emitted by codemods/torch_module.py):
    model = nn.Sequential(
        nn.Conv2d(3, 32, (3, 3)),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(7200, 10),
        nn.Softmax(dim=1),
    )

Recognizes `X = Sequential([...])`, `return Sequential([...])` and `X = Sequential()` followed by
`X.add(...)` lines, with layers spelled `keras.layers.X`, `tf.keras.layers.X` or imported from
either: Conv2D, Dense, MaxPool2D / AveragePooling2D, GlobalAveragePooling2D, Flatten, Dropout,
BatchNormalization, Activation / ReLU / Softmax and `activation=` (relu, tanh, sigmoid, softmax,
log_softmax). The input shape comes from `input_shape=` on the first layer or a leading
`keras.Input(shape=...)` / `InputLayer`; PyTorch needs it for `in_channels` / `in_features`.
The model keeps its variable (or the function returning it keeps its name). Inputs change
layout: Keras takes NHWC, the PyTorch model NCHW; `slimify.model_port` carries trained weights.

Functional API (at module level, or a `def build_model():` whose body is the graph and returns
it): `inputs = keras.Input(shape=(H, W, C))`, assignments of layers applied to tensors
(`layers.Conv2D(...)(x)`, or a layer variable applied once), merges `layers.Add()([a, b])`,
`layers.add`, `a + b`, `layers.Concatenate()([...])`, `layers.concatenate` over the channels, then
`keras.Model(inputs, outputs)` (or `inputs=` / `outputs=`). Becomes, in PyTorch, a class
`nn.Module` with the layers in `__init__` (`self.conv1`, `self.bn1`, ...) and a `forward` that
assigns the same variables as the Keras code (`x + y` for Add, `torch.cat([...], dim=1)`), plus
`def build_model(): return Net()` or `model = Net()`.

Refuses when: the input shape is unknown or has unknown spatial sizes a layer needs; a layer is
a `Lambda`, a custom class or a variable defined elsewhere (it may be shared); an argument is not
a literal or has no PyTorch counterpart (initializers, regularizers, dilation, `data_format`,
BatchNormalization on another axis); the layers do not fit the input shape; a flattened image
reaches anything but a Dense layer (NHWC and NCHW flatten in different orders); the model
variable is used after its definition (`model.compile(...)` has no PyTorch counterpart).
Functional graphs also refuse: a layer with weights applied twice (shared), a `Lambda`, a
tensor computed but not reaching the output, several inputs or outputs, layer calls with
`training=` / `mask=`, `build_model` taking arguments or doing more than build and return,
temporaries (`x`) read after the model is built.

Reverse (torch -> keras, recognized by codemods/torch_module.py): an `nn.Sequential` becomes a
`keras.Sequential([...])`; a `class Net(nn.Module)` becomes `class Net(keras.Model)` with the
same attribute names and a `call` that mirrors `forward`, functional ops spelled `keras.ops.*`;
an `nn.ModuleList` becomes a list of layers and a loop over it is unrolled (`self.blocks[0](x)`),
an `nn.Sequential` attribute a `keras.Sequential`.
"""

from __future__ import annotations

import libcst as cst

from slimify import ir
from slimify import names as N
from slimify.ir import Activation, BatchNorm, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, Model, Node, Pool2D
from slimify.model_syntax import (
    Unsupported,
    bind,
    code,
    flag,
    float_text,
    integer,
    literal,
    number,
    pair,
    replay,
    size_text,
)
from slimify.rewrite import Names, Recognized, Refusal, Site

FAMILY = "keras_model"
LAYOUT_NOTE = (
    "the input layout changes: the Keras model takes NHWC images, the PyTorch model NCHW (x.permute(0, 3, 1, 2)); "
    "trained weights are carried over with slimify.model_port.port_weights (see the README)"
)

_ACTIVATIONS = {"relu", "tanh", "sigmoid", "softmax", "log_softmax"}

# Positional order of the constructors we read; `input_shape` and `name` are accepted by every layer.
_SIGNATURES = {
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "activation", "use_bias"),
    "Dense": ("units", "activation", "use_bias"),
    "MaxPool2D": ("pool_size", "strides", "padding", "data_format"),
    "AvgPool2D": ("pool_size", "strides", "padding", "data_format"),
    "GlobalAvgPool2D": ("data_format", "keepdims"),
    "Flatten": ("data_format",),
    "Dropout": ("rate",),
    "BatchNorm": ("axis", "momentum", "epsilon", "center", "scale"),
    "Activation": ("activation",),
    "ReLU": (),
    "Softmax": ("axis",),
    "InputLayer": ("shape", "batch_size", "input_shape"),
    "Add": (),
    "Concatenate": ("axis",),
}
_COMMON = ("input_shape", "name")
_MERGES = ("Add", "Concatenate")
# Merge functions of the functional API: `layers.add([a, b])`, `layers.concatenate([a, b])`.
KERAS_MERGE_FUNCTIONS = {"keras.layers.add": "Add", "keras.layers.concatenate": "Concatenate"}


class KerasSequential:
    """keras -> IR: a `Sequential` model, built from a list or by `.add(...)` calls."""

    family = FAMILY
    dialect = "keras"
    markers = ("Sequential",)

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        found = _sequential_statement(site)
        if found is None:
            return None
        target, call = found
        facts = site.file
        try:
            layer_nodes, span = self._layer_expressions(site, target, call)
            model = _read_layers(layer_nodes, facts, target or _function_name(site) or "model")
            if target is not None and span:
                _refuse_later_use(site, target, span)
        except Unsupported as reason:
            return Refusal(FAMILY, facts.line_of(site.statement), f"Keras model not translated: {reason}")
        model.extras["target"] = target
        model.extras["line"] = facts.line_of(site.statement)
        return Recognized(FAMILY, span, model, releases=(N.KERAS, N.TENSORFLOW), note=LAYOUT_NOTE)

    @staticmethod
    def _layer_expressions(site: Site, target: str | None, call: cst.Call) -> tuple[list[cst.BaseExpression], int]:
        args = bind(call, ("layers", "trainable", "name"), "Sequential")
        if set(args) - {"layers", "name"}:
            raise Unsupported("Sequential(trainable=...) is not carried over")
        if "layers" in args:
            layers = args["layers"]
            if not isinstance(layers, (cst.List, cst.Tuple)) or any(e.__class__ is not cst.Element for e in layers.elements):
                raise Unsupported("the layer list is not written out")
            return [element.value for element in layers.elements], 1
        if target is None:
            raise Unsupported("an empty Sequential() is returned")
        expressions = []
        for statement in site.body[site.index + 1 :]:
            added = _added_layer(statement, target)
            if added is None:
                break
            expressions.append(added)
        if not expressions:
            raise Unsupported(f"no `{target}.add(...)` follows `{target} = Sequential()`")
        return expressions, 1 + len(expressions)


def _sequential_statement(site: Site) -> tuple[str | None, cst.Call] | None:
    """(`model`, the Sequential call) for `model = Sequential(...)`; (None, call) for `return`."""
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
    if not site.file.is_call_to(value, N.KERAS_SEQUENTIAL):
        return None
    return target, value


def _function_name(site: Site) -> str | None:
    function = site.function
    return function.name.value if function is not None else None


def _added_layer(statement: cst.BaseStatement, target: str) -> cst.BaseExpression | None:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if not isinstance(small, cst.Expr) or not isinstance(small.value, cst.Call):
        return None
    call = small.value
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "add" and isinstance(func.value, cst.Name)):
        return None
    if func.value.value != target or len(call.args) != 1 or call.args[0].keyword or call.args[0].star:
        return None
    return call.args[0].value


def _refuse_later_use(site: Site, target: str, span: int) -> None:
    """`model.compile(...)`, `model.fit(...)` after the definition would break in PyTorch."""
    consumed = {id(s) for s in site.body[site.index : site.index + span]}
    uses: list[str] = []

    class _Uses(cst.CSTVisitor):
        def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
            return id(node) not in consumed

        def visit_Attribute(self, node: cst.Attribute) -> None:
            if isinstance(node.value, cst.Name) and node.value.value == target:
                uses.append(node.attr.value)

    scope = site.function if site.function is not None else site.file.module
    scope.visit(_Uses())
    if uses:
        raise Unsupported(f"`{target}.{uses[0]}` is used after the definition; Keras model methods have no PyTorch counterpart")


def _read_layers(expressions: list[cst.BaseExpression], facts, name: str) -> Model:
    input_shape: tuple | None = None
    nodes: list[Node] = []
    previous = "input"
    for position, expression in enumerate(expressions):
        if not isinstance(expression, cst.Call):
            raise Unsupported(f"layer `{code(expression)}` is defined elsewhere and may be shared")
        qualified = facts.qname(expression.func)
        if qualified in N.KERAS_INPUT:
            if position:
                raise Unsupported("Input is not the first layer")
            input_shape = _shape(bind(expression, ("shape",), "Input").get("shape"))
            continue
        if qualified == N.KERAS_LAMBDA:
            raise Unsupported("a Lambda layer runs arbitrary code")
        kind = N.KERAS_LAYER_KINDS.get(qualified or "")
        if kind is None or kind not in _SIGNATURES:
            raise Unsupported(f"`{code(expression.func)}` is a custom or unsupported layer")
        args = bind(expression, _SIGNATURES[kind] + _COMMON, kind)
        if "input_shape" in args:
            if nodes or input_shape is not None:
                raise Unsupported("input_shape is given on a layer that is not the first")
            input_shape = _shape(args["input_shape"])
        if kind == "InputLayer":
            input_shape = _shape(args.get("shape") or args.get("input_shape"))
            continue
        if kind in _MERGES:
            raise Unsupported(f"{kind} merges several tensors; a Sequential has only one")
        for layer in _layers(kind, args):
            node = Node(f"layer{len(nodes)}", layer, (previous,))
            nodes.append(node)
            previous = node.name
    if input_shape is None:
        raise Unsupported("the input shape is unknown; PyTorch needs in_channels / in_features: give the first layer input_shape=")
    model = Model(name, input_shape, tuple(nodes), (previous,), {"style": "sequential"})
    try:
        ir.output_shapes(model)
    except ir.ShapeError as error:
        raise Unsupported(str(error)) from None
    flattened = ir.unabsorbed_flatten(model)
    if flattened is not None:
        raise Unsupported("a flattened image reaches something other than a Dense layer (NHWC and NCHW flatten in different orders)")
    return model


def _shape(node: cst.BaseExpression | None) -> tuple[int, ...]:
    value = literal(node, "the input shape")
    if not isinstance(value, tuple) or len(value) != 3 or not all(type(v) is int for v in value):
        raise Unsupported(f"the input shape `{code(node) if node is not None else None}` is not (height, width, channels)")
    return value


def _activation(node: cst.BaseExpression | None) -> str | None:
    value = literal(node, "activation")
    if value is None or value == "linear":
        return None
    if value not in _ACTIVATIONS:
        raise Unsupported(f"activation {value!r} is not translated")
    return value


def _padding(node: cst.BaseExpression | None) -> str:
    value = literal(node, "padding")
    if value is None:
        return "VALID"
    if not isinstance(value, str) or value.lower() not in ("valid", "same"):
        raise Unsupported(f"padding {value!r} is not 'valid' or 'same'")
    return value.upper()


def _channels_last(args: dict) -> None:
    if literal(args.get("data_format"), "data_format") not in (None, "channels_last"):
        raise Unsupported("data_format other than channels_last is not carried over")


def _layers(kind: str, args: dict) -> list[ir.Layer]:
    """The IR layers for one Keras layer (an activation argument is a separate layer)."""
    if kind == "Conv2D":
        _channels_last(args)
        if pair(args.get("dilation_rate"), "dilation_rate", 1) != (1, 1) or integer(args.get("groups"), "groups", 1) != 1:
            raise Unsupported("dilated or grouped convolutions are not translated")
        layer = Conv2D(
            filters=integer(args.get("filters"), "filters"),
            kernel_size=pair(args.get("kernel_size"), "kernel_size"),
            strides=pair(args.get("strides"), "strides", 1),
            padding=_padding(args.get("padding")),
            use_bias=flag(args.get("use_bias"), "use_bias", True),
        )
        return _with_activation(layer, args)
    if kind == "Dense":
        units = integer(args.get("units"), "units")
        return _with_activation(Dense(units=units, use_bias=flag(args.get("use_bias"), "use_bias", True)), args)
    if kind in ("MaxPool2D", "AvgPool2D"):
        _channels_last(args)
        size = pair(args.get("pool_size"), "pool_size", 2)
        strides = pair(args.get("strides"), "strides") if literal(args.get("strides"), "strides") is not None else size
        return [Pool2D("max" if kind == "MaxPool2D" else "avg", size, strides, _padding(args.get("padding")))]
    if kind == "GlobalAvgPool2D":
        _channels_last(args)
        return [GlobalAvgPool2D(keepdims=flag(args.get("keepdims"), "keepdims", False))]
    if kind == "Flatten":
        _channels_last(args)
        return [Flatten()]
    if kind == "Dropout":
        rate = literal(args.get("rate"), "rate")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)):
            raise Unsupported("the dropout rate is not a number")
        return [Dropout(rate=rate)]
    if kind == "BatchNorm":
        if integer(args.get("axis"), "axis", -1) not in (-1, 3):
            raise Unsupported("BatchNormalization over an axis other than the channels")
        center, scale = flag(args.get("center"), "center", True), flag(args.get("scale"), "scale", True)
        if center != scale:
            raise Unsupported("BatchNormalization with only one of center / scale (PyTorch's affine is both)")
        epsilon = number(args.get("epsilon"), "epsilon", 1e-3)
        momentum = number(args.get("momentum"), "momentum", 0.99)
        return [BatchNorm(epsilon=epsilon, momentum=momentum, center=center, scale=scale)]
    if kind == "Activation":
        activation = _activation(args.get("activation"))
        return [Activation(activation)] if activation else []
    if kind == "ReLU":
        return [Activation("relu")]
    if kind == "Softmax":
        if integer(args.get("axis"), "axis", -1) != -1:
            raise Unsupported("Softmax over an axis other than the last")
        return [Activation("softmax")]
    if kind == "Add":
        return [ir.Add()]
    if kind == "Concatenate":
        if integer(args.get("axis"), "axis", -1) not in (-1, 3):
            raise Unsupported("Concatenate over an axis other than the channels")
        return [ir.Concatenate()]
    raise Unsupported(f"{kind} is not translated")


def _with_activation(layer, args: dict) -> list[ir.Layer]:
    activation = _activation(args.get("activation"))
    return [layer, Activation(activation)] if activation else [layer]


# ---------------------------------------------------------------------------------------------
# Functional API -> IR


class KerasFunctional:
    """keras -> IR: a functional model, `inputs = keras.Input(...)`, layers applied to tensors,
    `keras.Model(inputs, outputs)`; in a `def build_model():` that returns it, or at module level.

    Branches and merges (`Add`, `Concatenate`, `layers.add`, `layers.concatenate`, `a + b`) make a
    graph, not a list: the IR keeps each node's inputs, the variables the source assigned (so the
    emitted `forward` reads like the Keras code) and which Keras layer call made each node (so
    `slimify.model_port` finds the layer by walking the Keras graph: Keras orders layers by depth).
    """

    family = FAMILY
    dialect = "keras"
    markers = ("Model",)

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        statement = site.statement
        facts = site.file
        if isinstance(statement, cst.FunctionDef):
            body = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ()
            if not any(_model_call(line, facts) is not None for line in body):
                return None
            try:
                model = _read_function(statement, facts)
            except Unsupported as reason:
                return Refusal(FAMILY, facts.line_of(statement), f"Keras functional model not translated: {reason}")
            model.extras["line"] = facts.line_of(statement)
            return Recognized(FAMILY, 1, model, releases=(N.KERAS, N.TENSORFLOW), note=LAYOUT_NOTE)
        if site.function is not None or site.enclosing((cst.ClassDef,)) or _input_call(statement, facts) is None:
            return None
        end = next((i for i in range(site.index, len(site.body)) if _model_call(site.body[i], facts) is not None), None)
        if end is None:
            return None
        lines = list(site.body[site.index : end + 1])
        try:
            model = _read_graph(lines, facts)
            target = model.extras["target"]
            if target is None:
                raise Unsupported("the keras.Model(...) call is not assigned to a variable")
            model = ir.Model(target, model.input_shape, model.nodes, model.outputs, model.extras)
            _refuse_later_use(site, target, len(lines))
            temporaries = set(model.extras["variables"]) - {target}
            read_later = site.read_after(temporaries, len(lines))
            if read_later:
                raise Unsupported(f"`{sorted(read_later)[0]}` is read after the model is built; it would not exist in PyTorch")
        except Unsupported as reason:
            return Refusal(FAMILY, facts.line_of(statement), f"Keras functional model not translated: {reason}")
        model.extras["line"] = facts.line_of(statement)
        return Recognized(FAMILY, len(lines), model, releases=(N.KERAS, N.TENSORFLOW), note=LAYOUT_NOTE)


def _simple(line: cst.BaseStatement) -> cst.BaseSmallStatement | None:
    if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
        return line.body[0]
    return None


def _assigned(line: cst.BaseStatement) -> tuple[str, cst.BaseExpression] | None:
    small = _simple(line)
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value, small.value
    return None


def _input_call(line: cst.BaseStatement, facts) -> cst.Call | None:
    assigned = _assigned(line)
    if assigned is not None and facts.is_call_to(assigned[1], *N.KERAS_INPUT):
        return assigned[1]
    return None


def _model_call(line: cst.BaseStatement, facts) -> cst.Call | None:
    """The `keras.Model(...)` call of `model = keras.Model(...)` or `return keras.Model(...)`."""
    small = _simple(line)
    value = small.value if isinstance(small, (cst.Assign, cst.Return)) else None
    return value if value is not None and facts.is_call_to(value, N.KERAS_MODEL) else None


def _read_function(function: cst.FunctionDef, facts) -> Model:
    """`def build_model(): ... return model`: the whole body must be the graph."""
    if function.decorators:
        raise Unsupported(f"{function.name.value} is decorated")
    params = function.params
    if params.params or params.kwonly_params or params.posonly_params or params.star_kwarg or isinstance(params.star_arg, cst.Param):
        raise Unsupported(f"{function.name.value} takes arguments; the model's sizes must be literals")
    lines = list(function.body.body)
    docstring = None
    if lines and isinstance(_simple(lines[0]), cst.Expr) and isinstance(_simple(lines[0]).value, cst.SimpleString):
        docstring = code(_simple(lines[0])).strip()
        lines = lines[1:]
    returned = _simple(lines[-1]) if lines else None
    if not isinstance(returned, cst.Return) or returned.value is None:
        raise Unsupported(f"{function.name.value} does not end in `return`")
    if _model_call(lines[-1], facts) is not None:
        graph = lines
    else:
        graph = lines[:-1]
        if not graph or _model_call(graph[-1], facts) is None or not isinstance(returned.value, cst.Name):
            raise Unsupported(f"{function.name.value} does more than build the model before returning it")
        if _assigned(graph[-1])[0] != returned.value.value:
            raise Unsupported(f"{function.name.value} returns `{code(returned.value)}`, not the model it built")
    model = _read_graph(graph, facts)
    model.extras.update(function=function.name.value, docstring=docstring, target=None)
    return ir.Model(function.name.value, model.input_shape, model.nodes, model.outputs, model.extras)


def _read_graph(lines: list[cst.BaseStatement], facts) -> Model:
    """`inputs = keras.Input(...)`, tensor assignments, then the `keras.Model(...)` statement."""
    reader = _GraphReader(facts)
    first = _input_call(lines[0], facts) if lines else None
    if first is None:
        raise Unsupported("the graph does not start with `inputs = keras.Input(shape=...)`")
    reader.read_input(_assigned(lines[0])[0], first)
    for line in lines[1:-1]:
        assigned = _assigned(line)
        if assigned is None:
            raise Unsupported(f"statement `{code(line).strip()}` is not a layer applied to a tensor")
        reader.assign(*assigned)
    return reader.finish(lines[-1])


_ATTRIBUTE_PREFIX = {Conv2D: "conv", Dense: "fc", BatchNorm: "bn", Pool2D: "pool", Dropout: "dropout"}


class _GraphReader:
    """Keras functional statements -> IR nodes, in source order."""

    def __init__(self, facts) -> None:
        self.facts = facts
        self.nodes: list[Node] = []
        self.tensors: dict[str, str] = {}  # variable -> IR node it holds
        self.layer_objects: dict[str, tuple[list[ir.Layer], int]] = {}  # `conv = layers.Conv2D(...)` -> (layers, times applied)
        self.statements: list[tuple[str | None, str, str | None]] = []
        self.calls: dict[str, tuple[str, ...]] = {}  # output node of one Keras layer call -> all its nodes
        self.reads: dict[str, tuple[str | None, ...]] = {}  # node -> the variable each input was read from
        self.counts: dict[str, int] = {}
        self.input_shape: tuple[int, ...] | None = None
        self.parameter = "inputs"

    def read_input(self, variable: str, call: cst.Call) -> None:
        args = bind(call, ("shape", "batch_size", "name"), "Input")
        if "batch_size" in args:
            raise Unsupported("Input(batch_size=...) is not carried over")
        self.input_shape = _shape(args.get("shape"))
        self.parameter = variable
        self.tensors[variable] = "input"

    def assign(self, variable: str, value: cst.BaseExpression) -> None:
        if variable == self.parameter:
            raise Unsupported(f"the input `{variable}` is reassigned")
        constructed = self._layer_constructor(value)
        if constructed is not None:
            self.tensors.pop(variable, None)
            self.layer_objects[variable] = (constructed, 0)
            return
        node = self.tensor(value)
        self.layer_objects.pop(variable, None)
        self.tensors[variable] = node
        self.statements.append((variable, node, value.value if isinstance(value, cst.Name) else None))

    def finish(self, line: cst.BaseStatement) -> Model:
        call = _model_call(line, self.facts)
        args = bind(call, ("inputs", "outputs", "name", "trainable"), "keras.Model")
        if "trainable" in args:
            raise Unsupported("keras.Model(trainable=...) is not carried over")
        inputs, outputs = args.get("inputs"), args.get("outputs")
        inputs = inputs.elements[0].value if isinstance(inputs, (cst.List, cst.Tuple)) and len(inputs.elements) == 1 else inputs
        outputs = outputs.elements[0].value if isinstance(outputs, (cst.List, cst.Tuple)) and len(outputs.elements) == 1 else outputs
        if not (isinstance(inputs, cst.Name) and inputs.value == self.parameter):
            raise Unsupported("the model's inputs are not the one keras.Input")
        if outputs is None or isinstance(outputs, (cst.List, cst.Tuple, cst.Dict)):
            raise Unsupported("the model does not have exactly one output")
        output = self.tensor(outputs)
        if output == "input":
            raise Unsupported("the model computes nothing")
        self.statements.append((None, output, outputs.value if isinstance(outputs, cst.Name) else None))
        for variable, (_, applied) in self.layer_objects.items():
            if not applied:
                raise Unsupported(f"layer `{variable}` is created but never applied")
        name_arg = literal(args.get("name"), "the model name") if "name" in args else None
        assigned = _assigned(line)
        model = Model(
            "model",
            self.input_shape,
            tuple(self.nodes),
            (output,),
            {
                "style": "functional",
                "statements": self.statements,
                "parameter": self.parameter,
                "calls": self.calls,
                "reads": self.reads,
                "model_name": name_arg if isinstance(name_arg, str) else None,
                "target": assigned[0] if assigned is not None else None,
                "variables": [v for v, _, _ in self.statements if v is not None] + list(self.layer_objects) + [self.parameter],
            },
        )
        _check_graph(model)
        return model

    def _layer_constructor(self, value: cst.BaseExpression) -> list[ir.Layer] | None:
        """The IR layers of `layers.Conv2D(...)`, or None when `value` is not a layer constructor."""
        if not isinstance(value, cst.Call) or not isinstance(value.func, (cst.Name, cst.Attribute)):
            return None
        qualified = self.facts.qname(value.func)
        if qualified == N.KERAS_LAMBDA:
            raise Unsupported("a Lambda layer runs arbitrary code")
        kind = N.KERAS_LAYER_KINDS.get(qualified or "")
        if kind is None:
            return None
        if kind not in _SIGNATURES or kind == "InputLayer":
            raise Unsupported(f"`{code(value.func)}` is not translated")
        args = bind(value, _SIGNATURES[kind] + _COMMON, kind)
        if "input_shape" in args:
            raise Unsupported("input_shape= on a layer of a functional model (keras.Input gives the shape)")
        return _layers(kind, args)

    def tensor(self, value: cst.BaseExpression) -> str:
        """The IR node computing the tensor expression `value`."""
        if isinstance(value, cst.Name):
            if value.value in self.layer_objects:
                raise Unsupported(f"`{value.value}` is a layer, not a tensor")
            if value.value not in self.tensors:
                raise Unsupported(f"`{value.value}` is not a tensor of this graph")
            return self.tensors[value.value]
        if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add):
            return self._apply([ir.Add()], [value.left, value.right], "Add")
        if not isinstance(value, cst.Call):
            raise Unsupported(f"`{code(value)}` is not a layer applied to a tensor")
        merge = KERAS_MERGE_FUNCTIONS.get(self.facts.qname(value.func) or "")
        if merge is not None:
            args = bind(value, ("inputs", "axis", "name"), code(value.func))
            if integer(args.get("axis"), "axis", -1) not in (-1, 3):
                raise Unsupported(f"{code(value.func)} over an axis other than the channels")
            return self._apply([ir.Add() if merge == "Add" else ir.Concatenate()], _tensor_list(args.get("inputs")), merge)
        layers = self._applied_layers(value.func)
        if len(value.args) != 1 or value.args[0].keyword or value.args[0].star:
            raise Unsupported(f"`{code(value)}` passes more than the input tensor (training=, mask=)")
        argument = value.args[0].value
        if isinstance(layers[0], (ir.Add, ir.Concatenate)):
            return self._apply(layers, _tensor_list(argument), type(layers[0]).__name__)
        return self._apply(layers, [argument], type(layers[0]).__name__)

    def _applied_layers(self, func: cst.BaseExpression) -> list[ir.Layer]:
        if isinstance(func, cst.Name) and func.value in self.layer_objects:
            layers, applied = self.layer_objects[func.value]
            if applied and any(isinstance(layer, _WEIGHTED) for layer in layers):
                raise Unsupported(f"layer `{func.value}` is applied more than once (a shared layer; PyTorch would need it shared too)")
            self.layer_objects[func.value] = (layers, applied + 1)
            return layers
        constructed = self._layer_constructor(func)
        if constructed is None:
            raise Unsupported(f"`{code(func)}` is a custom layer or not a layer")
        return constructed

    def _apply(self, layers: list[ir.Layer], operands: list[cst.BaseExpression], what: str) -> str:
        if not layers:
            raise Unsupported("an Activation('linear') layer (it computes nothing; remove it)")
        inputs = tuple(self.tensor(operand) for operand in operands)
        spelled = tuple(operand.value if isinstance(operand, cst.Name) else None for operand in operands)
        merging = isinstance(layers[0], (ir.Add, ir.Concatenate))
        if merging and len(inputs) < 2:
            raise Unsupported(f"{what} of fewer than two tensors")
        if not merging and len(inputs) != 1:
            raise Unsupported(f"{what} applied to several tensors")
        made: list[str] = []
        for layer in layers:
            name = f"node{len(self.nodes)}"
            attribute = self._attribute(layer)
            self.nodes.append(Node(name, layer, inputs if not made else (made[-1],), attribute))
            self.reads[name] = spelled if not made else (None,)
            made.append(name)
        self.calls[made[-1]] = tuple(made)
        return made[-1]

    def _attribute(self, layer: ir.Layer) -> str | None:
        """`conv1`, `bn2`, ...: the PyTorch attribute holding a layer that has a module."""
        prefix = _ATTRIBUTE_PREFIX.get(type(layer))
        if prefix is None:
            return None
        self.counts[prefix] = self.counts.get(prefix, 0) + 1
        return f"{prefix}{self.counts[prefix]}"


_WEIGHTED = (Conv2D, Dense, BatchNorm)


def _tensor_list(node: cst.BaseExpression | None) -> list[cst.BaseExpression]:
    if not isinstance(node, (cst.List, cst.Tuple)) or any(e.__class__ is not cst.Element for e in node.elements):
        raise Unsupported("the tensors to merge are not written out as a list")
    return [element.value for element in node.elements]


def _check_graph(model: Model) -> None:
    """Shapes fit, every node reaches the output, and flatten order cannot leak."""
    try:
        ir.output_shapes(model)
    except ir.ShapeError as error:
        raise Unsupported(str(error)) from None
    by_name = {node.name: node for node in model.nodes}
    reached, pending = set(), list(model.outputs)
    while pending:
        name = pending.pop()
        if name in reached or name == "input":
            continue
        reached.add(name)
        pending.extend(by_name[name].inputs)
    unused = [node for node in model.nodes if node.name not in reached]
    if unused:
        raise Unsupported(f"a {type(unused[0].layer).__name__} is computed but does not reach the model's output")
    if ir.unabsorbed_flatten(model) is not None:
        raise Unsupported("a flattened image reaches something other than a Dense layer (NHWC and NCHW flatten in different orders)")


# ---------------------------------------------------------------------------------------------
# IR -> Keras


class KerasModelEmitter:
    """IR -> keras: `keras.Sequential([...])` for a sequential IR, a `keras.Model` subclass for a module."""

    dialect = "keras"
    layer_types = (Model,)

    def emit(self, model: Model, names: Names) -> list[cst.BaseStatement] | Refusal:
        try:
            if model.extras.get("style") == "module":
                return [_emit_module(model, names)]
            return [_emit_sequential(model, names)]
        except Unsupported as reason:
            return Refusal(FAMILY, model.extras.get("line", 1), f"no Keras translation: {reason}")


def _ref(names: Names, qualified: str) -> str:
    return code(names.ref(qualified))


def keras_layer(layer: ir.Layer, names: Names) -> list[str]:
    """Keras constructor calls for one IR layer (explicit padding adds a ZeroPadding2D)."""
    layers = lambda kind: _ref(names, f"keras.layers.{kind}")  # noqa: E731
    if isinstance(layer, Conv2D):
        made = []
        if layer.pads is not None:
            top, bottom, left, right = layer.pads
            made.append(f"{layers('ZeroPadding2D')}((({top}, {bottom}), ({left}, {right})))")
        args = [str(layer.filters), size_text(tuple(layer.kernel_size))]
        if layer.strides != (1, 1):
            args.append(f"strides={size_text(tuple(layer.strides))}")
        if layer.padding == "SAME":
            args.append("padding='same'")
        if not layer.use_bias:
            args.append("use_bias=False")
        made.append(f"{layers('Conv2D')}({', '.join(args)})")
        return made
    if isinstance(layer, Dense):
        args = [str(layer.units)] + ([] if layer.use_bias else ["use_bias=False"])
        return [f"{layers('Dense')}({', '.join(args)})"]
    if isinstance(layer, Pool2D):
        if layer.ceil_mode:
            raise Unsupported("pooling with ceil_mode=True")
        kind = "MaxPool2D" if layer.kind == "max" else "AveragePooling2D"
        args = [size_text(tuple(layer.pool_size))]
        if tuple(layer.strides) != tuple(layer.pool_size):
            args.append(f"strides={size_text(tuple(layer.strides))}")
        if layer.padding == "SAME":
            args.append("padding='same'")
        return [f"{layers(kind)}({', '.join(args)})"]
    if isinstance(layer, GlobalAvgPool2D):
        return [f"{layers('GlobalAveragePooling2D')}({'keepdims=True' if layer.keepdims else ''})"]
    if isinstance(layer, Flatten):
        return [f"{layers('Flatten')}()"]
    if isinstance(layer, Dropout):
        return [f"{layers('Dropout')}({layer.rate})"]
    if isinstance(layer, BatchNorm):
        args = [f"epsilon={float_text(layer.epsilon)}", f"momentum={float_text(layer.momentum)}"]
        if not layer.center:
            args += ["center=False", "scale=False"]
        return [f"{layers('BatchNormalization')}({', '.join(args)})"]
    if isinstance(layer, Activation):
        if layer.axis != -1:
            raise Unsupported(f"{layer.kind} over an axis other than the channels")
        if layer.kind == "relu":
            return [f"{layers('ReLU')}()"]
        if layer.kind == "softmax":
            return [f"{layers('Softmax')}()"]
        return [f"{layers('Activation')}({layer.kind!r})"]
    raise Unsupported(f"{type(layer).__name__} has no Keras layer here")


def _emit_sequential(model: Model, names: Names) -> cst.BaseStatement:
    # LibCST keeps the lines inside brackets relative to the enclosing block's indentation.
    indent, inner = "", "    "
    lines = [f"{inner}{made}," for node in model.nodes for made in keras_layer(node.layer, names)]
    call = f"{_ref(names, N.KERAS_SEQUENTIAL)}([\n" + "\n".join(lines) + f"\n{indent}])"
    target = model.extras.get("target")
    return cst.parse_statement(f"return {call}\n" if target is None else f"{target} = {call}\n")


_OPS = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "softmax": "softmax", "log_softmax": "log_softmax"}

# keras.Model attributes a subclass cannot reuse for a layer (`self.layers = ...` fails in Keras).
_RESERVED_ATTRIBUTES = frozenset(
    (
        "layers", "weights", "variables", "trainable_weights", "non_trainable_weights", "trainable_variables",
        "non_trainable_variables", "name", "dtype", "input", "output", "inputs", "outputs", "trainable", "built",
        "losses", "metrics", "optimizer", "call", "build", "compile", "fit", "predict", "evaluate", "summary",
        "get_weights", "set_weights", "count_params", "input_shape", "output_shape", "dtype_policy",
    )
)  # fmt: skip


def _attribute_value(value: ir.Layer | ir.LayerGroup, names: Names, indent: str) -> str:
    """A Keras layer, a list of them (an nn.ModuleList) or a keras.Sequential (an nn.Sequential),
    one layer a line when there are several; `indent` is the assignment's indentation."""
    if not isinstance(value, ir.LayerGroup):
        made = keras_layer(value, names)
        return made[0] if len(made) == 1 else f"{_ref(names, N.KERAS_SEQUENTIAL)}([{', '.join(made)}])"
    if value.kind == "sequential":
        made = [one for layer in value.layers for one in keras_layer(layer, names)]
        return f"{_ref(names, N.KERAS_SEQUENTIAL)}([{_one_a_line(made, indent)}])"
    elements = [_attribute_value(layer, names, indent + "    ") for layer in value.layers]
    if len(set(elements)) == 1:  # `[nn.Conv2d(8, 8, 3) for _ in range(3)]` stays a comprehension
        return f"[{elements[0]} for _ in range({len(elements)})]"
    return f"[{_one_a_line(elements, indent)}]"


def _one_a_line(items: list[str], indent: str) -> str:
    if len(items) == 1:
        return items[0]
    return "\n" + "".join(f"{indent}    {item},\n" for item in items) + indent


def _emit_module(model: Model, names: Names) -> cst.BaseStatement:
    """`class Net(keras.Model)`: the same attributes in `__init__`, a `call` mirroring `forward`.

    A loop over an nn.ModuleList is unrolled (`self.blocks[0](x)`, ...): its length is fixed.
    """
    attributes: dict[str, ir.Layer | ir.LayerGroup] = model.extras["attributes"]
    reserved = sorted(set(attributes) & _RESERVED_ATTRIBUTES)
    if reserved:
        raise Unsupported(f"attribute `self.{reserved[0]}` is a reserved name on keras.Model")
    indent = "    "
    lines = [f"class {model.name}({_ref(names, N.KERAS_MODEL)}):"]
    if model.extras.get("docstring"):
        lines.append(f"{indent}{model.extras['docstring']}")
        lines.append("")
    lines.append(f"{indent}def __init__(self):")
    lines.append(f"{indent * 2}super().__init__()")
    for attribute, value in attributes.items():
        lines.append(f"{indent * 2}self.{attribute} = {_attribute_value(value, names, indent * 2)}")
    lines.append("")
    parameter = model.extras["parameter"]
    lines.append(f"{indent}def call(self, {parameter}):")
    groups: dict[str, str] = model.extras.get("groups", {})

    def render(node: Node, args: list[str]) -> str:
        layer = node.layer
        if node.attribute is not None:
            if node.name in groups:  # the last layer of an nn.Sequential: call the container
                return f"self.{node.attribute.partition('[')[0]}({args[0]})"
            return f"self.{node.attribute}({args[0]})"
        if isinstance(layer, Activation):
            op = _ref(names, f"keras.ops.{_OPS[layer.kind]}")
            return f"{op}({args[0]}, axis=-1)" if layer.kind in ("softmax", "log_softmax") else f"{op}({args[0]})"
        if isinstance(layer, GlobalAvgPool2D):
            keepdims = ", keepdims=True" if layer.keepdims else ""
            return f"{_ref(names, 'keras.ops.mean')}({args[0]}, axis=(1, 2){keepdims})"
        if isinstance(layer, Pool2D):
            op = _ref(names, "keras.ops.max_pool" if layer.kind == "max" else "keras.ops.average_pool")
            strides = "" if tuple(layer.strides) == tuple(layer.pool_size) else f", strides={size_text(tuple(layer.strides))}"
            return f"{op}({args[0]}, {size_text(tuple(layer.pool_size))}{strides})"
        if isinstance(layer, Flatten):
            reshape = _ref(names, "keras.ops.reshape")
            if layer.size is not None:
                size = layer.size.text if isinstance(layer.size, ir.Code) else layer.size
                return f"{reshape}({args[0]}, (-1, {size}))"
            if not args[0].isidentifier():
                raise Unsupported("a flatten of an unnamed expression (assign it to a variable first)")
            return f"{reshape}({args[0]}, ({_ref(names, 'keras.ops.shape')}({args[0]})[0], -1))"
        if isinstance(layer, ir.Add):
            return " + ".join(args)
        if isinstance(layer, ir.Concatenate):
            return f"{_ref(names, 'keras.ops.concatenate')}([{', '.join(args)}], axis=-1)"
        raise Unsupported(f"{type(layer).__name__} in forward has no Keras op here")

    lines += [f"{indent * 2}{line}" for line in replay(model, parameter, render)]
    return cst.parse_statement("\n".join(lines) + "\n")


RECOGNIZERS = [KerasSequential(), KerasFunctional()]
EMITTERS = [KerasModelEmitter()]
