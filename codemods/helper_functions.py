"""Helper-function style: weights in dicts + `conv2d(x, W, b)` helpers -> the model in slim calls.

Before (tf):
    weights = {'wc1': tf.Variable(tf.random_normal([5, 5, 1, 32])), 'wd1': tf.Variable(tf.random_normal([3136, 10]))}
    biases = {'bc1': tf.Variable(tf.random_normal([32])), 'bd1': tf.Variable(tf.random_normal([10]))}

    def conv2d(x, W, b, strides=1):
        x = tf.nn.conv2d(x, W, strides=[1, strides, strides, 1], padding='SAME')
        x = tf.nn.bias_add(x, b)
        return tf.nn.relu(x)

    def maxpool2d(x, k=2):
        return tf.nn.max_pool(x, ksize=[1, k, k, 1], strides=[1, k, k, 1], padding='SAME')

    def conv_net(x, weights, biases):
        conv1 = conv2d(x, weights['wc1'], biases['bc1'])
        conv1 = maxpool2d(conv1, k=2)
        fc1 = tf.reshape(conv1, [-1, weights['wd1'].get_shape().as_list()[0]])
        out = tf.add(tf.matmul(fc1, weights['wd1']), biases['bd1'])
        return out

    logits = conv_net(x, weights, biases)

After (slim):
    def conv_net(x):
        conv1 = slim.conv2d(x, 32, [5, 5], scope='conv1', weights_initializer=tf.random_normal_initializer(), ...)
        conv1 = slim.max_pool2d(conv1, [2, 2], padding='SAME')
        fc1 = tf.reshape(conv1, [-1, 3136])
        out = slim.fully_connected(fc1, 10, scope='out', activation_fn=None, ...)
        return out

    logits = conv_net(x)

Each helper call is folded by running the ordinary conv_block / dense_block / pool recognizers
on the helper's body with the call's arguments bound (literal arguments substituted, the dict
entries as the block's variables), so a helper's layer folds and refuses exactly as the same
layer written inline (`tf.nn.conv2d(x, W, strides, 'SAME')` with an int, `tf.nn.max_pool2d(x,
k, k, 'SAME')`, a `tf.nn.leaky_relu` ending, ...); inline `tf.add(tf.matmul(h, weights['k']),
biases['k'])` (optionally followed by `h = act(h)`) folds the same way. A layer without variables
(a pool helper, dropout, flatten) the families refuse stays as written, without a finding: the
model around it still folds. The dicts, the dict parameters and
arguments, and helpers nothing else calls are removed. Scopes are the layers' output names (or
the weight dict keys when those repeat). The variables were unnamed (`Variable`, `Variable_1`,
... in creation order) and get slim's names (`conv1/weights`): every rename goes into the name
map (`--name-map FILE`), which tests/test_name_map.py proves by restoring a checkpoint of the old
graph into the new one through the map.

Refuses (the whole model, with the reason) when: a dict entry is not an unnamed `tf.Variable`
with a recognized initializer, or another unnamed `tf.Variable` exists in the file (the
`Variable_N` numbering would be unknown); the dicts are read anywhere but the model function and
its call (an l2 loss over `weights.values()`, a Saver list, `tf.gradients`); an entry is used
twice (shared weights) or never; the model function is called more than once (its weights are
shared between the calls); a dict use is not a foldable layer; a helper's layer is not foldable
(the reason conv_block / dense_block give the layer written inline is given: padding 'same',
strides of 3 entries, leaky_relu with another alpha, ...); `tf.global_variables_initializer()` /
a Saver / a variables list is made before the model is called (slim's variables would not be in
it).

Reverse: none of its own: the slim code it writes expands back with the block families.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import libcst as cst

from slimify import names as N
from slimify import tf1
from slimify.dataflow import names_bound, names_read, substitute_names
from slimify.ir import Code, Flatten, LayerCall
from slimify.rewrite import FileFacts, Names, Recognized, Refusal, Site
from slimify.tf1 import Unsupported

FAMILY = "helper_functions"

_BLOCK_FAMILIES = ("conv_block", "dense_block", "pool")
# Calls that snapshot the graph's variables: made before the model is called, they would miss slim's.
_SNAPSHOTS = (
    "tensorflow.global_variables_initializer",
    "tensorflow.initialize_all_variables",
    "tensorflow.global_variables",
    "tensorflow.trainable_variables",
    "tensorflow.train.Saver",
)


@dataclass(frozen=True)
class HelperModel:
    """A model function with some statements replaced by layer calls and dict parameters dropped."""

    function: cst.FunctionDef
    dropped_params: tuple[str, ...]
    layers: tuple[tuple[int, int, LayerCall], ...]  # (body index, statements consumed, layer)


@dataclass(frozen=True)
class CallWithoutWeights:
    """A call of the model function with the dict arguments dropped."""

    statement: cst.BaseStatement
    call: cst.Call
    dropped: tuple[int, ...]  # indices into call.args


@dataclass
class _Plan:
    model: cst.FunctionDef
    ir: HelperModel
    call_sites: dict[int, CallWithoutWeights]
    removals: tuple[cst.CSTNode, ...]
    renames: tuple[tuple[str, str], ...]


@dataclass
class _Entry:
    dict_name: str
    key: str
    call: cst.Call  # the tf.Variable
    old_name: str
    used: int = 0


class FoldHelperModel:
    """tf -> slim, for the model function and its call sites (see module doc)."""

    family = FAMILY
    dialect = "tf"
    markers = ("Variable(",)

    def recognize(self, site: Site) -> Recognized | Refusal | None:
        plan = site.file.memo(_plan_for)
        if plan is None:
            return None
        statement = site.statement
        if isinstance(plan, Refusal):
            anchor = plan.line
            return plan if site.file.line_of(statement) == anchor and not site.suites[-1].owner else None
        # The model function and its calls (which stop passing the dicts) stand or fall together.
        group, size = f"{FAMILY}:{plan.model.name.value}", 1 + len(plan.call_sites)
        if statement is plan.model:
            return Recognized(
                FAMILY, 1, plan.ir, releases=(N.TENSORFLOW,), removals=plan.removals, renames=plan.renames, group=group, group_size=size
            )
        if id(statement) in plan.call_sites:
            return Recognized(FAMILY, 1, plan.call_sites[id(statement)], group=group, group_size=size)
        return None


def _plan_for(facts: FileFacts) -> _Plan | Refusal | None:
    dicts, statements = _weight_dicts(facts)
    if not dicts:
        plan = None
    else:
        anchor = facts.line_of(statements[0])
        try:
            plan = _make_plan(facts, dicts, statements)
        except Unsupported as reason:
            plan = Refusal(FAMILY, anchor, f"model with weight dicts not folded: {reason}")
    return plan


def _weight_dicts(facts: FileFacts) -> tuple[dict[str, dict[str, _Entry]], list[cst.BaseStatement]]:
    """Module-level `name = {'key': tf.Variable(...), ...}`; entries named as TF1 names them."""
    dicts: dict[str, dict[str, _Entry]] = {}
    statements = []
    for statement in facts.module.body:
        if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
            continue
        small = statement.body[0]
        if not (isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name)):
            continue
        value = small.value
        if not (isinstance(value, cst.Dict) and value.elements):
            continue
        entries = {}
        for element in value.elements:
            if not (isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString)):
                break
            if not facts.is_call_to(element.value, N.TF_VARIABLE):
                break
            entries[element.key.evaluated_value] = _Entry(small.targets[0].target.value, element.key.evaluated_value, element.value, "")
        else:
            dicts[small.targets[0].target.value] = entries
            statements.append(statement)
    return dicts, statements


def _make_plan(facts: FileFacts, dicts: dict[str, dict[str, _Entry]], statements: list[cst.BaseStatement]) -> _Plan:
    if N.SLIM_ARG_SCOPE in facts.called_names:
        raise Unsupported("this file uses slim.arg_scope, which may change the slim layers' defaults")
    if N.TF_VARIABLE_SCOPE in facts.called_names:
        raise Unsupported("the file uses tf.variable_scope: slim's variables could get its prefix and the name map would be wrong")
    _name_variables(facts, dicts)
    dict_names = set(dicts)
    model = _model_function(facts, dict_names, statements)
    if facts.calls_by_name.get(model.name.value, 0) > 1:
        raise Unsupported(
            f"{model.name.value}() is called {facts.calls_by_name[model.name.value]} times: its dict weights are shared "
            "between the calls, slim's scopes would collide"
        )
    dropped_params = tuple(p.name.value for p in model.params.params if p.name.value in dict_names)
    call_sites = _call_sites(facts, model, dropped_params, dict_names, statements)
    helpers = {s.name.value: s for s in facts.module.body if isinstance(s, cst.FunctionDef) and s is not model}
    layers, inlined = _fold_model_body(facts, model, dicts, helpers)
    for entries in dicts.values():
        for entry in entries.values():
            if entry.used != 1:
                raise Unsupported(
                    f"{entry.dict_name}[{entry.key!r}] is used {entry.used} times by the model"
                    + (" (shared weights)" if entry.used > 1 else "")
                )
    removals = list(statements)
    for name in inlined:
        if len(_calls_of(facts.module, name)) == inlined[name]:
            removals.append(helpers[name])
    renames = tuple(rename for _, _, _, layer_renames in layers for rename in layer_renames)
    ir = HelperModel(model, dropped_params, tuple((i, span, call) for i, span, call, _ in layers))
    return _Plan(model, ir, call_sites, tuple(removals), renames)


def _name_variables(facts: FileFacts, dicts: dict[str, dict[str, _Entry]]) -> None:
    """The graph names TF1 gives the dict variables: `name=` if given, else `Variable`, `Variable_1`, ..."""
    in_dicts = {id(e.call): e for entries in dicts.values() for e in entries.values()}
    unnamed = 0
    found: list[cst.Call] = []

    class _Variables(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if facts.is_call_to(node, N.TF_VARIABLE):
                found.append(node)

    facts.module.visit(_Variables())
    for call in found:
        args = tf1.bind(call, tf1.SIGNATURES[N.TF_VARIABLE])
        entry = in_dicts.get(id(call))
        if "name" in args:
            name = tf1.literal(args["name"], "a dict variable's name")
            if not isinstance(name, str) or name.startswith("Variable"):
                raise Unsupported(f"line {facts.line_of(call)}: variable name {facts.code(args['name'])} makes the numbering unknown")
            if entry is not None:
                entry.old_name = name
            continue
        if entry is None:
            raise Unsupported(
                f"line {facts.line_of(call)} creates another unnamed tf.Variable: the Variable_N names of the dict weights are not known"
            )
        entry.old_name = "Variable" if unnamed == 0 else f"Variable_{unnamed}"
        unnamed += 1


def _model_function(facts: FileFacts, dict_names: set[str], statements) -> cst.FunctionDef:
    users = [s for s in facts.module.body if isinstance(s, cst.FunctionDef) and _dict_subscripts(s, dict_names, facts)]
    if len(users) != 1:
        shown = ", ".join(f"{u.name.value}()" for u in users) or "no function"
        raise Unsupported(
            f"the weight dicts are indexed by {shown} (weights kept for an l2 loss or shared?); only one model function is folded"
        )
    return users[0]


def _call_sites(facts: FileFacts, model: cst.FunctionDef, dropped_params, dict_names, statements) -> dict[int, CallWithoutWeights]:
    """Every other read of a dict must be the matching argument of a call of the model."""
    params = [p.name.value for p in model.params.params]
    sites: dict[int, CallWithoutWeights] = {}
    allowed: set[int] = set()
    lines: list[cst.SimpleStatementLine] = []

    nested: set[int] = set()

    class _Lines(cst.CSTVisitor):
        depth = 0

        def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
            lines.append(node)
            if self.depth:
                nested.add(id(node))

        def visit_For(self, node) -> None:
            self.depth += 1

        def leave_For(self, node) -> None:
            self.depth -= 1

        visit_While = visit_With = visit_For
        leave_While = leave_With = leave_For

    for statement in facts.module.body:
        if statement is not model and statement not in statements:
            statement.visit(_Lines())
    snapshots = [facts.line_of(line) for line in lines if _calls_any(line, facts, _SNAPSHOTS)]
    for statement in lines:
        for call in _calls_of(statement, model.name.value):
            if id(statement) in nested:
                raise Unsupported(
                    f"line {facts.line_of(statement)}: {model.name.value}() is called in a loop or a `with` block "
                    "(shared weights per pass, or a scope prefix the name map would miss)"
                )
            if any(line < facts.line_of(statement) for line in snapshots):
                raise Unsupported(f"line {min(snapshots)} lists or initializes the variables before {model.name.value}() creates slim's")
            dropped = []
            for position, arg in enumerate(call.args):
                if not (isinstance(arg.value, cst.Name) and arg.value.value in dict_names):
                    continue
                param = arg.keyword.value if arg.keyword is not None else (params[position] if position < len(params) else None)
                if param != arg.value.value or param not in dropped_params:
                    raise Unsupported(f"line {facts.line_of(call)} passes {arg.value.value} as {param}")
                dropped.append(position)
                allowed.add(id(arg.value))
            sites[id(statement)] = CallWithoutWeights(statement, call, tuple(dropped))
    stray: list[cst.Name] = []

    class _Reads(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            if node.value in dict_names and id(node) not in allowed:
                stray.append(node)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

    for statement in facts.module.body:
        if statement is not model and statement not in statements:
            statement.visit(_Reads())
    if stray:
        raise Unsupported(f"line {facts.line_of(stray[0])} reads {stray[0].value} outside the model (an l2 loss, a Saver, gradients?)")
    if any(len(_calls_of(s.statement, model.name.value)) != 1 for s in sites.values()):
        raise Unsupported(f"a statement calls {model.name.value}() twice")
    return sites


def _calls_of(node: cst.CSTNode, name: str) -> list[cst.Call]:
    found: list[cst.Call] = []

    class _Calls(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            if isinstance(call.func, cst.Name) and call.func.value == name:
                found.append(call)

    node.visit(_Calls())
    return found


def _calls_any(node: cst.CSTNode, facts: FileFacts, qualified: tuple[str, ...]) -> bool:
    found = []

    class _Calls(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            if facts.qname(call.func) in qualified:
                found.append(call)

    node.visit(_Calls())
    return bool(found)


# --- the model's body ----------------------------------------------------------------------


def _fold_model_body(facts: FileFacts, model: cst.FunctionDef, dicts, helpers):
    body = list(model.body.body) if isinstance(model.body, cst.IndentedBlock) else []
    dict_names = set(dicts)
    # Output names of the statements that use weights (a reshape to a weight's rows does not count).
    targets = [_target(s) if names_read(s) & dict_names and not facts.is_call_to(_value_of(s), N.TF_RESHAPE) else None for s in body]
    layers: list[tuple[int, int, LayerCall, tuple[tuple[str, str], ...]]] = []
    inlined: dict[str, int] = {}
    index = 0
    while index < len(body):
        statement = body[index]
        reads_dicts = bool(names_read(statement) & dict_names)
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            if reads_dicts:
                raise Unsupported(f"line {facts.line_of(statement)} uses the weight dicts inside a compound statement")
            index += 1
            continue
        value = _value(statement)
        helper = helpers.get(value.func.value) if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) else None
        folded = None
        if helper is not None:
            folded = _fold_helper_call(facts, statement, value, helper, dicts, _scope(targets, index, value, dicts, facts))
            if folded is None and reads_dicts:
                raise _not_a_layer(facts, statement, helper)
            if folded is not None:
                inlined[helper.name.value] = inlined.get(helper.name.value, 0) + 1
        elif reads_dicts:
            folded = _fold_inline(facts, body, index, dicts, _scope(targets, index, value, dicts, facts))
        elif not _has_string(statement):
            # The model is rewritten as a whole, so the statement-level families never see its body:
            # variable-free layers (a pool, dropout, flatten) are folded here. A string could be an
            # op name other code looks up, which the statement on its own cannot tell: left alone.
            folded = _fold_unscoped(facts, [facts.code(statement).strip()], ("pool", "dropout", "flatten"))
            folded = None if folded is None else (1, *folded)
        if folded is None:
            index += 1
            continue
        span, call, renames = folded
        layers.append((index, span, call, renames))
        index += span
    return layers, inlined


def _has_string(node: cst.CSTNode) -> bool:
    found = []

    class _Strings(cst.CSTVisitor):
        def visit_SimpleString(self, string: cst.SimpleString) -> None:
            found.append(string)

    node.visit(_Strings())
    return bool(found)


def _target(statement) -> str | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
            return small.targets[0].target.value
    return None


def _value_of(statement) -> cst.BaseExpression | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        return _value(statement)
    return None


def _value(statement: cst.SimpleStatementLine) -> cst.BaseExpression | None:
    small = statement.body[0]
    if isinstance(small, (cst.Assign, cst.Return)):
        return small.value
    return None


def _scope(targets, index, value, dicts, facts) -> str | None:
    """The layer's output name when it names one variable-backed layer only, else the weight
    dict key (None for a layer without variables: it needs no scope)."""
    name = targets[index]
    subscripts = _dict_subscripts(value, set(dicts), facts) if value is not None else []
    if not subscripts:
        return None
    if name is not None and targets.count(name) == 1:
        return name
    return subscripts[0][1]


def _dict_subscripts(node: cst.CSTNode, dict_names: set[str], facts: FileFacts) -> list[tuple[str, str, cst.Subscript]]:
    found: list[tuple[str, str, cst.Subscript]] = []

    class _Subscripts(cst.CSTVisitor):
        def visit_Subscript(self, sub: cst.Subscript) -> None:
            if isinstance(sub.value, cst.Name) and sub.value.value in dict_names:
                key = sub.slice[0].slice.value if len(sub.slice) == 1 and isinstance(sub.slice[0].slice, cst.Index) else None
                if not isinstance(key, cst.SimpleString):
                    raise Unsupported(f"line {facts.line_of(sub)}: {facts.code(sub)} is not indexed by a literal key")
                found.append((sub.value.value, key.evaluated_value, sub))

    node.visit(_Subscripts())
    return found


def _entry(dicts, dict_name: str, key: str, facts: FileFacts, node) -> _Entry:
    entry = dicts[dict_name].get(key)
    if entry is None:
        raise Unsupported(f"line {facts.line_of(node)}: {dict_name}[{key!r}] is not in the dict")
    return entry


def _named_variable(entry: _Entry, role: str, facts: FileFacts) -> str:
    """The dict's tf.Variable call, named as slim names it, as source text."""
    args = [a for a in entry.call.args if not (a.keyword is not None and a.keyword.value == "name")]
    return facts.code(entry.call.with_changes(args=tf1.commas([*args, tf1.keyword("name", tf1.string(role))])))


