"""The `--verify` worker: imports TensorFlow once, then runs one comparison per request line.

Protocol: a JSON request per line on stdin, a JSON answer per line on the original stdout
({"status": "verified" | "differs" | "unverifiable", "reason"}). Requests:

- {"kind": "tf_block", "before", "after", "shapes", "renames"}: TF1 graph blocks defining
  `build(x)`, compared by `slimify.runner.compare_tf_blocks`;
- {"kind": "model", "before", "after", "entry", "shapes", "direction", "model_ir"}: Keras and
  PyTorch model definitions, compared by `slimify.model_runner.compare_models` (torch is
  imported with the first such request; `model_ir` is the base64 pickle of the IR).

The code's own output (a `print` in user code, TensorFlow's) goes to stderr, so it can never
break the protocol.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import sys


def check(request: dict) -> dict:
    if request.get("kind", "tf_block") == "model":
        return check_model(request)
    return check_tf_block(request)


def check_tf_block(request: dict) -> dict:
    from slimify.runner import compare_tf_blocks  # noqa: PLC0415

    before, after, shapes = request["before"], request["after"], [tuple(s) for s in request["shapes"]]
    renames = request.get("renames") or {}
    try:
        result = compare_tf_blocks(before, after, shapes, renames=renames)
    except Exception as error:  # noqa: BLE001 - which side failed decides what it means
        try:
            compare_tf_blocks(before, before, shapes)
        except Exception as original:  # noqa: BLE001
            return {"status": "unverifiable", "reason": f"the block does not run on its own: {_describe(original)}"}
        return {"status": "differs", "reason": f"the rewritten block fails where the original runs: {_describe(error)}"}
    if result.ok:
        return {"status": "verified", "reason": result.message}
    return {"status": "differs", "reason": result.message}


def check_model(request: dict) -> dict:
    from slimify.model_runner import OriginalFails, compare_models  # noqa: PLC0415  (imports keras and torch on first use)

    before, after, entry, direction = request["before"], request["after"], request["entry"], request["direction"]
    shapes = [tuple(s) for s in request["shapes"]]
    model_ir = pickle.loads(base64.b64decode(request["model_ir"]))  # noqa: S301 - from our own parent process
    try:
        result = compare_models(before, after, entry, shapes, direction, model_ir=model_ir)
    except OriginalFails as original:  # the original is the reference: if it fails, nothing can be said
        return {"status": "unverifiable", "reason": f"the model does not run on its own: {_describe(original.__cause__ or original)}"}
    except Exception as error:  # noqa: BLE001 - the original runs, so the translation is what fails
        return {"status": "differs", "reason": f"the translated model fails where the original runs: {_describe(error)}"}
    inputs = ", ".join(str(tuple(shape)) for shape in result.shapes_run)
    return {"status": "verified" if result.ok else "differs", "reason": f"{result.message} (inputs {inputs})"}


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}"


def _freeze_imports() -> None:
    """Import tf_slim too (every tf <-> slim block uses it), then keep everything imported so
    far out of the garbage collector's scans.

    TensorFlow leaves millions of long-lived objects; each full collection walks them all, and
    building a block's graph allocates enough to trigger several. Frozen, they are never
    scanned again (they live as long as the process anyway); what a request leaves behind is
    still collected. A fifth less per block.
    """
    import gc  # noqa: PLC0415

    try:
        import tf_slim  # noqa: F401, PLC0415
    except ImportError:
        pass
    gc.collect()
    gc.freeze()


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    from slimify.runner import _tf  # noqa: PLC0415

    tf = _tf()  # the one TensorFlow import of this process
    # TF1 graphs get TF1's reference variables, as the code had under TensorFlow 1 (both sides
    # alike; TF 2's default resource variables cost a quarter more per block to build). Only graph
    # mode is affected: Keras models, built eagerly, keep resource variables.
    tf.disable_resource_variables()
    _freeze_imports()
    for line in sys.stdin:
        if not line.strip():
            continue
        answers.write(json.dumps(check(json.loads(line))) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
