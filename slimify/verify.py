"""`--verify`: every rewrite in the user's own file is run before and after, in isolation.

For each planned rewrite the engine's `review` hook builds two tiny modules,

    <the imports the block needs, resolved from the file's own imports>
    def build(<the block's input>):
        <the block's statements, before (or after) the rewrite>
        return <the block's output>

and a worker process (which imports TensorFlow once) runs both with `slimify.runner`:
inputs synthesized from the shapes the IR knows (two sizes, one odd, batch >= 2), weights
re-randomized and carried across in memory (by variable name, or through the rewrite's
renames), outputs compared bit for bit.

A model-level rewrite (Keras <-> PyTorch, IR `Model`) becomes two modules holding the model
definition before and after, with the same imports policy, and the worker (importing torch on
the first such request) runs them with `slimify.model_runner.compare_models`: weights
re-randomized on the source model and ported through the rewrite's own IR, NHWC inputs of two
sizes the IR's shape rules accept (the declared input size first; one odd where the model
allows it), outputs within 1e-4. A model whose input size is neither declared nor fixed by its
layers is unverifiable.

Only the statements the recognizer matched are executed, with only TensorFlow / tf_slim /
Keras / torch / numpy / math imports bound: never the user's module top level, never another
of their imports. A block that reads any other name (a kernel size in a variable, a helper
function, `self.x`) cannot be run alone and is *unverifiable*: its rewrite is applied with
`verified=None` (its `verification` says why) or left out, as the `unverified` policy
says. A rewrite whose two sides compute differently is never applied; the finding
carries the numbers.

Nothing here imports TensorFlow: the worker does, in its own process.
"""

from __future__ import annotations

import ast
import atexit
import base64
import functools
import json
import os
import pickle
import queue
import subprocess
import symtable
import sys
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from codemods.keras_model import FAMILY as KERAS_MODEL_FAMILY
from codemods.torch_module import FAMILY as TORCH_MODULE_FAMILY
from slimify import names as N
from slimify.engine import ReviewContext, review_context
from slimify.ir import BatchNorm, Conv2D, Dense, Dropout, Flatten, LayerCall, Model, Pool2D, ShapeError, int_value, output_shapes
from slimify.rewrite import Finding, Rewrite

UNVERIFIED_POLICIES = ("apply", "skip")
# Libraries a block may use: importing them runs no user code.
_SAFE_LIBRARIES = ("tensorflow", "tf_slim", "keras", "torch", "numpy", "math")
# Builtins a layer block may call; anything else (open, exec, __import__, ...) is not run.
_SAFE_BUILTINS = frozenset(
    {"int", "float", "bool", "len", "range", "list", "tuple", "dict", "min", "max", "abs", "round", "True", "False", "None"}
)
# A model definition also subclasses (`super().__init__()`) and walks its layers.
_MODEL_BUILTINS = _SAFE_BUILTINS | {"super", "zip", "enumerate"}
# Which way a model-level rewrite goes, by the family of the recognizer that read the model.
MODEL_DIRECTIONS = {KERAS_MODEL_FAMILY: "keras->torch", TORCH_MODULE_FAMILY: "torch->keras"}
# Other input sizes to try beside a model's declared one, nearest first.
_NEARBY_SIZES = ((1, 1), (-1, -1), (1, 0), (0, 1), (-1, 0), (0, -1), (3, 3), (-3, -3), (2, 2), (-2, -2))
# Square sizes tried when a model declares none (a PyTorch module): the layers decide which fit.
_SEARCHED_SIZES = range(4, 65)
# Time for the worker to import TensorFlow before its first answer, on top of the per-rewrite timeout.
STARTUP_SECONDS = 120.0


class Unverifiable(Exception):
    """The block cannot be run on its own; the message says why, for the user."""


@dataclass(frozen=True)
class Case:
    """One rewrite as two runnable modules and the inputs to run them on."""

    before: str
    after: str
    input_shapes: tuple[tuple[int, ...], ...]
    renames: dict[str, str]

    def request(self) -> dict:
        shapes = [list(s) for s in self.input_shapes]
        return {"kind": "tf_block", "before": self.before, "after": self.after, "shapes": shapes, "renames": self.renames}