def _imports(facts: FileFacts) -> str:
    lines = [
        facts.code(s)
        for s in facts.module.body
        if isinstance(s, cst.SimpleStatementLine) and all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in s.body)
    ]
    return "".join(lines) + "import tensorflow.compat.v1 as slimify_tf_\n"


def _fold_synthetic(facts: FileFacts, scope: str, variables: list[tuple[str, _Entry]], lines: list[str]):
    """Run the block families on `with name_scope(scope): <variables> <lines>`; the variables get
    the roles weights / biases in whichever order makes a layer. When no order does, raises
    Unsupported with the families' reasons (the ones the same layer written inline gets), or
    returns None if it is no candidate of theirs."""
    from slimify.engine import rewrite_source  # noqa: PLC0415  (the engine loads this module)

    refusals: list[tuple[bool, list[str]]] = []
    for roles in itertools.permutations(("weights", "biases")[: len(variables)] if len(variables) <= 2 else ()):
        block = [f"    {local} = {_named_variable(entry, role, facts)}\n" for (local, entry), role in zip(variables, roles, strict=True)]
        header = _imports(facts) + f"with slimify_tf_.name_scope({scope!r}):\n"
        source = header + "".join(block) + "".join(f"    {line}\n" for line in lines)
        with tf1.snippet_of_tf1_file(tf1.plain_tensorflow_is_tf1(facts)):  # e.g. an initializer's TF 1 defaults
            result = rewrite_source(source, "slim", select=_BLOCK_FAMILIES)
        if len(result.rewrites) == 1 and not result.findings and isinstance(result.rewrites[0].ir, LayerCall):
            renames = tuple((entry.old_name, f"{scope}/{role}") for (_, entry), role in zip(variables, roles, strict=True))
            return result.rewrites[0].ir, renames
        refusals.append((_roles_follow_ranks(variables, roles, facts), [f.reason for f in result.findings]))
    # A role order the shapes contradict fails on the names given here ('biases' used as the
    # weights): its reason would mislead, so it is shown only when no order fits the shapes.
    fitting = [reason for follows, reasons in refusals if follows for reason in reasons]
    reasons = list(dict.fromkeys(fitting or [reason for _, reasons in refusals for reason in reasons]))
    if reasons:
        raise Unsupported("; ".join(reasons))
    return None


