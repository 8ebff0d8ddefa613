"""The `--verify` worker: imports TensorFlow once, then runs one comparison per request line.

Protocol: a JSON request per line on stdin ({"before", "after", "shapes", "renames"}), a JSON
answer per line on the original stdout ({"status": "verified" | "differs" | "unverifiable",
"reason"}). The blocks' own output (a `print` in user code, TensorFlow's) goes to stderr, so it
can never break the protocol.
"""

from __future__ import annotations

import json
import os
import sys


def check(request: dict) -> dict:
    from slimify.runner import compare_tf_graphs  # noqa: PLC0415

    before, after, shapes = request["before"], request["after"], [tuple(s) for s in request["shapes"]]
    renames = request.get("renames") or {}
    try:
        name_map = _complete_name_map(before, shapes[0], renames) if renames else None
        result = compare_tf_graphs(before, after, shapes, name_map=name_map)
    except Exception as error:  # noqa: BLE001 - which side failed decides what it means
        try:
            compare_tf_graphs(before, before, shapes)
        except Exception as original:  # noqa: BLE001
            return {"status": "unverifiable", "reason": f"the block does not run on its own: {_describe(original)}"}
        return {"status": "differs", "reason": f"the rewritten block fails where the original runs: {_describe(error)}"}
    if result.ok:
        return {"status": "verified", "reason": result.message}
    return {"status": "differs", "reason": result.message}


def _complete_name_map(before: str, shape: tuple[int, ...], renames: dict[str, str]) -> dict[str, str]:
    """Every variable of the original block -> its name after the rewrite (unchanged unless renamed)."""
    from slimify.runner import _tf, load_module  # noqa: PLC0415

    tf = _tf()
    with tf.Graph().as_default():
        module = load_module(before, "before")
        module.build(tf.placeholder(tf.float32, shape=shape))
        names = [v.op.name for v in tf.global_variables()]
    return {name: renames.get(name, name) for name in names}


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}"


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    from slimify.runner import _tf  # noqa: PLC0415

    _tf()  # the one TensorFlow import of this process
    for line in sys.stdin:
        if not line.strip():
            continue
        answers.write(json.dumps(check(json.loads(line))) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
