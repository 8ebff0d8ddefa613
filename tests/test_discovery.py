"""Files are found as ruff finds them: .gitignore respected, virtualenvs and build folders skipped."""

import subprocess
from pathlib import Path

from slimify.discovery import Missing, discover


def found(*paths, **kwargs):
    return sorted(str(p) for p in discover([str(p) for p in paths], **kwargs) if not isinstance(p, Missing))


def touch(path: Path, text="x = 1\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_gitignore_nested_and_negated_and_info_exclude(tmp_path):
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    touch(tmp_path / ".gitignore", "data/\n*_generated.py\n")
    touch(tmp_path / ".git" / "info" / "exclude", "scratch.py\n")
    keep = touch(tmp_path / "pkg" / "model.py")
    touch(tmp_path / "pkg" / "ops_generated.py")
    touch(tmp_path / "data" / "loader.py")
    touch(tmp_path / "scratch.py")
    touch(tmp_path / "pkg" / ".gitignore", "!kept_generated.py\nlocal.py\n")
    kept = touch(tmp_path / "pkg" / "kept_generated.py")
    touch(tmp_path / "pkg" / "local.py")
    notebook = touch(tmp_path / "pkg" / "nb.ipynb", "{}")
    touch(tmp_path / "pkg" / "README.md")
    assert found(tmp_path) == sorted(map(str, [keep, kept, notebook]))
    # walking from a subdirectory still applies the .gitignore files above it
    assert found(tmp_path / "pkg") == sorted(map(str, [keep, kept, notebook]))
    # a file given by name is taken even if ignored (as ruff does); --no-gitignore walks everything
    assert found(tmp_path / "pkg" / "local.py") == [str(tmp_path / "pkg" / "local.py")]
    assert len(found(tmp_path, respect_gitignore=False)) == 7
    # an ignored directory given by name is walked, like an ignored file given by name
    assert found(tmp_path / "data") == [str(tmp_path / "data" / "loader.py")]


def test_gitignore_only_inside_a_git_repository(tmp_path):
    touch(tmp_path / ".gitignore", "*.py\n")
    model = touch(tmp_path / "model.py")
    assert found(tmp_path) == [str(model)]


def test_virtualenvs_build_folders_and_excludes_skipped(tmp_path):
    model = touch(tmp_path / "src" / "model.py")
    touch(tmp_path / "env" / "pyvenv.cfg", "home = /usr\n")  # a virtualenv under any name
    touch(tmp_path / "env" / "lib" / "site.py")
    touch(tmp_path / "build" / "lib" / "model.py")
    touch(tmp_path / "src" / "__pycache__" / "x.py")
    touch(tmp_path / "src" / ".ipynb_checkpoints" / "nb-checkpoint.ipynb")
    touch(tmp_path / "src" / "gen" / "ops_pb2.py")
    assert found(tmp_path, exclude=["*_pb2.py"]) == [str(model)]
    assert found(tmp_path, exclude=["src/*"]) == []
    assert found(tmp_path / "src" / "gen" / "ops_pb2.py", exclude=["*_pb2.py"]) == []  # explicit paths too


def test_missing_path_is_reported(tmp_path):
    assert list(discover([str(tmp_path / "nope.py")])) == [Missing(str(tmp_path / "nope.py"), "no such file or directory")]