def _roles_follow_ranks(variables: list[tuple[str, _Entry]], roles: tuple[str, ...], facts: FileFacts) -> bool:
    """Whether the rank-1 variables, and only they, get the role biases (a layer's weights are rank 2 or 4)."""
    return all((role == "biases") == _is_rank_one(entry, facts) for (_, entry), role in zip(variables, roles, strict=True))


def _is_rank_one(entry: _Entry, facts: FileFacts) -> bool:
    try:
        initial = tf1.bind(entry.call, tf1.SIGNATURES[N.TF_VARIABLE]).get("initial_value")
        tf1.read_initial_value(initial, facts, 1, f"{entry.dict_name}[{entry.key!r}]")
    except Unsupported:
        return False
    return True


def _fold_helper_call(facts, statement, call: cst.Call, helper: cst.FunctionDef, dicts, scope: str | None):
    """`out = helper(args)`: the helper's body with its parameters bound, folded as one layer."""
    params = helper.params
    if params.star_arg is not cst.MaybeSentinel.DEFAULT and params.star_arg is not None or params.star_kwarg or params.kwonly_params:
        return None
    names = [p.name.value for p in params.params]
    bound: dict[str, cst.BaseExpression] = {}
    for position, arg in enumerate(call.args):
        if arg.star:
            return None
        name = arg.keyword.value if arg.keyword is not None else (names[position] if position < len(names) else None)
        if name not in names or name in bound:
            return None
        bound[name] = arg.value
    for param in params.params:
        if param.name.value not in bound:
            if param.default is None:
                return None
            bound[param.name.value] = param.default
    body = list(helper.body.body) if isinstance(helper.body, cst.IndentedBlock) else []
    if not body or not all(isinstance(s, cst.SimpleStatementLine) and len(s.body) == 1 for s in body):
        return None
    if not isinstance(body[-1].body[0], cst.Return):
        return None
    rebound = set().union(*(names_bound(s) for s in body))
    variables: list[tuple[str, _Entry]] = []
    literals: dict[str, str] = {}
    tensors: dict[str, str] = {}
    for name, value in bound.items():
        subscripts = _dict_subscripts(value, set(dicts), facts)
        if subscripts:
            if not (len(subscripts) == 1 and subscripts[0][2] is value) or name in rebound:
                return None
            entry = _entry(dicts, subscripts[0][0], subscripts[0][1], facts, value)
            variables.append((name, entry))
            continue
        try:
            tf1.literal(value)
        except Unsupported:
            tensors[name] = facts.code(value)
            continue
        if name in rebound:
            return None
        literals[name] = facts.code(value)
    if len(tensors) != 1 or (variables and scope is None):
        return None
    ((tensor_param, tensor_code),) = tensors.items()
    values = {name: cst.parse_expression(text) for name, text in literals.items()}
    lines = [facts.code(substitute_names(s, values)).strip() for s in body[:-1]]
    lines.append("slimify_out_ = " + facts.code(substitute_names(body[-1].body[0].value, values)))
    try:
        folded = _fold_synthetic(facts, scope, variables, lines) if variables else _fold_unscoped(facts, lines)
    except Unsupported as reason:
        raise _not_a_layer(facts, statement, helper, reason) from None
    if folded is None or folded[0].inputs.text != tensor_param:
        return None
    for _, entry in variables:
        entry.used += 1
    return 1, _retarget(folded[0], statement, tensor_code, facts), folded[1]


