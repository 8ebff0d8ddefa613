"""Bad input: one clear line naming the path (and line), the run goes on, exit 2 at the end.

Each case runs the command line on a tree holding the bad file and a good one: the good file
must still be rewritten.
"""

import os
import shutil
import subprocess
import sys

import pytest

from slimify import files
from tests.fixture_files import FIXTURES

SEED = FIXTURES / "slim" / "seed_name_scope_relu.before.py"
SEED_AFTER = FIXTURES / "slim" / "seed_name_scope_relu.after.py"
CANDIDATE_HEADER = b"import tensorflow as tf\n\n\ndef build(x):\n    return tf.nn.conv2d(x, w, [1, 1, 1, 1], 'SAME')\n"


def slimify(*args, prefix=()):
    return subprocess.run([*prefix, sys.executable, "-m", "slimify", *map(str, args)], capture_output=True, text=True)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    root.mkdir()
    shutil.copy(SEED, root / "good.py")
    return root


def _error_lines(run) -> list[str]:
    return [line for line in (run.stdout + run.stderr).splitlines() if "error" in line and "bad" in line]


def _assert_reported(run, tree, name, *, line=None, words=()):
    assert run.returncode == 2, run.stdout + run.stderr
    assert (tree / "good.py").read_text() == SEED_AFTER.read_text(), "the run went on past the bad file"
    [message] = _error_lines(run)
    path = str(tree / name)
    assert message.startswith(f"{path}:{line}:" if line is not None else path), message
    for word in words:
        assert word in message, message


def test_syntax_error_names_path_and_line(tree):
    (tree / "bad.py").write_bytes(CANDIDATE_HEADER + b"\ndef broken(:\n    pass\n")
    run = slimify(tree, "--to", "slim")
    _assert_reported(run, tree, "bad.py", line=7, words=("syntax",))
    assert (tree / "bad.py").read_bytes() == CANDIDATE_HEADER + b"\ndef broken(:\n    pass\n"


def test_undecodable_bytes_name_the_line(tree):
    (tree / "bad.py").write_bytes(CANDIDATE_HEADER + b"name = 'caf\xe9'\n")
    run = slimify(tree, "--to", "slim")
    _assert_reported(run, tree, "bad.py", line=6, words=("decode", "utf-8"))


def test_bad_encoding_declaration(tree):
    (tree / "bad.py").write_bytes(b"# coding: no-such-codec\n" + CANDIDATE_HEADER)
    run = slimify(tree, "--to", "slim")
    _assert_reported(run, tree, "bad.py", words=("encoding",))


EMPTY = {"zero-bytes": b"", "newlines": b"\n\n", "whitespace": b"   \r\n\t\n", "bom-only": b"\xef\xbb\xbf"}


@pytest.mark.parametrize("content", EMPTY.values(), ids=EMPTY.keys())
def test_empty_file(tree, content):
    (tree / "bad.py").write_bytes(content)
    run = slimify(tree, "--to", "slim", "--verify")
    _assert_reported(run, tree, "bad.py", words=("empty file",))
    assert (tree / "bad.py").read_bytes() == content


def test_comment_only_file_is_not_empty(tree):
    (tree / "notes.py").write_bytes(b"# nothing here yet\n")
    run = slimify(tree, "--to", "slim")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tree / "notes.py").read_bytes() == b"# nothing here yet\n"


def test_empty_package_marker_is_left_alone(tree):
    # Nearly every package has an empty __init__.py: reporting it would fail every pre-commit run.
    (tree / "pkg").mkdir()
    (tree / "pkg" / "__init__.py").write_bytes(b"")
    run = slimify(tree, tree / "pkg" / "__init__.py", "--to", "slim")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "__init__" not in run.stdout + run.stderr
    assert (tree / "pkg" / "__init__.py").read_bytes() == b""
    assert (tree / "good.py").read_text() == SEED_AFTER.read_text()


def test_unreadable_file(tree):
    bad = tree / "bad.py"
    bad.write_bytes(CANDIDATE_HEADER)
    os.chmod(bad, 0)
    # root reads anything: drop the capabilities that let it (CI runs as a normal user).
    prefix = ("setpriv", "--bounding-set", "-dac_override,-dac_read_search") if os.geteuid() == 0 else ()
    run = slimify(tree, "--to", "slim", prefix=prefix)
    _assert_reported(run, tree, "bad.py", words=("cannot read", "Permission denied"))


def test_missing_path(tree):
    run = slimify(tree, tree / "bad_missing.py", "--to", "slim")
    _assert_reported(run, tree, "bad_missing.py", words=("no such file",))


def test_symlink_loop(tree):
    (tree / "bad.py").symlink_to("bad_too.py")
    (tree / "bad_too.py").symlink_to("bad.py")
    run = slimify(tree, "--to", "slim")
    assert run.returncode == 2
    messages = _error_lines(run)
    assert sorted(m.split(":")[0] for m in messages) == [str(tree / "bad.py"), str(tree / "bad_too.py")]
    assert all("symbolic links" in m for m in messages), messages
    assert (tree / "good.py").read_text() == SEED_AFTER.read_text()


def test_directory_loop_is_walked_once(tree):
    (tree / "sub").mkdir()
    (tree / "sub" / "loop").symlink_to("..")
    run = slimify(tree, "--to", "slim", "--check")
    assert run.returncode == 1, run.stdout + run.stderr  # good.py would change; no error, no endless walk


@pytest.mark.parametrize("given", ["walked", "named"])
def test_directory_named_like_a_python_file(tree, given):
    (tree / "sub").mkdir()
    (tree / "sub" / "bad.py").mkdir()
    shutil.copy(SEED, tree / "sub" / "bad.py" / "inner.py")
    extra = [tree / "sub" / "bad.py"] if given == "named" else []
    run = slimify(tree if given == "walked" else tree / "good.py", *extra, "--to", "slim")
    _assert_reported(run, tree, "sub/bad.py", words=("directory named like a Python file", "not walked"))
    assert (tree / "sub" / "bad.py" / "inner.py").read_text() == SEED.read_text()


def test_excluded_directory_named_like_a_python_file_is_not_reported(tree):
    (tree / "vendored.py").mkdir()
    shutil.copy(SEED, tree / "vendored.py" / "inner.py")
    run = slimify(tree, "--to", "slim", "--exclude", "vendored.py")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tree / "vendored.py" / "inner.py").read_text() == SEED.read_text()


def test_directory_is_reported_when_read_as_a_file(tmp_path):
    with pytest.raises(files.FileError, match="is a directory"):
        files.read_source(tmp_path)


def test_named_pipe_is_reported_not_read(tree):
    os.mkfifo(tree / "bad.py")  # reading it would block forever
    run = slimify(tree, "--to", "slim")
    _assert_reported(run, tree, "bad.py", words=("not a regular file",))


def test_very_large_file(tree, monkeypatch):
    bad = tree / "bad.py"
    with open(bad, "wb") as handle:
        handle.write(CANDIDATE_HEADER)
        handle.truncate(files.MAX_BYTES + 1)  # sparse: large without writing it
    run = slimify(tree, "--to", "slim")
    _assert_reported(run, tree, "bad.py", words=("MiB",))


def test_null_bytes(tree):
    (tree / "bad.py").write_bytes(CANDIDATE_HEADER + b"x = 1\x00\n")
    run = slimify(tree, "--to", "slim")
    _assert_reported(run, tree, "bad.py")
