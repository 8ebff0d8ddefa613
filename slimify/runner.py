"""Proving a tf <-> slim rewrite: run the code before and after and compare.

A fixture (or a block extracted by `--verify`) is a module that defines `build(x)`, returning
the output tensor for the input tensor `x`, and `INPUT_SHAPES`, a list of input shapes. For
each shape the runner:

1. executes the *before* module in a fresh `tf.Graph` with `tensorflow` bound to
   `tensorflow.compat.v1` (TF1 code runs unchanged; `disable_v2_behavior` is never called,
   it would break Keras 3 in the same process), builds the graph, initializes it and then
   re-randomizes every variable (normal values plus a non-zero offset, so a dropped bias
   shows), and saves a checkpoint;
2. executes the *after* module the same way and restores that checkpoint into it by variable
   name, which fails unless both sides have the same variable names and shapes;
3. feeds the same random input to both and compares the outputs bit for bit.

Both sides run with Grappler's graph rewrites off (`_as_written`): what is compared is the code
as written, op for op. With them on, `tf.nn.elu(conv + biases)` and `slim.conv2d(...,
activation_fn=tf.nn.elu)` (conv2d, bias_add, elu) differ by 6e-8: the optimizer rewrites the
two graphs differently (fused kernels), not the code.

That is `compare_tf_graphs`, the fixtures' proof: a checkpoint on disk is what users restore.
`--verify` runs one comparison per rewrite in the user's file and uses `compare_tf_blocks`, the
same proof built once: each side's graph is built a single time with the batch and spatial
sizes left open (`None`), so both inputs run through one graph and one Session per side (a
block that needs static sizes, e.g. `x.get_shape()` in a reshape, gets one graph per input
size instead); the re-randomized values are fed into both sides' variable initializers in
memory, matched by variable name (or through the rewrite's renames) after checking that the
two sides hold the same variable names, shapes and dtypes, and read back from both sides to
show they arrived (and are non-zero, so a dropped bias shows).

TensorFlow is imported here only; the rewrite path never imports this module.
"""

from __future__ import annotations

import builtins
import sys
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class VerificationResult:
    ok: bool
    max_abs_diff: float = 0.0
    message: str = ""
    variables: dict[str, tuple[int, ...]] = field(default_factory=dict)
    shapes_run: list[tuple[int, ...]] = field(default_factory=list)


class VerificationError(AssertionError):
    pass


def _tf():
    import tensorflow.compat.v1 as tf  # noqa: PLC0415  (optional extra, imported on demand)

    _alias_tf_keras_legacy_layers()
    return tf


def _alias_tf_keras_legacy_layers() -> None:
    """tf_slim's batch_norm imports `tf_keras.legacy_tf_layers`, which moved under `tf_keras.src`."""
    try:
        import tf_keras.src.legacy_tf_layers as legacy  # noqa: PLC0415
        import tf_keras.src.legacy_tf_layers.normalization as normalization  # noqa: PLC0415
    except ImportError:
        return
    sys.modules.setdefault("tf_keras.legacy_tf_layers", legacy)
    sys.modules.setdefault("tf_keras.legacy_tf_layers.normalization", normalization)