def _fold_unscoped(facts: FileFacts, lines: list[str], families: tuple[str, ...] = ("pool",)):
    """A variable-free layer (a pool helper's body, a dropout): one statement, folded on its own."""
    from slimify.engine import rewrite_source  # noqa: PLC0415

    if len(lines) != 1:
        return None
    with tf1.snippet_of_tf1_file(tf1.plain_tensorflow_is_tf1(facts)):  # e.g. dropout's keep_prob by position
        result = rewrite_source(_imports(facts) + lines[0] + "\n", "slim", select=families)
    if len(result.rewrites) == 1 and not result.findings and isinstance(result.rewrites[0].ir, LayerCall):
        return result.rewrites[0].ir, ()
    return None


def _not_a_layer(facts: FileFacts, statement, helper: cst.FunctionDef, reason: Unsupported | None = None) -> Unsupported:
    because = f": {reason}" if reason is not None else ""
    return Unsupported(f"line {facts.line_of(statement)}: {helper.name.value}() with dict weights is not a foldable layer{because}")


def _retarget(layer_call: LayerCall, statement: cst.SimpleStatementLine, inputs: str, facts: FileFacts) -> LayerCall:
    small = statement.body[0]
    output = Code(facts.code(small.targets[0].target)) if isinstance(small, cst.Assign) else None
    return LayerCall(layer_call.layer, Code(inputs), output, layer_call.scope)


