"""Nothing lost, nothing corrupted: how slimify writes users' files."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from slimify import files
from slimify.files import FileError, SourceFile, decode, encode, read_source, write_atomic
from tests.fixture_files import FIXTURES

SEED = FIXTURES / "slim" / "seed_name_scope_relu.before.py"
SEED_AFTER = FIXTURES / "slim" / "seed_name_scope_relu.after.py"
NO_CANDIDATE = b"import os\r\n\r\ndef f():\r\n    return os.sep  # caf\xc3\xa9\r\n"


def slimify(*args):
    return subprocess.run([sys.executable, "-m", "slimify", *map(str, args)], capture_output=True, text=True)


def test_crlf_line_endings_stay_crlf(tmp_path):
    model = tmp_path / "model.py"
    model.write_bytes(SEED.read_bytes().replace(b"\n", b"\r\n"))
    assert slimify(model, "--to", "slim").returncode == 0
    written = model.read_bytes()
    assert written == SEED_AFTER.read_bytes().replace(b"\n", b"\r\n")
    assert b"\n" not in written.replace(b"\r\n", b"")


def test_coding_cookie_encoding_is_kept(tmp_path):
    model = tmp_path / "model.py"
    header = "# -*- coding: latin-1 -*-\n# Modèle écrit à la main\n"
    model.write_bytes((header + SEED.read_text()).encode("latin-1"))
    assert slimify(model, "--to", "slim").returncode == 0
    assert model.read_bytes() == (header + SEED_AFTER.read_text()).encode("latin-1")


def test_byte_order_mark_is_kept(tmp_path):
    model = tmp_path / "model.py"
    model.write_bytes(b"\xef\xbb\xbf" + SEED.read_bytes())
    assert slimify(model, "--to", "slim").returncode == 0
    assert model.read_bytes() == b"\xef\xbb\xbf" + SEED_AFTER.read_bytes()


def test_permissions_are_kept(tmp_path):
    model = tmp_path / "model.py"
    model.write_bytes(SEED.read_bytes())
    os.chmod(model, 0o751)
    assert slimify(model, "--to", "slim").returncode == 0
    assert model.read_bytes() == SEED_AFTER.read_bytes()
    assert model.stat().st_mode & 0o7777 == 0o751


def test_a_symlink_stays_a_symlink_and_its_target_is_rewritten(tmp_path):
    target = tmp_path / "real_model.py"
    target.write_bytes(SEED.read_bytes())
    link = tmp_path / "model.py"
    link.symlink_to(target.name)
    assert slimify(link, "--to", "slim").returncode == 0
    assert link.is_symlink() and os.readlink(link) == target.name
    assert target.read_bytes() == SEED_AFTER.read_bytes()


def test_files_without_a_rewrite_stay_byte_identical_and_untouched(tmp_path):
    plain = tmp_path / "plain.py"
    plain.write_bytes(NO_CANDIDATE)
    look_alike = tmp_path / "look_alike.py"
    look_alike.write_bytes((FIXTURES / "slim" / "kernel_read_later_for_l2_loss.unchanged.py").read_bytes().replace(b"\n", b"\r\n"))
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in (plain, look_alike)}
    run = slimify(tmp_path, "--to", "slim")
    assert run.returncode == 0, run.stderr
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in before} == before


def test_second_run_is_a_no_op(tmp_path):
    model = tmp_path / "model.py"
    model.write_bytes(SEED.read_bytes().replace(b"\n", b"\r\n"))
    assert slimify(model, "--to", "slim").returncode == 0
    first = (model.read_bytes(), model.stat().st_mtime_ns)
    second = slimify(model, "--to", "slim")
    assert second.returncode == 0
    assert (model.read_bytes(), model.stat().st_mtime_ns) == first
    assert slimify(model, "--to", "slim", "--check").returncode == 0


def test_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    model = tmp_path / "model.py"
    model.write_bytes(SEED.read_bytes())

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(model, SEED_AFTER.read_bytes())
    assert model.read_bytes() == SEED.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["model.py"]


def test_ctrl_c_during_a_run_leaves_every_file_old_or_new(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    for n in range(300):
        (tree / f"model_{n:03}.py").write_bytes(SEED.read_bytes())
    run = subprocess.Popen([sys.executable, "-m", "slimify", str(tree), "--to", "slim", "-j", "1"], stderr=subprocess.PIPE)
    # Interrupt once the run is under way (some files written), wherever it is.
    while run.poll() is None and not any(p.read_bytes() != SEED.read_bytes() for p in sorted(tree.iterdir())[:5]):
        time.sleep(0.01)
    run.send_signal(signal.SIGINT)
    run.communicate()
    assert run.returncode != 0, "the run was interrupted, not finished"
    contents = {p.name: p.read_bytes() for p in tree.iterdir()}
    assert len(contents) == 300, "no temporary file left behind"
    assert set(contents.values()) <= {SEED.read_bytes(), SEED_AFTER.read_bytes()}


def test_encode_refuses_text_that_does_not_compile():
    with pytest.raises(FileError, match="does not compile"):
        encode(SourceFile("x = 1\n", "utf-8", False), "def broken(:\n")


def test_encode_refuses_text_the_file_encoding_cannot_hold():
    with pytest.raises(FileError, match="latin-1") as error:
        encode(SourceFile("", "latin-1", False), "x = 1\ny = '€'\n")
    assert error.value.line == 2


def test_decode_and_encode_round_trip_every_spelling(tmp_path):
    for data in (b"\xef\xbb\xbfx = 1\r\n", b"# coding: cp1252\nx = '\x80'\n", b"x = 1\ry = 2\r"):
        path = Path(tmp_path / "f.py")
        path.write_bytes(data)
        source = read_source(path)
        assert encode(source, source.text) == data
    assert encode(decode(b""), "") == b""  # standard input may be empty (an editor's new buffer)