def _tf1_builtins() -> dict:
    """builtins whose `import tensorflow` yields `tensorflow.compat.v1` (dotted imports untouched)."""
    tf = _tf()
    real_import = builtins.__import__

    def tf1_import(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "tensorflow" and level == 0:
            return tf
        return real_import(name, globals, locals, fromlist, level)

    namespace = dict(vars(builtins))
    namespace["__import__"] = tf1_import
    return namespace


def load_module(source: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__["__builtins__"] = _tf1_builtins()
    exec(compile(source, name, "exec"), module.__dict__)
    return module


def _random_input(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _build(tf, source: str, name: str, shape: tuple[int, ...]):
    graph = tf.Graph()
    with graph.as_default():
        module = load_module(source, name)
        x = tf.placeholder(tf.float32, shape=shape, name="input")
        y = module.build(x)
        variables = {v.op.name: tuple(v.shape.as_list()) for v in tf.global_variables()}
        saver = tf.train.Saver() if variables else None
        init = tf.global_variables_initializer()
    return graph, x, y, variables, saver, init


def compare_tf_graphs(
    before: str, after: str, input_shapes, *, seed: int = 0, name_map: dict[str, str] | None = None
) -> VerificationResult:
    """Run `before` and `after` (TF1 graph code) on the same inputs and weights; see module doc.

    `name_map` (old variable name -> new, as `--name-map` writes it) is for rewrites that rename
    variables: the before-checkpoint is then restored into the after-graph through the map, so
    the map itself is what is proven (a wrong or missing entry fails the restore or the outputs).
    """
    tf = _tf()
    shapes = [tuple(s) for s in input_shapes]
    _check_shapes(shapes)
    worst = 0.0
    variables_seen: dict[str, tuple[int, ...]] = {}
    for run, shape in enumerate(shapes):
        g1, x1, y1, vars1, saver1, init1 = _build(tf, before, "before", shape)
        g2, x2, y2, vars2, saver2, init2 = _build(tf, after, "after", shape)
        if name_map is not None:
            unmapped = sorted(set(vars1) - set(name_map))
            if unmapped:
                return VerificationResult(False, message=f"variables missing from the name map: {unmapped}", variables=vars1)
            vars1 = {name_map[k]: v for k, v in vars1.items()}
            with g2.as_default():
                by_name = {v.op.name: v for v in tf.global_variables()}
                # Saver(var_list={name in checkpoint: variable}) restores across the rename.
                saver2 = tf.train.Saver({old: by_name[new] for old, new in name_map.items() if new in by_name}) if by_name else None
        if vars1 != vars2:
            return VerificationResult(False, message=_describe_variable_difference(vars1, vars2), variables=vars1)
        feed = _random_input(shape, seed + run)
        rng = np.random.default_rng(seed + 1000 + run)
        config = _as_written(tf)
        with tempfile.TemporaryDirectory() as tmp, tf.Session(graph=g1, config=config) as s1, tf.Session(graph=g2, config=config) as s2:
            s1.run(init1)
            with g1.as_default():
                for variable in tf.global_variables():
                    variable.load(_random_values(rng, tuple(variable.shape.as_list()), np.float32), s1)
            out1 = s1.run(y1, {x1: feed})
            if saver1 is not None:
                checkpoint = saver1.save(s1, str(Path(tmp) / "before.ckpt"))
                saver2.restore(s2, checkpoint)  # by variable name: the checkpoint must load across
            else:
                s2.run(init2)
            out2 = s2.run(y2, {x2: feed})
        diff, wrong = _output_difference(out1, out2, shape)
        if wrong:
            return VerificationResult(False, diff, wrong, vars1)
        worst = max(worst, diff)
        variables_seen = vars1
    return VerificationResult(True, worst, "identical outputs, variable names and shapes", variables_seen, shapes)


def compare_tf_blocks(before: str, after: str, input_shapes, *, seed: int = 0, renames: dict[str, str] | None = None) -> VerificationResult:
    """`--verify`'s comparison: `compare_tf_graphs`' checks, with weights carried in memory.

    `renames` (old variable name -> new) lists only the variables the rewrite renames; every
    other variable must keep its name. See the module docstring for how this differs from the
    checkpoint path and why it proves the same.
    """
    tf = _tf()
    shapes = [tuple(s) for s in input_shapes]
    _check_shapes(shapes)
    renames = renames or {}
    open_shape = (None,) * (len(shapes[0]) - 1) + shapes[0][-1:]
    if len({len(s) for s in shapes}) == 1 and len({s[-1] for s in shapes}) == 1:
        try:  # one graph per side for every input size
            sides = [_Side.build(tf, before, "before", open_shape), _Side.build(tf, after, "after", open_shape)]
            return _compare_sides(tf, [sides] * len(shapes), shapes, seed, renames)
        except (_NeedsStaticShape, tf.errors.OpError):
            pass  # judged on concrete sizes below, where a real failure is reported
    runs = [[_Side.build(tf, before, "before", shape), _Side.build(tf, after, "after", shape)] for shape in shapes]
    return _compare_sides(tf, runs, shapes, seed, renames)


class _NeedsStaticShape(Exception):
    """The block cannot be built with open sizes (it reads a size from the input's static shape)."""


@dataclass
class _Side:
    """One side of a comparison: its graph, built once, and one Session on it."""

    graph: object
    x: object
    y: object
    variables: list  # tf variables, in creation order
    signature: dict[str, tuple[tuple[int, ...], str]]  # name -> (shape, dtype)
    loaded: list  # each variable read after every initializer has run
    session: object = None

    @classmethod
    def build(cls, tf, source: str, name: str, shape: tuple) -> _Side:
        graph = tf.Graph()
        with graph.as_default():
            try:
                module = load_module(source, name)
                x = tf.placeholder(tf.float32, shape=shape, name="input")
                y = module.build(x)
            except Exception as error:
                if None in shape:
                    raise _NeedsStaticShape from error
                raise
            variables = list(tf.global_variables())
            signature = {v.op.name: (tuple(v.shape.as_list()), v.dtype.base_dtype.name) for v in variables}
            with tf.control_dependencies([v.initializer for v in variables]):
                loaded = [v.read_value() for v in variables]
        return cls(graph, x, y, variables, signature, loaded)

    def load(self, tf, values: dict[str, np.ndarray]) -> list[str]:
        """Give every variable its value (initializers run with the value fed in, one Session.run
        for the lot); the names of those that do not then hold exactly that, non-zero, value."""
        self.session = tf.Session(graph=self.graph, config=_as_written(tf))
        if not self.variables:
            return []
        initial = {v.initializer.inputs[1]: values[v.op.name] for v in self.variables}
        held = self.session.run(self.loaded, initial)
        return [v.op.name for v, got in zip(self.variables, held, strict=True) if not _holds(got, values[v.op.name])]

    def run(self, feed: np.ndarray) -> np.ndarray:
        return self.session.run(self.y, {self.x: feed})

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None


def _as_written(tf):
    """Session options that run the graph as the code wrote it.

    Grappler's rewrites (constant folding, fusing conv + bias + activation into one kernel, ...)
    keep what is computed but may round differently on one side than on the other; without them
    the comparison is of the code, op for op. They also cost more than a small block itself:
    each Session optimizes its graph again for every new set of fetches.
    """
    config = tf.ConfigProto()
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    return config


def _compare_sides(tf, runs: list[list[_Side]], shapes: list[tuple[int, ...]], seed: int, renames: dict[str, str]) -> VerificationResult:
    """Compare each input's (before, after) pair; one pair may serve every input (open sizes)."""
    try:
        worst = 0.0
        variables: dict[str, tuple[int, ...]] = {}
        for run, (shape, (one, two)) in enumerate(zip(shapes, runs, strict=True)):
            if one.session is None:  # a pair seen for the first time: check it and give it weights
                variables = {name: size for name, (size, _) in one.signature.items()}
                refused = _load_pair(tf, one, two, np.random.default_rng(seed + 1000 + run), renames)
                if refused:
                    return VerificationResult(False, message=refused, variables=variables)
            feed = _random_input(shape, seed + run)
            diff, wrong = _output_difference(one.run(feed), two.run(feed), shape)
            if wrong:
                return VerificationResult(False, diff, wrong, variables)
            worst = max(worst, diff)
        return VerificationResult(True, worst, "identical outputs, variable names and shapes", variables, shapes)
    finally:
        for pair in runs:
            for side in pair:
                side.close()


def _load_pair(tf, one: _Side, two: _Side, rng, renames: dict[str, str]) -> str | None:
    """Check that both sides hold the same variables (through `renames`) and give both the same
    random values; what is wrong, or None."""
    mapped = {renames.get(name, name): signature for name, signature in one.signature.items()}
    if len(mapped) != len(one.signature):
        return "the renames give two variables one name"
    if mapped != two.signature:
        return _describe_signature_difference(mapped, two.signature)
    values = {name: _random_values(rng, shape, tf.as_dtype(dtype).as_numpy_dtype) for name, (shape, dtype) in sorted(one.signature.items())}
    wrong = one.load(tf, values) + two.load(tf, {renames.get(name, name): value for name, value in values.items()})
    return f"the random weights did not arrive in {wrong}" if wrong else None


def _output_difference(out1: np.ndarray, out2: np.ndarray, shape: tuple[int, ...]) -> tuple[float, str | None]:
    """The max abs difference of two outputs, and what is wrong unless they are bit-identical."""
    if out1.shape != out2.shape:
        return float("inf"), f"output shapes differ for input {shape}: {out1.shape} vs {out2.shape}"
    diff = float(np.max(np.abs(out1.astype(np.float64) - out2.astype(np.float64)))) if out1.size else 0.0
    if not np.array_equal(out1, out2):
        return diff, f"outputs differ for input {shape}: max abs diff {diff:.3g}"
    return diff, None


def _random_values(rng, shape: tuple[int, ...], dtype) -> np.ndarray:
    if np.dtype(dtype).kind in "iub":
        return rng.integers(1, 10, shape).astype(dtype)
    # The offset keeps values away from zero, so a bias that was dropped changes the output.
    return (rng.standard_normal(shape) * 0.5 + 0.25).astype(dtype)


def _holds(got: np.ndarray, sent: np.ndarray) -> bool:
    """The variable holds exactly the values sent, and they are non-zero (so they show)."""
    got = np.asarray(got)
    return got.shape == sent.shape and np.array_equal(got, sent) and bool(np.all(got != 0))


def _check_shapes(shapes: list[tuple[int, ...]]) -> None:
    if len(shapes) < 2:
        raise VerificationError("need at least two input shapes")
    if any(s[0] < 2 for s in shapes):
        raise VerificationError("every input needs a batch of at least 2")
    if all(len(s) == 4 for s in shapes) and not any(s[1] % 2 or s[2] % 2 for s in shapes):
        raise VerificationError("one image input needs an odd spatial size (catches SAME asymmetry)")


def _describe_signature_difference(a: dict, b: dict) -> str:
    """Like `_describe_variable_difference`, for name -> (shape, dtype)."""
    shapes = _describe_variable_difference({k: s for k, (s, _) in a.items()}, {k: s for k, (s, _) in b.items()})
    if shapes != "variables differ: ":
        return shapes
    return "variable dtypes differ: " + ", ".join(f"{k} {a[k][1]} -> {b[k][1]}" for k in sorted(a) if a[k] != b[k])


def _describe_variable_difference(a: dict, b: dict) -> str:
    missing = sorted(set(a) - set(b))
    extra = sorted(set(b) - set(a))
    reshaped = sorted(k for k in set(a) & set(b) if a[k] != b[k])
    parts = []
    if missing:
        parts.append(f"missing after: {missing}")
    if extra:
        parts.append(f"new after: {extra}")
    if reshaped:
        parts.append("shape changed: " + ", ".join(f"{k} {a[k]} -> {b[k]}" for k in reshaped))
    return "variables differ: " + "; ".join(parts)