def _fold_inline(facts: FileFacts, body, index: int, dicts, scope: str | None):
    """`h = tf.add(tf.matmul(x, weights['k']), biases['k'])` [+ `h = act(h)`], or a reshape to
    `weights['k']`'s first dimension."""
    statement = body[index]
    value = _value(statement)
    flatten = _reshape_to_weight_rows(facts, statement, value, dicts)
    if flatten is not None:
        return 1, flatten, ()
    subscripts = _dict_subscripts(value, set(dicts), facts)
    if not subscripts or len(subscripts) > 2:
        raise Unsupported(f"line {facts.line_of(statement)} uses the weight dicts in a way that is not a layer")
    variables = []
    replacements = {}
    for n, (dict_name, key, node) in enumerate(subscripts):
        local = f"slimify_v{n}_"
        variables.append((local, _entry(dicts, dict_name, key, facts, node)))
        replacements[id(node)] = local
    line = _assignment_line(statement, _replace_nodes(value, replacements), facts)
    candidates = []
    following = body[index + 1] if index + 1 < len(body) else None
    target = _target(statement)
    if target is not None and following is not None and _target(following) == target and not names_read(following) & set(dicts):
        candidates.append((2, [line, facts.code(following).strip()]))
    candidates.append((1, [line]))
    reasons: list[str] = []
    for span, lines in candidates:
        try:
            folded = _fold_synthetic(facts, scope, variables, lines)
        except Unsupported as reason:
            reasons.append(str(reason))
            continue
        if folded is not None:
            for _, entry in variables:
                entry.used += 1
            return span, _retarget(folded[0], body[index + span - 1], folded[0].inputs.text, facts), folded[1]
    because = f": {'; '.join(dict.fromkeys(reasons))}" if reasons else ""
    raise Unsupported(f"line {facts.line_of(statement)}: {facts.code(value)} is not a foldable dense layer{because}")