@dataclass(frozen=True)
class ModelCase:
    """A model-level rewrite as two runnable modules, the model's name in both, and its inputs."""

    before: str
    after: str
    entry: str
    input_shapes: tuple[tuple[int, ...], ...]
    direction: str  # "keras->torch" | "torch->keras"
    model_ir: Model  # what the recognizer read: the weight port follows it

    def request(self) -> dict:
        return {
            "kind": "model",
            "before": self.before,
            "after": self.after,
            "entry": self.entry,
            "shapes": [list(s) for s in self.input_shapes],
            "direction": self.direction,
            # Our own dataclasses, to our own worker process: pickle keeps them exact.
            "model_ir": base64.b64encode(pickle.dumps(self.model_ir)).decode("ascii"),
        }


@dataclass(frozen=True)
class Outcome:
    """What the worker found: "verified", "differs" (the rewrite is wrong) or "unverifiable"."""

    status: str
    reason: str = ""


# --- Pure: a rewrite to a Case, an Outcome to a verdict. -------------------------------------


def build_case(rewrite: Rewrite, context: ReviewContext | None) -> Case | ModelCase:
    """The rewrite as two standalone modules; raises Unverifiable with the reason."""
    call = rewrite.ir
    if isinstance(call, Model):
        return build_model_case(rewrite, context)
    if not isinstance(call, LayerCall):
        raise Unverifiable("the rewrite carries no layer IR to synthesize inputs from")
    if context is None:
        raise Unverifiable("the file's imports are not known, so the block's names cannot be bound")
    shapes = input_shapes(call)
    parameter = call.inputs.text
    if not _is_identifier(parameter):
        raise Unverifiable(f"the block's input `{parameter}` is not a plain variable")
    if call.output is not None and not _is_identifier(call.output.text):
        raise Unverifiable(f"the block's output `{call.output.text}` is not a plain variable")
    before_bindings, after_bindings = _bindings(context)
    before = _module(rewrite.before, parameter, call.output, before_bindings, "before")
    after = _module(rewrite.after, parameter, call.output, after_bindings, "after")
    return Case(before, after, shapes, dict(context.renames))


def build_model_case(rewrite: Rewrite, context: ReviewContext | None) -> ModelCase:
    """A Keras <-> PyTorch rewrite as two modules defining the model; raises Unverifiable."""
    model = rewrite.ir
    direction = MODEL_DIRECTIONS.get(rewrite.family)
    if direction is None:
        raise Unverifiable(f"no model runner knows the `{rewrite.family}` family")
    if context is None:
        raise Unverifiable("the file's imports are not known, so the model's names cannot be bound")
    shapes = model_input_shapes(model)
    before_bindings, after_bindings = _bindings(context)
    before = _model_module(rewrite.before, model.name, before_bindings, "before")
    after = _model_module(rewrite.after, model.name, after_bindings, "after")
    return ModelCase(before, after, model.name, shapes, direction, model)


def _bindings(context: ReviewContext) -> tuple[dict[str, str], dict[str, str]]:
    """The imports each side may use: the file's safe ones, and for the rewritten side also those
    the rewrite adds."""
    bindings = file_bindings(context.source)
    added = {alias: f"import {module} as {alias}" if module != alias else f"import {module}" for module, alias in context.added_imports}
    return bindings, {**bindings, **added}


