"""What the user reads: JSON for machines, rich tables and colours at a terminal, plain text elsewhere."""

import json
import os
import pty
import shutil
import subprocess
import sys

from tests.fixture_files import FIXTURES

SEED = FIXTURES / "slim" / "seed_name_scope_relu.before.py"
REFUSED = FIXTURES / "slim" / "kernel_read_later_for_l2_loss.unchanged.py"
REASON = "conv block not folded: kernel is read after the block"


def tree(tmp_path):
    shutil.copy(SEED, tmp_path / "a_model.py")
    shutil.copy(REFUSED, tmp_path / "b_refused.py")
    (tmp_path / "c_broken.py").write_text("import tensorflow as tf\ndef f(:\n    tf.nn.conv2d(x)\n")
    (tmp_path / "d_plain.py").write_text("print('hello')\n")
    return tmp_path


def slimify(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "slimify", *map(str, args)], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def in_terminal(*args, env=None):
    """Run slimify with stdout and stderr on a real pseudo-terminal; returns (exit code, bytes shown)."""
    controller, terminal = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update({"TERM": "xterm-256color", "COLUMNS": "160", **(env or {})})
    process = subprocess.Popen(
        [sys.executable, "-m", "slimify", *map(str, args)], stdout=terminal, stderr=terminal, stdin=subprocess.DEVNULL, env=environment
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process is done writing
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    return process.wait(), shown.decode("utf-8", "replace")


def test_json_lists_every_file_with_rewrites_refusals_and_errors(tmp_path):
    tree(tmp_path)
    run = slimify(tmp_path, tmp_path / "missing.py", "--check", "--format", "json")
    assert run.returncode == 2
    report = json.loads(run.stdout)
    files = {entry["path"]: entry for entry in report["files"]}
    assert set(files) == {str(tmp_path / n) for n in ("a_model.py", "b_refused.py", "c_broken.py", "d_plain.py", "missing.py")}
    [rewrite] = files[str(tmp_path / "a_model.py")]["rewrites"]
    assert (rewrite["family"], rewrite["start_line"], rewrite["end_line"], rewrite["verified"]) == ("conv_block", 8, 13, None)
    assert rewrite["before"].startswith("with tf.name_scope('conv1_1') as scope:\n")
    assert rewrite["after"].startswith("conv1 = slim.conv2d(input, 128, [3, 3], scope='conv1_1'")
    assert files[str(tmp_path / "a_model.py")]["changed"] and not files[str(tmp_path / "a_model.py")]["written"]
    [refusal] = files[str(tmp_path / "b_refused.py")]["refusals"]
    assert (refusal["line"], refusal["family"]) == (7, "conv_block") and refusal["reason"].startswith(REASON)
    assert files[str(tmp_path / "c_broken.py")]["errors"][0]["line"] == 2
    assert files[str(tmp_path / "missing.py")]["errors"][0]["reason"] == "no such file or directory"
    assert files[str(tmp_path / "d_plain.py")] == {
        "path": str(tmp_path / "d_plain.py"), "changed": False, "written": False,
        "rewrites": [], "refusals": [], "unverified": [], "notes": [], "errors": [],
    }  # fmt: skip
    summary = report["summary"]
    assert (summary["files_rewritten"], summary["blocks_rewritten"], summary["blocks_refused"], summary["errors"]) == (1, 1, 1, 2)
    assert list(summary["refused_by_reason"].values()) == [1] and next(iter(summary["refused_by_reason"])).startswith(REASON)
    assert (tmp_path / "a_model.py").read_text() == SEED.read_text()


def test_plain_text_when_not_a_terminal_lists_each_file(tmp_path):
    tree(tmp_path)
    run = slimify(tmp_path, "--check")
    assert "\x1b[" not in run.stderr + run.stdout
    assert f"{tmp_path / 'a_model.py'}: 1 block(s) to rewrite\n" in run.stderr
    assert f"{tmp_path / 'b_refused.py'}: 0 block(s) to rewrite, 1 refused ({REASON}" in run.stderr
    assert f"  refused 1x: {REASON}" in run.stderr
    assert "4 file(s) scanned, 1 would be rewritten (1 block(s) -> slim), 1 refused, 1 error(s)" in run.stderr


def test_terminal_gets_coloured_diff_and_one_summary_table(tmp_path):
    tree(tmp_path)
    code, shown = in_terminal(tmp_path, "--diff")
    assert code == 2
    assert "\x1b[32m+" in shown and "\x1b[31m-" in shown  # green additions, red removals
    assert "slim.conv2d(input, 128" in shown
    for heading in ("file", "blocks to rewrite", "refused (reason)", "errors"):
        assert heading in shown
    assert "4 file(s) scanned, 1 to change, 1 block(s) -> slim, 1 refused, 1 error(s)" in shown
    assert REASON in shown
    assert (tmp_path / "a_model.py").read_text() == SEED.read_text()


def test_no_color_gives_plain_text_even_at_a_terminal(tmp_path):
    tree(tmp_path)
    code, shown = in_terminal(tmp_path, "--diff", env={"NO_COLOR": "1"})
    assert code == 2
    assert "\x1b[" not in shown
    assert "+    conv1 = slim.conv2d(input, 128" in shown


def test_progress_bar_on_a_terminal_once_the_run_takes_a_while(tmp_path):
    for n in range(6):
        shutil.copy(SEED, tmp_path / f"m{n}.py")
    # SLIMIFY_PROGRESS_AFTER=0: "a while" is any time at all, so the test does not depend on speed.
    code, shown = in_terminal(tmp_path, "--check", "-j", "1", env={"SLIMIFY_PROGRESS_AFTER": "0"})
    assert code == 1
    assert "/6" in shown and "━" in shown
    piped = slimify(tmp_path, "--check", "-j", "1", env={"SLIMIFY_PROGRESS_AFTER": "0"})
    assert "━" not in piped.stderr and "/6" not in piped.stderr  # no bar when nobody watches


def test_a_rewrite_applied_without_proof_is_reported_with_its_reason():
    from slimify import report
    from slimify.engine import FileResult
    from slimify.pipeline import FileOutcome, Options
    from slimify.rewrite import Rewrite

    proven = Rewrite("conv_block", 3, 7, "before", "after", verified=True, verification="identical outputs")
    unproven = Rewrite("dense_block", 9, 12, "before", "after", verified=None, verification="the block reads `n_units`")
    result = FileResult("old\n", "new\n", (proven, unproven))
    outcomes = [FileOutcome("m.py", result, written=True)]
    options = Options(verify=True)
    assert report.findings_text(outcomes) == "m.py:9: unverified: applied without verification: the block reads `n_units`\n"
    totals = report.totals(outcomes)
    assert (totals["verified"], totals["unverified"]) == (1, 1)
    assert "1 verified, 1 not verified" in report.summary_text(outcomes, options)
    [entry] = json.loads(report.render_json(outcomes, options, "0"))["files"]
    assert [r["verification"] for r in entry["rewrites"]] == ["identical outputs", "the block reads `n_units`"]
    assert [u["line"] for u in entry["unverified"]] == [9]


def test_a_translated_model_states_the_input_layout_change(tmp_path):
    """Issue 4: the report says the model now takes NCHW (or NHWC) images."""
    model = tmp_path / "model.py"
    shutil.copy(FIXTURES / "torch" / "seed_sequential_add.before.py", model)
    run = slimify(model, "--check", "--to", "torch", env={"NO_COLOR": "1"})
    assert run.returncode == 1
    assert f"{model}:" in run.stderr and ": note: the input layout changes: the Keras model takes NHWC images" in run.stderr
    report = json.loads(slimify(model, "--check", "--to", "torch", "--format", "json").stdout)
    [entry] = report["files"]
    assert "PyTorch model NCHW" in entry["notes"][0]["reason"] and "NCHW" in entry["rewrites"][0]["note"]
    torch_model = tmp_path / "net.py"
    shutil.copy(FIXTURES / "keras" / "seed_net_module.before.py", torch_model)
    run = slimify(torch_model, "--check", "--to", "keras", env={"NO_COLOR": "1"})
    assert "note: the input layout changes: the PyTorch model takes NCHW images, the Keras model NHWC" in run.stderr