def _assignment_line(statement, value: cst.BaseExpression, facts: FileFacts) -> str:
    small = statement.body[0]
    target = facts.code(small.targets[0].target) if isinstance(small, cst.Assign) else "slimify_out_"
    return f"{target} = {cst.Module([]).code_for_node(value)}"


def _replace_nodes(node: cst.CSTNode, replacements: dict[int, str]) -> cst.CSTNode:
    class _Replace(cst.CSTTransformer):
        def on_leave(self, original, updated):
            if id(original) in replacements:
                return cst.Name(replacements[id(original)])
            return updated

    return node.visit(_Replace())


def _reshape_to_weight_rows(facts: FileFacts, statement, value, dicts) -> LayerCall | None:
    """`tf.reshape(x, [-1, weights['k'].get_shape().as_list()[0]])` -> Flatten(size=<rows as written>)."""
    if not facts.is_call_to(value, N.TF_RESHAPE):
        return None
    args = tf1.bind(value, tf1.SIGNATURES[N.TF_RESHAPE])
    shape = args.get("shape")
    if set(args) != {"tensor", "shape"} or not isinstance(shape, cst.List) or len(shape.elements) != 2:
        return None
    if not tf1.is_literal(shape.elements[0].value, -1):
        return None
    size = shape.elements[1].value
    if isinstance(size, cst.Call) and isinstance(size.func, cst.Name) and size.func.value == "int" and len(size.args) == 1:
        size = size.args[0].value
    if not (isinstance(size, cst.Subscript) and len(size.slice) == 1 and isinstance(size.slice[0].slice, cst.Index)):
        return None
    if not tf1.is_literal(size.slice[0].slice.value, 0):
        return None
    shape_call = size.value
    if isinstance(shape_call, cst.Call) and isinstance(shape_call.func, cst.Attribute) and shape_call.func.attr.value == "as_list":
        shape_call = shape_call.func.value
    if not (isinstance(shape_call, cst.Call) and isinstance(shape_call.func, cst.Attribute) and shape_call.func.attr.value == "get_shape"):
        return None
    subscripts = _dict_subscripts(shape_call.func.value, set(dicts), facts)
    if len(subscripts) != 1 or subscripts[0][2] is not shape_call.func.value:
        return None
    entry = _entry(dicts, subscripts[0][0], subscripts[0][1], facts, size)
    initial = tf1.bind(entry.call, tf1.SIGNATURES[N.TF_VARIABLE]).get("initial_value")
    if not isinstance(initial, cst.Call):
        return None
    _, dims = tf1.read_initial_value(initial, facts, 2, f"{entry.dict_name}[{entry.key!r}]")
    small = statement.body[0]
    output = Code(facts.code(small.targets[0].target)) if isinstance(small, cst.Assign) else None
    # The static first dimension of the variable, as its shape literal writes it: what get_shape() returns.
    return LayerCall(Flatten(size=Code(facts.code(dims[0]))), Code(facts.code(args["tensor"])), output, None)


