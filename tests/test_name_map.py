"""--name-map: a helper-style model's unnamed variables (Variable, Variable_1, ...) get slim's
names; the map the CLI writes must restore a checkpoint of the old graph into the new one."""

import json
import shutil
import subprocess
import sys

from slimify.runner import compare_tf_graphs
from tests.fixture_files import FIXTURES, after_of, input_shapes

HELPER = FIXTURES / "slim" / "helper_functions_weight_dicts.before.py"


def test_cli_name_map_restores_the_old_checkpoint_into_the_new_graph(tmp_path):
    model = tmp_path / "model.py"
    shutil.copy(HELPER, model)
    map_file = tmp_path / "names.json"
    run = subprocess.run(
        [sys.executable, "-m", "slimify", str(model), "--to", "slim", "--name-map", str(map_file)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert model.read_text() == after_of(HELPER).read_text()
    (name_map,) = json.loads(map_file.read_text()).values()
    assert name_map["Variable"] == "conv1/weights"  # first dict entry created first
    assert name_map["Variable_4"] == "conv1/biases"  # the biases dict comes after the weights dict
    assert len(name_map) == 8
    source = HELPER.read_text()
    result = compare_tf_graphs(source, model.read_text(), input_shapes(source), name_map=name_map)
    assert result.ok, result.message
    assert sorted(result.variables) == sorted(name_map.values())


def test_a_wrong_name_map_fails_the_restore():
    source = HELPER.read_text()
    after = after_of(HELPER).read_text()
    good = {
        "Variable": "conv1/weights", "Variable_1": "conv2/weights", "Variable_2": "fc1/weights", "Variable_3": "out/weights",
        "Variable_4": "conv1/biases", "Variable_5": "conv2/biases", "Variable_6": "fc1/biases", "Variable_7": "out/biases",
    }  # fmt: skip
    assert compare_tf_graphs(source, after, input_shapes(source), name_map=good).ok
    # Two kernels swapped between layers: the restore must fail.
    swapped = dict(good, Variable_2="out/weights", Variable_3="fc1/weights")
    assert not compare_tf_graphs(source, after, input_shapes(source), name_map=swapped).ok
    missing = {k: v for k, v in good.items() if k != "Variable_7"}
    result = compare_tf_graphs(source, after, input_shapes(source), name_map=missing)
    assert not result.ok and "Variable_7" in result.message
    assert not compare_tf_graphs(source, after, input_shapes(source)).ok  # without the map nothing matches
