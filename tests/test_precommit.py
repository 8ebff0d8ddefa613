"""The pre-commit hooks, run by the real `pre-commit` tool on a throwaway git repository.

pre-commit builds its own virtualenv by pip-installing this repository (from a clone of HEAD,
so what is tested is what is committed), which takes a while the first time.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixture_files import FIXTURES

REPO = Path(__file__).resolve().parents[1]
SEED = FIXTURES / "slim" / "seed_name_scope_relu.before.py"
SEED_AFTER = FIXTURES / "slim" / "seed_name_scope_relu.after.py"


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    # Not a skip: CI runs on a clone of the repository, where the hook must be tested for real.
    assert shutil.which("git") is not None and (REPO / ".git").exists(), "the pre-commit test needs git and a clone of slimify"
    clone = tmp_path_factory.mktemp("hooks") / "slimify"
    git("clone", "--quiet", "--no-hardlinks", str(REPO), str(clone), cwd=REPO)
    return clone


def pre_commit(*args, cwd, home):
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "NO_COLOR": "1"}  # fmt: skip
    env.pop("PRE_COMMIT", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", *args, "--color", "never"], cwd=cwd, env=env, capture_output=True, text=True)


def test_check_hook_fails_on_raw_block_and_passes_after_fix_hook(tmp_path, hook_repo):
    work = tmp_path / "project"
    work.mkdir()
    git("init", "--quiet", cwd=work)
    shutil.copy(SEED, work / "model.py")
    (work / "clean.py").write_text("print('nothing to migrate')\n")
    git("add", ".", cwd=work)
    home = tmp_path / "pre-commit-home"

    check = pre_commit("try-repo", str(hook_repo), "slimify-check", "--all-files", cwd=work, home=home)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "slimify --check" in check.stdout and "Failed" in check.stdout
    assert (work / "model.py").read_text() == SEED.read_text()  # the check hook writes nothing

    fix = pre_commit("try-repo", str(hook_repo), "slimify", "--all-files", cwd=work, home=home)
    # pre-commit fails a hook that modified files, as it does for black and ruff --fix.
    assert fix.returncode == 1, fix.stdout + fix.stderr
    assert "files were modified by this hook" in fix.stdout
    assert (work / "model.py").read_text() == SEED_AFTER.read_text()

    git("add", ".", cwd=work)
    again = pre_commit("try-repo", str(hook_repo), "slimify-check", "--all-files", cwd=work, home=home)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Passed" in again.stdout