def model_input_shapes(model: Model) -> tuple[tuple[int, ...], ...]:
    """Two NHWC inputs (batch 2 and 3) of sizes the IR's shape rules say the model takes.

    The declared size first, then the nearest other size that fits, preferring one that makes a
    size odd (TF's SAME puts its odd padding pixel bottom/right, which only an odd size shows); a
    model whose Flatten -> Dense pins the size gets the declared size twice. A PyTorch module
    declares no size: its first layer gives the channels, and its layers decide which sizes fit.
    """
    declared = model.input_shape
    if declared is not None and len(declared) != 3:
        raise Unverifiable(f"the model's input {declared} is not an image (height, width, channels)")
    if declared is not None and all(isinstance(size, int) and size > 0 for size in declared):
        height, width, channels = declared
        if not _fits(model, declared):
            raise Unverifiable(f"the model's layers do not fit its declared input shape {declared}")
        first = (height, width)
        nearby = [(height + dh, width + dw) for dh, dw in _NEARBY_SIZES if height + dh > 0 and width + dw > 0]
    else:
        channels = _input_channels(model)
        fitting = [(size, size) for size in _SEARCHED_SIZES if _fits(model, (size, size, channels))]
        if not fitting:
            raise Unverifiable(
                f"the model declares no input size and none from {_SEARCHED_SIZES.start} to {_SEARCHED_SIZES.stop - 1} fits its layers"
            )
        first = next((size for size in fitting if size[0] >= 8), fitting[0])
        nearby = sorted((size for size in fitting if size != first), key=lambda size: abs(size[0] - first[0]))
    others = [size for size in nearby if size != first and _fits(model, (*size, channels))]
    with_odd = [size for size in others if any(n % 2 for n in (*first, *size))]
    second = (with_odd or others or [first])[0]
    return ((2, *first, channels), (3, *second, channels))


def _fits(model: Model, image: tuple[int, int, int]) -> bool:
    try:
        output_shapes(model, image)
    except (ShapeError, LookupError, TypeError):
        return False
    return True


def _input_channels(model: Model) -> int:
    """The channels of a model that declares no input shape, from the layer reading the input."""
    for node in model.nodes:
        if "input" not in node.inputs:
            continue
        layer = node.layer
        channels = int_value(layer.in_channels) if isinstance(layer, Conv2D) else getattr(layer, "num_features", None)
        if isinstance(layer, (Conv2D, BatchNorm)) and channels:
            return channels
        if isinstance(layer, Dense):
            raise Unverifiable("the model takes flat features; --verify feeds models images")
    raise Unverifiable("the model declares no input shape and its first layer does not fix the number of channels")


def _model_module(statements: str, entry: str, bindings: dict[str, str], side: str) -> str:
    """The model definition alone, with the safe imports its names need; never the rest of the file.

    A model returned from a function (`def build_model(): return Sequential([...])`) is the
    `return` statement alone: it runs as that function, without its parameters.
    """
    code = textwrap.dedent(statements).strip("\n") + "\n"
    try:
        returns = any(isinstance(statement, ast.Return) for statement in ast.parse(code).body)
    except SyntaxError as error:
        raise Unverifiable(f"the {side} model does not compile on its own: {error.msg}") from None
    if returns:
        code = f"def {entry}():\n{textwrap.indent(code, '    ')}"
    what = "the model" if side == "before" else "the translated model"
    return _with_imports(code, _module_free_names(_symbols(code, side, "model")), bindings, _MODEL_BUILTINS, what)


def _module_free_names(table: symtable.SymbolTable) -> set[str]:
    """Names the module reads but never binds (imports, defs, assignments at its top level)."""
    top = table.get_symbols()
    bound = {symbol.get_name() for symbol in top if symbol.is_assigned() or symbol.is_imported()}
    free = {symbol.get_name() for symbol in top if symbol.is_referenced() and symbol.get_name() not in bound}
    return (free | _free_names(table)) - bound


def input_shapes(call: LayerCall) -> tuple[tuple[int, ...], ...]:
    """Two inputs for the block (batch >= 2; for images one odd size), from what the IR knows."""
    layer = call.layer
    if isinstance(layer, Conv2D):
        channels = _known_or(layer.in_channels, 3, "the number of input channels")
        return _images(channels, [_known_or(k, 1, "the kernel size") for k in layer.kernel_size], list(layer.strides))
    if isinstance(layer, Pool2D):
        pool = [_known_or(k, 1, "the pool size") for k in layer.pool_size]
        return _images(3, pool, [_known_or(s, 1, "the stride") for s in layer.strides])
    if isinstance(layer, Dense):
        features = _known_or(layer.in_features, 5, "the number of input features")
        return ((2, features), (3, features))
    if isinstance(layer, Flatten):
        return ((2, 5, 3, 4), (3, 4, 6, 2))
    if isinstance(layer, Dropout):
        raise Unverifiable("dropout draws random masks, so the two sides cannot be compared")
    raise Unverifiable(f"no input shape is known for {type(layer).__name__} blocks")