# --- emitters ----------------------------------------------------------------------------------


class HelperModelEmitter:
    dialect = "slim"
    layer_types = (HelperModel,)

    def emit(self, model: HelperModel, names: Names) -> list[cst.BaseStatement] | Refusal:
        from slimify.engine import load_codemods  # noqa: PLC0415  (the engine loads this module)

        emitters = {t: e for e in load_codemods().emitters if e.dialect == "slim" for t in e.layer_types}
        function = model.function
        body = list(function.body.body)
        new_body: list[cst.BaseStatement] = []
        starts = {index: (span, call) for index, span, call in model.layers}
        index = 0
        while index < len(body):
            if index in starts:
                span, call = starts[index]
                emitted = emitters[type(call.layer)].emit(call, names)
                if isinstance(emitted, Refusal):
                    return emitted
                emitted[0] = emitted[0].with_changes(leading_lines=body[index].leading_lines)
                new_body.extend(emitted)
                index += span
                continue
            new_body.append(body[index])
            index += 1
        params = [p for p in function.params.params if p.name.value not in model.dropped_params]
        params = [p.with_changes(comma=cst.MaybeSentinel.DEFAULT) for p in params]
        return [
            function.with_changes(
                params=function.params.with_changes(params=params),
                body=function.body.with_changes(body=new_body),
            )
        ]


class CallWithoutWeightsEmitter:
    dialect = "slim"
    layer_types = (CallWithoutWeights,)

    def emit(self, site: CallWithoutWeights, names: Names) -> list[cst.BaseStatement]:
        args = [a for i, a in enumerate(site.call.args) if i not in site.dropped]
        new_call = site.call.with_changes(args=tf1.commas(args))
        return [site.statement.deep_replace(site.call, new_call)]


RECOGNIZERS = [FoldHelperModel()]
EMITTERS = [HelperModelEmitter(), CallWithoutWeightsEmitter()]
