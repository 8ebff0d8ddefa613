"""--verify on code slimify has never seen: each rewritten block is run before and after, alone.

Real TensorFlow and tf_slim in a worker process; one worker serves the whole module.
"""

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from slimify.engine import rewrite_source
from slimify.pipeline import Options, process_path
from slimify.verify import Case, Outcome, Unverifiable, Worker, build_case, file_bindings, make_review_factory, verdict
from tests.broken_codemods.conv_wrong import DROP_BIAS, RELU6_FOR_RELU
from tests.fixture_files import FIXTURES, pairs, target_of

USER_CODE = """\
import tensorflow as tf

print("the user's module top level ran")  # --verify must never run this


def features(images):
    with tf.name_scope('conv1'):
        kernel = tf.Variable(tf.truncated_normal([3, 3, 16, 32], stddev=0.1), name='weights')
        biases = tf.Variable(tf.constant(0.1, shape=[32]), name='biases')
        net = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(images, kernel, [1, 1, 1, 1], padding='SAME'), biases))
    return net
"""

KERNEL_SIZE_IN_A_VARIABLE = """\
import tensorflow as tf

K = 3


def features(images):
    with tf.name_scope('conv1'):
        kernel = tf.Variable(tf.truncated_normal([K, K, 3, 8], stddev=0.1), name='weights')
        net = tf.nn.relu(tf.nn.conv2d(images, kernel, [1, 1, 1, 1], padding='SAME'))
    return net
"""


@pytest.fixture(scope="module")
def factories():
    made = {policy: make_review_factory(unverified=policy, timeout=60.0) for policy in ("apply", "skip")}
    yield made
    for factory in made.values():
        factory.worker.close()


def test_correct_rewrite_is_verified_and_applied(factories):
    result = rewrite_source(USER_CODE, "slim", path="model.py", review=factories["apply"]("model.py"))
    assert [r.verified for r in result.rewrites] == [True]
    assert [r.verification for r in result.rewrites] == ["identical outputs, variable names and shapes"]
    assert "net = slim.conv2d(images, 32, [3, 3], scope='conv1'" in result.new_source
    assert result.new_source == rewrite_source(USER_CODE, "slim").new_source


def test_slim_to_tf_expansion_is_verified(factories):
    source = (FIXTURES / "tf" / "slim_stack_of_convolutions.before.py").read_text()
    result = rewrite_source(source, "tf", path="stack.py", review=factories["apply"]("stack.py"))
    assert result.rewrites and all(r.verified is True for r in result.rewrites)


def test_dropped_bias_is_refused_and_not_written(factories, tmp_path):
    model = tmp_path / "model.py"
    model.write_text(USER_CODE)
    assert rewrite_source(USER_CODE, "slim", codemods=DROP_BIAS).changed  # the broken fold does apply without --verify
    result = rewrite_source(USER_CODE, "slim", path=str(model), codemods=DROP_BIAS, review=factories["apply"](str(model)))
    assert not result.changed and not result.rewrites
    [finding] = result.findings
    assert (finding.kind, finding.line, finding.family) == ("refused", 7, "conv_block")
    assert "failed verification" in finding.reason and "conv1/biases" in finding.reason


def test_wrong_activation_is_refused_with_the_numbers(factories):
    result = rewrite_source(USER_CODE, "slim", path="model.py", codemods=RELU6_FOR_RELU, review=factories["apply"]("model.py"))
    assert not result.changed
    [finding] = result.findings
    assert finding.kind == "refused"
    assert "outputs differ" in finding.reason and "max abs diff" in finding.reason


def test_refused_rewrite_leaves_the_file_byte_identical(factories, tmp_path, monkeypatch):
    import slimify.pipeline as pipeline

    model = tmp_path / "model.py"
    model.write_bytes(USER_CODE.encode())
    real = pipeline.rewrite_source
    monkeypatch.setattr(pipeline, "rewrite_source", lambda *a, **k: real(*a, **k, codemods=DROP_BIAS))
    outcome = process_path(model, Options(target="slim", verify=True), factories["apply"])
    assert not outcome.written
    assert model.read_bytes() == USER_CODE.encode()
    assert [f.kind for f in outcome.findings] == ["refused"]


def test_verified_rewrite_is_written(factories, tmp_path):
    model = tmp_path / "model.py"
    model.write_text(USER_CODE)
    outcome = process_path(model, Options(target="slim", verify=True), factories["apply"])
    assert outcome.written and [r.verified for r in outcome.result.rewrites] == [True]
    assert "slim.conv2d(" in model.read_text()


def test_free_name_is_unverified_and_applied_by_default(factories):
    result = rewrite_source(KERNEL_SIZE_IN_A_VARIABLE, "slim", path="m.py", review=factories["apply"]("m.py"))
    assert [r.verified for r in result.rewrites] == [None]
    assert [r.verification for r in result.rewrites] == ["the kernel size is only known at run time (K)"]
    assert result.changed


