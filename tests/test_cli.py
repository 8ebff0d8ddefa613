"""The command line, run as users run it: a subprocess on real files."""

import os
import shutil
import subprocess
import sys

from tests.fixture_files import FIXTURES

SEED = FIXTURES / "slim" / "seed_name_scope_relu.before.py"
SEED_AFTER = FIXTURES / "slim" / "seed_name_scope_relu.after.py"


def slimify(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "slimify", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_diff_prints_and_writes_nothing(tmp_path):
    model = tmp_path / "model.py"
    shutil.copy(SEED, model)
    run = slimify(model, "--diff", "--to", "slim")
    assert run.returncode == 1, run.stderr
    assert "+    conv1 = slim.conv2d(input, 128, [3, 3], scope='conv1_1'" in run.stdout
    assert model.read_text() == SEED.read_text()


def test_check_exits_1_and_writes_nothing(tmp_path):
    model = tmp_path / "model.py"
    shutil.copy(SEED, model)
    assert slimify(model, "--check").returncode == 1
    assert model.read_text() == SEED.read_text()


def test_write_then_second_run_is_a_no_op(tmp_path):
    model = tmp_path / "model.py"
    shutil.copy(SEED, model)
    os.chmod(model, 0o640)
    first = slimify(model, "--to", "slim")
    assert first.returncode == 0, first.stderr
    assert model.read_text() == SEED_AFTER.read_text()
    assert model.stat().st_mode & 0o777 == 0o640
    assert "1 rewritten" in first.stderr
    second = slimify(model, "--check")
    assert second.returncode == 0
    assert model.read_text() == SEED_AFTER.read_text()


def test_expand_back_to_tf(tmp_path):
    model = tmp_path / "model.py"
    shutil.copy(SEED_AFTER, model)
    assert slimify(model, "--to", "tf").returncode == 0
    assert "tf.nn.conv2d(input, weights" in model.read_text()
    assert "slim" not in model.read_text()


def test_directory_walk_error_file_and_missing_path(tmp_path):
    (tmp_path / "pkg").mkdir()
    good = tmp_path / "pkg" / "good.py"
    shutil.copy(SEED, good)
    bad = tmp_path / "pkg" / "bad.py"
    bad.write_text("import tensorflow as tf\ndef f(:\n    tf.nn.conv2d(x)\n")
    venv = tmp_path / "pkg" / ".venv"
    venv.mkdir()
    shutil.copy(SEED, venv / "ignored.py")
    run = slimify(tmp_path / "pkg", tmp_path / "missing.py")
    assert run.returncode == 2
    assert f"{bad}:2: error: syntax error" in run.stderr
    assert f"{tmp_path / 'missing.py'}: error: no such file or directory" in run.stderr
    assert good.read_text() == SEED_AFTER.read_text()  # the run went on past the errors
    assert (venv / "ignored.py").read_text() == SEED.read_text()


def test_refusals_are_listed_with_file_and_line(tmp_path):
    shutil.copy(FIXTURES / "slim" / "kernel_read_later_for_l2_loss.unchanged.py", tmp_path / "m.py")
    run = slimify(tmp_path / "m.py", "--check")
    assert run.returncode == 0
    assert f"{tmp_path / 'm.py'}:7: refused: conv block not folded: kernel is read after the block" in run.stderr
    assert "1 refused" in run.stderr


def test_version_and_help():
    assert slimify("--version").stdout.startswith("slimify ")
    assert "examples:" in slimify("--help").stdout


def test_rewrite_path_imports_neither_tensorflow_nor_torch(tmp_path):
    model = tmp_path / "model.py"
    shutil.copy(SEED, model)
    code = (
        "import sys; from slimify.cli import main; main([sys.argv[1], '--diff']); main([sys.argv[1], '--diff', '--to', 'tf']);"
        "assert not {'tensorflow', 'torch', 'tf_slim', 'keras'} & set(sys.modules), sorted(sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
