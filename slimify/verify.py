"""`--verify`: every rewrite in the user's own file is run before and after, in isolation.

For each planned rewrite the engine's `review` hook builds two tiny modules,

    <the imports the block needs, resolved from the file's own imports>
    def build(<the block's input>):
        <the block's statements, before (or after) the rewrite>
        return <the block's output>

and a worker process (which imports TensorFlow once) runs both with `slimify.runner`:
inputs synthesized from the shapes the IR knows (two sizes, one odd, batch >= 2), weights
re-randomized and carried across by a checkpoint (by variable name, or through the rewrite's
renames), outputs compared bit for bit.

Only the statements the recognizer matched are executed, with only TensorFlow / tf_slim /
numpy / math imports bound: never the user's module top level, never another of their
imports. A block that reads any other name (a kernel size in a variable, a helper function,
`self.x`) cannot be run alone and is *unverifiable*: its rewrite is applied with
`verified=None` or left out, as the `unverified` policy says. A rewrite whose two sides
compute differently is never applied; the finding carries the numbers.

Nothing here imports TensorFlow: the worker does, in its own process.
"""

from __future__ import annotations

import ast
import atexit
import json
import os
import queue
import subprocess
import symtable
import sys
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from slimify import names as N
from slimify.engine import ReviewContext, review_context
from slimify.ir import Conv2D, Dense, Dropout, Flatten, LayerCall, Model, Pool2D, int_value
from slimify.rewrite import Finding, Rewrite

UNVERIFIED_POLICIES = ("apply", "skip")
# Libraries a block may use: importing them runs no user code.
_SAFE_LIBRARIES = ("tensorflow", "tf_slim", "numpy", "math")
# Builtins a layer block may call; anything else (open, exec, __import__, ...) is not run.
_SAFE_BUILTINS = frozenset(
    {"int", "float", "bool", "len", "range", "list", "tuple", "dict", "min", "max", "abs", "round", "True", "False", "None"}
)
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
        return {"before": self.before, "after": self.after, "shapes": [list(s) for s in self.input_shapes], "renames": self.renames}


@dataclass(frozen=True)
class Outcome:
    """What the worker found: "verified", "differs" (the rewrite is wrong) or "unverifiable"."""

    status: str
    reason: str = ""


# --- Pure: a rewrite to a Case, an Outcome to a verdict. -------------------------------------


def build_case(rewrite: Rewrite, context: ReviewContext | None) -> Case:
    """The rewrite as two standalone modules; raises Unverifiable with the reason."""
    call = rewrite.ir
    if isinstance(call, Model):
        raise Unverifiable("model-level rewrites are not run by --verify yet (their fixtures are)")
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
    bindings = file_bindings(context.source)
    added = {alias: f"import {module} as {alias}" if module != alias else f"import {module}" for module, alias in context.added_imports}
    before = _module(rewrite.before, parameter, call.output, bindings, "before")
    after = _module(rewrite.after, parameter, call.output, {**bindings, **added}, "after")
    return Case(before, after, shapes, dict(context.renames))


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
    free = _free_names(function, side)
    missing = sorted(name for name in free if name not in bindings and name not in _SAFE_BUILTINS)
    if missing:
        names = ", ".join(f"`{name}`" for name in missing)
        raise Unverifiable(f"the block {'' if side == 'before' else 'rewritten '}reads {names}, defined elsewhere in the file")
    imports = "".join(f"{bindings[name]}\n" for name in sorted(free) if name in bindings)
    return f"{imports}\n\n{function}"


def _free_names(function: str, side: str) -> set[str]:
    try:
        table = symtable.symtable(function, f"<{side}>", "exec")
    except SyntaxError as error:
        raise Unverifiable(f"the {side} block does not compile on its own: {error.msg}") from None
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
        return replace(rewrite, verified=True)
    if outcome.status == "differs":
        reason = f"rewrite failed verification, left unchanged: {outcome.reason}"
        return Finding(path, rewrite.start_line, rewrite.family, reason, "refused")
    if unverified == "skip":
        return Finding(path, rewrite.start_line, rewrite.family, f"could not verify, left unchanged: {outcome.reason}", "unverified")
    return replace(rewrite, verified=None)


# --- IO: the worker process. --------------------------------------------------------------


class Worker:
    """One verification subprocess (TensorFlow imported once), restarted after a timeout or crash."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._process: subprocess.Popen | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._owner = os.getpid()
        self._started = False
        atexit.register(self.close)

    def run(self, case: Case) -> Outcome:
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
