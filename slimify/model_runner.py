"""Proving a Keras <-> PyTorch translation: build both models, port weights, run, compare.

`compare_models(before, after, entry, input_shapes, direction)`:
1. executes both sources as modules and takes `entry` from each: a class or a function is
   called with no arguments (`Net()`, `build_model()`), anything else is the model itself;
2. runs the source model alone first: it must run on the first input (else `OriginalFails`:
   nothing can be said of a translation whose reference does not run); a later input it
   rejects (a Keras functional model keeps its `Input` size) is replaced by the first size
   with the later batch, since the translation only has to agree where the original runs;
3. builds the Keras model on the first input, re-randomizes every weight of the *source*
   model (kernels scaled by fan-in so nothing saturates, non-zero biases, BatchNorm gamma, beta,
   moving mean and variance away from their initial 1, 0, 0, 1);
4. ports them into the other model with `slimify.model_port` (kernel transposes, the Flatten
   permutation, BatchNorm statistics), through the IR the recognizer read from `before`;
5. runs both in inference mode on the same inputs (NHWC for Keras, transposed to NCHW for
   PyTorch) and compares the outputs (image outputs transposed back): float32, max abs diff
   <= 1e-4. Never argmax.

Input shapes are NHWC with the batch first: at least two, each with a batch of at least 2.
Keras and torch are imported here only, on demand; the rewrite path never imports this module.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field

import numpy as np

from slimify import ir
from slimify.model_port import DIRECTIONS, fan_in, port_weights

TOLERANCE = 1e-4


class OriginalFails(Exception):
    """The source model cannot be built, or does not run on its declared input."""


@dataclass
class ModelComparison:
    ok: bool
    max_abs_diff: float = 0.0
    message: str = ""
    shapes_run: list[tuple[int, ...]] = field(default_factory=list)


def load_module(source: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)
    return module


def build_entry(source: str, entry: str, name: str):
    module = load_module(source, name)
    if entry not in module.__dict__:
        raise LookupError(f"{name} defines no `{entry}`")
    value = module.__dict__[entry]
    return value() if isinstance(value, (type, types.FunctionType)) else value


def model_ir_of(source: str, entry: str, direction: str) -> ir.Model:
    """The IR the recognizer reads from `source` for the model named `entry`."""
    from slimify.engine import rewrite_source  # noqa: PLC0415

    target = direction.split("->")[1]
    result = rewrite_source(source, target)
    for rewrite in result.rewrites:
        if isinstance(rewrite.ir, ir.Model) and rewrite.ir.name == entry:
            return rewrite.ir
    reasons = "; ".join(f.reason for f in result.findings) or "no model recognized"
    raise LookupError(f"`{entry}` is not translated: {reasons}")


def compare_models(
    before: str,
    after: str,
    entry: str,
    input_shapes,
    direction: str,
    *,
    model_ir: ir.Model | None = None,
    seed: int = 0,
) -> ModelComparison:
    """Run `before` and `after` with ported weights on the same inputs; see the module docstring."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}")
    shapes = [tuple(s) for s in input_shapes]
    if len(shapes) < 2 or any(len(s) != 4 or s[0] < 2 for s in shapes):
        raise ValueError("need at least two NHWC input shapes, each with a batch of at least 2")
    # Imported first, on demand: a missing torch must not read as the original model failing.
    import torch  # noqa: F401, PLC0415

    model_ir = model_ir or model_ir_of(before, entry, direction)
    source_framework = direction.split("->")[0]
    try:
        source = build_entry(before, entry, "before")
        shapes = _shapes_it_runs(source, shapes, source_framework)  # builds a Keras source's weights
    except Exception as error:
        raise OriginalFails(str(error)) from error
    target = build_entry(after, entry, "after")
    keras_model, torch_model = (source, target) if direction == "keras->torch" else (target, source)
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    keras_model(inputs[0], training=False)  # builds the Keras model's weights
    torch_model.eval()
    if direction == "keras->torch":
        randomize_keras(keras_model, rng)
    else:
        randomize_torch(torch_model, rng)
    port_weights(model_ir, source, target, direction=direction, input_shape=shapes[0][1:])
    worst = 0.0
    for x in inputs:
        expected = np.asarray(_infer(keras_model, x, "keras"), dtype=np.float32)
        got = _infer(torch_model, x, "torch").numpy()
        if got.ndim == 4:
            got = got.transpose(0, 2, 3, 1)
        if expected.shape != got.shape:
            message = f"output shapes differ for input {x.shape}: Keras {expected.shape}, PyTorch {got.shape}"
            return ModelComparison(False, float("inf"), message, shapes)
        diff = float(np.max(np.abs(expected.astype(np.float64) - got.astype(np.float64))))
        worst = max(worst, diff)
        if not diff <= TOLERANCE:
            return ModelComparison(False, worst, f"outputs differ for input {x.shape}: max abs diff {diff:.3g} > {TOLERANCE}", shapes)
    return ModelComparison(True, worst, f"outputs agree: max abs diff {worst:.3g}", shapes)


def _infer(model, x: np.ndarray, framework: str):
    """The model called on the NHWC input `x` in inference mode (a PyTorch model gets it as NCHW)."""
    if framework == "keras":
        return model(x, training=False)
    import torch  # noqa: PLC0415

    with torch.no_grad():
        return model(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()))


def _shapes_it_runs(model, shapes: list[tuple[int, ...]], framework: str) -> list[tuple[int, ...]]:
    """Run the source model alone on zeros, in inference mode; the shapes to compare on. The
    first must run; a later one it rejects becomes the first size with its own batch."""
    if framework == "torch":
        model.eval()
    runs = []
    for index, shape in enumerate(shapes):
        try:
            _infer(model, np.zeros(shape, dtype=np.float32), framework)
        except Exception:
            if index == 0:
                raise
            shape = (shape[0], *shapes[0][1:])
        runs.append(shape)
    return runs


def _random(rng, shape: tuple[int, ...], role: str, framework: str) -> np.ndarray:
    if role == "kernel":
        values = rng.standard_normal(shape) / np.sqrt(fan_in(shape, framework))
    elif role == "scale":  # BatchNorm gamma and moving variance: positive, away from 1
        values = rng.uniform(0.5, 1.5, shape)
    elif role == "mean":
        values = rng.standard_normal(shape) * 0.2
    else:  # biases and BatchNorm beta: non-zero, so a dropped bias shows
        values = rng.standard_normal(shape) * 0.1 + 0.1
    return values.astype(np.float32)


def randomize_keras(model, rng) -> None:
    for variable in model.weights:
        path = variable.path
        shape = tuple(variable.shape)
        if path.endswith(("moving_variance", "gamma")):
            role = "scale"
        elif path.endswith("moving_mean"):
            role = "mean"
        elif len(shape) > 1:
            role = "kernel"
        else:
            role = "bias"
        variable.assign(_random(rng, shape, role, "keras"))


def randomize_torch(model, rng) -> None:
    import torch  # noqa: PLC0415

    is_norm = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)
    with torch.no_grad():
        for module in model.modules():
            for name, tensor in list(module.named_parameters(recurse=False)) + list(module.named_buffers(recurse=False)):
                if name == "num_batches_tracked":
                    continue
                shape = tuple(tensor.shape)
                if name == "running_var" or (name == "weight" and isinstance(module, is_norm)):
                    role = "scale"
                elif name == "running_mean":
                    role = "mean"
                elif len(shape) > 1:
                    role = "kernel"
                else:
                    role = "bias"
                tensor.copy_(torch.from_numpy(_random(rng, shape, role, "torch")))