def _known_or(value, default: int, what: str) -> int:
    if value is None:
        return default  # the target reads it from the input: any size works
    number = int_value(value)
    if number is None or number < 1:
        raise Unverifiable(f"{what} is only known at run time ({getattr(value, 'text', value)})")
    return number


def _images(channels: int, kernel: list[int], strides: list[int]) -> tuple[tuple[int, ...], ...]:
    # Big enough for a VALID window and a few strides; the first size odd on both axes (TF's
    # SAME puts the odd padding pixel bottom/right, which only an odd size shows).
    height, width = (max(9, 2 * k + 1, 3 * s + 1) | 1 for k, s in zip(kernel, strides, strict=True))
    return ((2, height, width, channels), (3, height + 1, width + 3, channels))


def _is_identifier(text: str) -> bool:
    import keyword  # noqa: PLC0415

    return text.isidentifier() and not keyword.iskeyword(text)


@functools.lru_cache(maxsize=4)  # asked once per rewrite, and a file may hold hundreds
def file_bindings(source: str) -> dict[str, str]:
    """Local name -> the import statement that binds it, for the safe libraries the file imports.

    Every import in the file counts (a block inside a function may use a function-level import);
    a name imported as two different things is left out, so a block using it is unverifiable.
    `tensorflow.contrib.slim` spellings become `tf_slim`, which is what TF 2 has.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    found: dict[str, set[str]] = {}

    def bind(local: str, statement: str) -> None:
        found.setdefault(local, set()).add(statement)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in _SAFE_LIBRARIES:
                    continue
                if alias.asname is None:
                    bind(alias.name.split(".")[0], f"import {alias.name}")
                else:
                    bind(alias.asname, _import_as(alias.name, alias.asname))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module.split(".")[0] not in _SAFE_LIBRARIES:
                continue
            for alias in node.names:
                if alias.name == "*":
                    continue
                local = alias.asname or alias.name
                bind(local, _import_as(f"{node.module}.{alias.name}", local, node.module, alias.name))
    imported = {local: next(iter(statements)) for local, statements in found.items() if len(statements) == 1}
    for node in tree.body:  # `slim = tf.contrib.slim`
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            dotted = _dotted(node.value)
            head, _, rest = (dotted or "").partition(".")
            module = _module_of(imported.get(head))
            if module and N.canonical(f"{module}.{rest}" if rest else module) == N.TF_SLIM:
                found.setdefault(node.targets[0].id, set()).add(f"import tf_slim as {node.targets[0].id}")
    return {local: next(iter(statements)) for local, statements in found.items() if len(statements) == 1}


def _import_as(full: str, local: str, module: str | None = None, name: str | None = None) -> str:
    canonical = N.canonical(full)
    if canonical == N.TF_SLIM:
        return f"import tf_slim as {local}"
    if canonical.startswith(N.TF_SLIM + ".") and full.startswith("tensorflow.contrib."):
        base, _, obj = canonical.rpartition(".")
        return f"from {base} import {obj} as {local}"
    if module is not None:
        return f"from {module} import {name} as {local}"
    return f"import {full} as {local}"


def _module_of(statement: str | None) -> str | None:
    if statement is None:
        return None
    words = statement.split()
    if words[0] == "import":
        return words[1]
    return f"{words[1]}.{words[3]}"


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def _module(statements: str, parameter: str, output, bindings: dict[str, str], side: str) -> str:
    body = textwrap.indent(statements, "    ")
    if output is not None:
        body += f"    return {output.text}\n"
    function = f"def build({parameter}):\n{body}"
    what = "the block" if side == "before" else "the block rewritten"
    return _with_imports(function, _free_names(_symbols(function, side, "block")), bindings, _SAFE_BUILTINS, what)


def _with_imports(code: str, free: set[str], bindings: dict[str, str], builtins: frozenset[str], what: str) -> str:
    """`code` preceded by the imports its free names need; Unverifiable if one is not a safe import."""
    missing = sorted(name for name in free if name not in bindings and name not in builtins)
    if missing:
        names = ", ".join(f"`{name}`" for name in missing)
        raise Unverifiable(f"{what} reads {names}, defined elsewhere in the file")
    imports = "".join(f"{bindings[name]}\n" for name in sorted(free) if name in bindings)
    return f"{imports}\n\n{code}"


def _symbols(code: str, side: str, what: str) -> symtable.SymbolTable:
    try:
        return symtable.symtable(code, f"<{side}>", "exec")
    except SyntaxError as error:
        raise Unverifiable(f"the {side} {what} does not compile on its own: {error.msg}") from None


def _free_names(table: symtable.SymbolTable) -> set[str]:
    """Names read, in the functions and classes of the module, that none of them binds."""
    free: set[str] = set()
    pending = list(table.get_children())
    while pending:
        scope = pending.pop()
        pending.extend(scope.get_children())
        for symbol in scope.get_symbols():
            if symbol.is_global() or (symbol.is_free() and scope.get_type() == "module"):
                free.add(symbol.get_name())
            elif symbol.is_nonlocal() or symbol.is_declared_global():
                raise Unverifiable("the block declares global or nonlocal names")
    return free


def verdict(rewrite: Rewrite, outcome: Outcome, path: str, unverified: str) -> Rewrite | Finding:
    """What the engine does with the rewrite, given what running it showed."""
    if outcome.status == "verified":
        return replace(rewrite, verified=True, verification=outcome.reason)
    if outcome.status == "differs":
        reason = f"rewrite failed verification, left unchanged: {outcome.reason}"
        return Finding(path, rewrite.start_line, rewrite.family, reason, "refused")
    if unverified == "skip":
        return Finding(path, rewrite.start_line, rewrite.family, f"could not verify, left unchanged: {outcome.reason}", "unverified")
    return replace(rewrite, verified=None, verification=outcome.reason)  # the report says why it carries no proof


# --- IO: the worker process. --------------------------------------------------------------


class Worker:
    """One verification subprocess (TensorFlow imported once, torch with the first model), restarted after a timeout or crash."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._process: subprocess.Popen | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._owner = os.getpid()
        self._started = False
        atexit.register(self.close)

    def run(self, case: Case | ModelCase) -> Outcome:
        if self._process is None or self._process.poll() is not None or self._owner != os.getpid():
            self._start()
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(case.request()) + "\n")
            self._process.stdin.flush()
        except OSError as error:
            self.close()
            return Outcome("unverifiable", f"the verification worker stopped: {error}")
        allowance = self.timeout + (0.0 if self._started else STARTUP_SECONDS)
        try:
            line = self._lines.get(timeout=allowance)
        except queue.Empty:
            self.close()
            return Outcome("unverifiable", f"running the block took longer than {self.timeout:g} s")
        if line is None:
            self.close()
            return Outcome("unverifiable", "the verification worker exited (TensorFlow or tf_slim missing?)")
        self._started = True
        answer = json.loads(line)
        return Outcome(answer["status"], answer.get("reason", ""))

    def _start(self) -> None:
        self.close()
        environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        package_root = str(Path(__file__).resolve().parent.parent)
        environment["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, environment.get("PYTHONPATH")) if p)
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "slimify.verify_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=environment,
        )
        self._owner = os.getpid()
        self._started = False
        self._lines = queue.Queue()
        threading.Thread(target=_pump, args=(self._process.stdout, self._lines), daemon=True).start()

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None and self._owner == os.getpid():
            if process.poll() is None:
                process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def make_review_factory(*, unverified: str = "apply", timeout: float = 60.0) -> Callable[[str], Callable[[Rewrite], Rewrite | Finding]]:
    """`factory(path)` gives the engine's `review` hook for one file; one worker serves them all."""
    if unverified not in UNVERIFIED_POLICIES:
        raise ValueError(f"unverified must be one of {UNVERIFIED_POLICIES}, not {unverified!r}")
    worker = Worker(timeout)

    def factory(path: str) -> Callable[[Rewrite], Rewrite | Finding]:
        def review(rewrite: Rewrite) -> Rewrite | Finding:
            try:
                case = build_case(rewrite, review_context())
            except Unverifiable as reason:
                return verdict(rewrite, Outcome("unverifiable", str(reason)), path, unverified)
            return verdict(rewrite, worker.run(case), path, unverified)

        return review

    factory.worker = worker  # type: ignore[attr-defined]  (tests and benchmarks close it)
    return factory
