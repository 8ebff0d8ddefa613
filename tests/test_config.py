"""`[tool.slimify]`: found by walking up, flags override, a typo is an error naming the key."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from slimify import config as C
from tests.fixture_files import FIXTURES

SEED = FIXTURES / "slim" / "seed_name_scope_relu.before.py"
SEED_AFTER = FIXTURES / "slim" / "seed_name_scope_relu.after.py"


def slimify(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "slimify", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_table_parsed_and_checked():
    config = C.parse_table(
        {"target": "tf", "select": ["conv_block"], "ignore": [], "exclude": ["gen/*"], "verify": True, "unverified": "skip"}
    )
    assert (config.target, config.select, config.exclude, config.verify, config.unverified) == (
        "tf", ("conv_block",), ("gen/*",), True, "skip",
    )  # fmt: skip
    with pytest.raises(C.ConfigError, match="unknown key `taget`"):
        C.parse_table({"taget": "tf"})
    with pytest.raises(C.ConfigError, match="`target` must be one of tf, slim, keras, torch, not 'jax'"):
        C.parse_table({"target": "jax"})
    with pytest.raises(C.ConfigError, match="`select` must be a list of strings"):
        C.parse_table({"select": "conv_block"})
    with pytest.raises(C.ConfigError, match="`verify` must be true or false"):
        C.parse_table({"verify": "yes"})
    with pytest.raises(C.ConfigError, match="invalid TOML"):
        C.parse_pyproject("[tool.slimify\n", Path("pyproject.toml"))
    assert C.parse_pyproject("[tool.ruff]\nline-length = 1\n", Path("pyproject.toml")) is None


def test_nearest_table_found_walking_up(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.slimify]\ntarget = "tf"\n')
    inner = tmp_path / "pkg" / "sub"
    inner.mkdir(parents=True)
    (tmp_path / "pkg" / "pyproject.toml").write_text("[tool.black]\n")  # no [tool.slimify]: passed over
    found = C.find_config([str(inner / "m.py"), str(inner)])
    assert found.path == tmp_path / "pyproject.toml" and found.target == "tf"
    (inner / "pyproject.toml").write_text('[tool.slimify]\ntarget = "slim"\n')
    assert C.find_config([str(inner)]).target == "slim"


def test_config_target_and_exclude_apply_and_flags_override(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.slimify]\ntarget = "tf"\nexclude = ["vendor/*"]\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "vendor").mkdir()
    shutil.copy(SEED_AFTER, tmp_path / "src" / "m.py")
    shutil.copy(SEED_AFTER, tmp_path / "vendor" / "v.py")
    run = slimify(tmp_path / "src", tmp_path / "vendor" / "v.py")
    assert run.returncode == 0, run.stderr
    assert "tf.nn.conv2d(input, weights" in (tmp_path / "src" / "m.py").read_text()  # target from the config
    assert (tmp_path / "vendor" / "v.py").read_text() == SEED_AFTER.read_text()  # excluded, even given by name
    shutil.copy(SEED, tmp_path / "src" / "m.py")
    assert slimify(tmp_path / "src", "--to", "slim").returncode == 0  # the flag wins
    assert (tmp_path / "src" / "m.py").read_text() == SEED_AFTER.read_text()


def test_select_and_ignore_from_config(tmp_path):
    shutil.copy(SEED, tmp_path / "m.py")
    (tmp_path / "pyproject.toml").write_text('[tool.slimify]\nignore = ["conv_block"]\n')
    assert slimify(tmp_path / "m.py", "--check").returncode == 0  # the only family is ignored
    assert slimify(tmp_path / "m.py", "--check", "--ignore", "").returncode == 1  # flag overrides


def test_unknown_key_or_family_is_exit_2_naming_it(tmp_path):
    shutil.copy(SEED, tmp_path / "m.py")
    (tmp_path / "pyproject.toml").write_text('[tool.slimify]\ntarget = "slim"\nexlcude = ["x"]\n')
    run = slimify(tmp_path / "m.py")
    assert run.returncode == 2
    assert "unknown key `exlcude`" in run.stderr and str(tmp_path / "pyproject.toml") in run.stderr
    assert (tmp_path / "m.py").read_text() == SEED.read_text()
    (tmp_path / "pyproject.toml").write_text('[tool.slimify]\nselect = ["conv_blok"]\n')
    run = slimify(tmp_path / "m.py")
    assert run.returncode == 2 and "unknown rewrite family `conv_blok`" in run.stderr


def test_without_verify_slimify_verify_is_never_imported(tmp_path):
    shutil.copy(SEED, tmp_path / "m.py")
    code = (
        "import sys; from slimify.cli import main; main([sys.argv[1], '--diff', '-j', '1']);"
        "assert 'slimify.verify' not in sys.modules, 'verify imported'"
    )
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.py")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
