"""`slimify - --stdin-filename F`: what editors call; the result goes to stdout, nothing is written."""

import subprocess
import sys

from tests.fixture_files import FIXTURES

SEED = FIXTURES / "slim" / "seed_name_scope_relu.before.py"
SEED_AFTER = FIXTURES / "slim" / "seed_name_scope_relu.after.py"


def slimify(data: bytes, *args, cwd=None):
    return subprocess.run([sys.executable, "-m", "slimify", "-", *args], input=data, capture_output=True, cwd=cwd)


def test_rewritten_code_on_stdout_and_no_file_written(tmp_path):
    run = slimify(SEED.read_bytes(), "--stdin-filename", "model.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == SEED_AFTER.read_bytes()
    assert list(tmp_path.iterdir()) == []
    assert b"1 rewritten" in run.stderr or b"1 would be rewritten" in run.stderr


def test_crlf_and_nothing_to_do_come_back_unchanged(tmp_path):
    crlf = SEED.read_bytes().replace(b"\n", b"\r\n")
    run = slimify(crlf, "--stdin-filename", "model.py", cwd=tmp_path)
    assert run.stdout == SEED_AFTER.read_bytes().replace(b"\n", b"\r\n")
    plain = b"import os\nprint(os.sep)\n"
    assert slimify(plain, "--stdin-filename", "x.py", cwd=tmp_path).stdout == plain


def test_check_and_diff(tmp_path):
    check = slimify(SEED.read_bytes(), "--stdin-filename", "model.py", "--check", cwd=tmp_path)
    assert check.returncode == 1 and check.stdout == b""
    diff = slimify(SEED.read_bytes(), "--stdin-filename", "model.py", "--diff", cwd=tmp_path)
    assert diff.returncode == 1
    assert b"--- model.py (original)" in diff.stdout and b"+    conv1 = slim.conv2d(" in diff.stdout


def test_error_gives_the_input_back_and_exits_2(tmp_path):
    broken = b"import tensorflow as tf\ndef f(:\n    tf.nn.conv2d(x)\n"
    run = slimify(broken, "--stdin-filename", "model.py", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stdout == broken  # an editor that replaces its buffer with stdout loses nothing
    assert b"model.py:2: error: syntax error" in run.stderr


def test_excluded_filename_passes_through_and_config_is_found_from_it(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.slimify]\nexclude = ["generated/*"]\ntarget = "tf"\n')
    (tmp_path / "generated").mkdir()
    passed = slimify(SEED.read_bytes(), "--stdin-filename", str(tmp_path / "generated" / "m.py"))
    assert passed.returncode == 0 and passed.stdout == SEED.read_bytes()
    # target = "tf" from the config found above the file name: slim calls expand
    expanded = slimify(SEED_AFTER.read_bytes(), "--stdin-filename", str(tmp_path / "m.py"))
    assert expanded.returncode == 0, expanded.stderr
    assert b"tf.nn.conv2d(input, weights" in expanded.stdout


def test_dash_with_other_paths_is_an_error(tmp_path):
    run = slimify(b"", str(tmp_path), cwd=tmp_path)
    assert run.returncode == 2 and b"cannot be combined" in run.stderr