def test_free_name_is_left_out_when_unverified_is_skip(factories):
    result = rewrite_source(KERNEL_SIZE_IN_A_VARIABLE, "slim", path="m.py", review=factories["skip"]("m.py"))
    assert not result.changed
    [finding] = result.findings
    assert finding.kind == "unverified" and finding.line == 7
    assert "kernel size is only known at run time (K)" in finding.reason


def test_block_reading_a_name_from_elsewhere_is_unverifiable():
    source = KERNEL_SIZE_IN_A_VARIABLE.replace("[K, K, 3, 8]", "[3, 3, 3, 8]").replace("stddev=0.1", "stddev=STD")
    seen = []

    def capture(rewrite):
        from slimify.engine import review_context

        with pytest.raises(Unverifiable, match="reads `STD`, defined elsewhere"):
            build_case(rewrite, review_context())
        seen.append(rewrite)
        return rewrite

    rewrite_source(source, "slim", review=capture)
    assert seen


def test_user_top_level_and_other_imports_never_run(factories, tmp_path):
    marker = tmp_path / "top_level_ran"
    source = USER_CODE.replace(
        'print("the user\'s module top level ran")', f"import my_project.secrets\nopen({str(marker)!r}, 'w').write('ran')"
    )
    result = rewrite_source(source, "slim", path="m.py", review=factories["apply"]("m.py"))
    assert [r.verified for r in result.rewrites] == [True]
    assert not marker.exists()


def test_bindings_come_only_from_safe_library_imports():
    source = "import tensorflow.compat.v1 as tf\nimport os\nfrom mylib import slim\nimport numpy as np\nlayers = tf.contrib.slim\n"
    assert file_bindings(source) == {
        "tf": "import tensorflow.compat.v1 as tf",
        "np": "import numpy as np",
        "layers": "import tf_slim as layers",
    }


def test_contrib_slim_spelling_binds_tf_slim(factories):
    source = (FIXTURES / "slim" / "seed_name_scope_relu.after.py").read_text()
    source = source.replace("import tf_slim as slim", "slim = tf.contrib.slim")
    assert "slim = tf.contrib.slim" in source
    result = rewrite_source(source, "tf", path="m.py", review=factories["apply"]("m.py"))
    assert [r.verified for r in result.rewrites] == [True]


@pytest.mark.parametrize("before", pairs("slim") + pairs("tf"), ids=lambda p: f"{p.parent.name}/{p.name.split('.')[0]}")
def test_no_fixture_rewrite_is_refused_by_verification(factories, before):
    # Every fixture rewrite is correct (test_fixtures_numerics proves it): --verify must agree
    # or say it cannot run the block, never call it wrong.
    result = rewrite_source(before.read_text(), target_of(before), path=str(before), review=factories["apply"](str(before)))
    assert not [f for f in result.findings if "failed verification" in f.reason], result.findings
    assert result.rewrites


def test_a_hung_block_times_out_and_the_worker_recovers():
    worker = Worker(timeout=3.0)
    try:
        hang = "def build(x):\n    while True:\n        pass\n"
        good = "import tensorflow as tf\n\ndef build(x):\n    return tf.nn.relu(x)\n"
        # Warm the worker first so the timeout measures the block, not TensorFlow's import.
        assert worker.run(Case(good, good, ((2, 3), (3, 3)), {})).status == "verified"
        outcome = worker.run(Case(hang, good, ((2, 3), (3, 3)), {}))
        assert outcome.status == "unverifiable" and "longer than 3 s" in outcome.reason
        assert worker.run(Case(good, good.replace("relu", "relu6"), ((2, 3), (3, 3)), {})).status in ("verified", "differs")
    finally:
        worker.close()


def test_verdicts_follow_the_policy():
    from slimify.rewrite import Finding, Rewrite

    rewrite = Rewrite("conv_block", 3, 7, "before", "after")
    assert verdict(rewrite, Outcome("verified", "identical outputs"), "m.py", "apply") == replace(
        rewrite, verified=True, verification="identical outputs"
    )
    applied = verdict(rewrite, Outcome("unverifiable", "the kernel size is only known at run time (K)"), "m.py", "apply")
    assert applied.verified is None and applied.verification == "the kernel size is only known at run time (K)"
    skipped = verdict(rewrite, Outcome("unverifiable", "why"), "m.py", "skip")
    assert isinstance(skipped, Finding) and skipped.kind == "unverified"
    refused = verdict(rewrite, Outcome("differs", "max abs diff 0.31"), "m.py", "apply")
    assert isinstance(refused, Finding) and refused.kind == "refused" and "0.31" in refused.reason


def test_rewrite_path_never_imports_tensorflow(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(USER_CODE)
    code = (
        "import sys\nfrom slimify.cli import main\nmain([sys.argv[1], '--check'])\n"
        "assert not any(m.split('.')[0] in ('tensorflow', 'torch') for m in sys.modules), 'imported'\n"
    )
    run = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_cli_verify_marks_rewrites_verified_in_json(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(USER_CODE)
    run = subprocess.run(
        [sys.executable, "-m", "slimify", str(model), "--verify", "--check", "--format", "json"], capture_output=True, text=True
    )
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    [entry] = [f for f in report["files"] if f["rewrites"]]
    assert [r["verified"] for r in entry["rewrites"]] == [True]
