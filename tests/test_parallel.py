"""-j N: the same results, in the same order, whether one process works or several."""

import json
import shutil
import subprocess
import sys

from tests.fixture_files import FIXTURES

BEFORE = sorted(FIXTURES.glob("slim/*.before.py")) + sorted(FIXTURES.glob("slim/*.unchanged.py"))


def slimify(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "slimify", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_workers_give_the_same_report_and_files_as_one_process(tmp_path):
    trees = {}
    for jobs in ("1", "2"):
        root = tmp_path / f"j{jobs}"
        root.mkdir()
        for path in BEFORE:
            shutil.copy(path, root / path.name)
        (root / "broken.py").write_text("import tensorflow as tf\ndef f(:\n    tf.nn.conv2d(x)\n")
        run = slimify(".", "-j", jobs, "--format", "json", cwd=root)
        assert run.returncode == 2, run.stderr  # the broken file; every other file was still processed
        trees[jobs] = (run.stdout, {p.name: p.read_text() for p in sorted(root.iterdir())})
    assert trees["1"] == trees["2"]
    report = json.loads(trees["2"][0])
    assert report["summary"]["files_rewritten"] > 0 and report["summary"]["errors"] == 1
    assert [f["path"] for f in report["files"]] == sorted(f["path"] for f in report["files"])
    seed = "seed_name_scope_relu.before.py"
    assert trees["2"][1][seed] == (FIXTURES / "slim" / "seed_name_scope_relu.after.py").read_text()
