"""--verify on model-level rewrites (Keras <-> PyTorch): the model is run before and after, alone.

Real Keras 3 and real PyTorch in the worker process (torch imported with the first model).
"""

import json
import subprocess
import sys

import pytest

import slimify.pipeline as pipeline
from slimify.engine import ReviewContext, review_context, rewrite_source
from slimify.ir import Activation, Conv2D, Dense, Flatten, Model, Node
from slimify.pipeline import Options, process_path
from slimify.rewrite import Rewrite
from slimify.verify import ModelCase, Unverifiable, build_case, make_review_factory, model_input_shapes
from tests.broken_codemods.model_wrong import DENSE_WITHOUT_BIAS, SIGMOID_FOR_RELU
from tests.fixture_files import FIXTURES, fixture_id, pairs

KERAS_USER_CODE = """\
from tensorflow.keras.layers import Conv2D, Dense, Flatten, MaxPool2D
from tensorflow.keras.models import Sequential

print("the user's module top level ran")  # --verify must never run this

model = Sequential()
model.add(Conv2D(8, (3, 3), activation='relu', input_shape=(12, 12, 3)))
model.add(MaxPool2D())
model.add(Flatten())
model.add(Dense(4, activation='softmax'))
"""

TORCH_USER_CODE = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.fc1 = nn.Linear(8 * 5 * 5, 4)
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = x.view(-1, 8 * 5 * 5)
        return self.fc1(x)
"""


@pytest.fixture(scope="module")
def factories():
    made = {policy: make_review_factory(unverified=policy, timeout=120.0) for policy in ("apply", "skip")}
    yield made
    for factory in made.values():
        factory.worker.close()


def _case(source: str, target: str, codemods=None):
    cases = []

    def capture(rewrite):
        cases.append(build_case(rewrite, review_context()))
        return rewrite

    rewrite_source(source, target, review=capture, codemods=codemods)
    (case,) = cases
    return case


@pytest.mark.parametrize("before", pairs("torch") + pairs("keras"), ids=fixture_id)
def test_every_model_fixture_is_verified(factories, before):
    result = rewrite_source(before.read_text(), before.parent.name, path=str(before), review=factories["apply"](str(before)))
    assert result.rewrites and [r.verified for r in result.rewrites] == [True] * len(result.rewrites), result.findings


def test_keras_to_torch_is_verified_and_written(factories, tmp_path):
    model = tmp_path / "model.py"
    model.write_text(KERAS_USER_CODE)
    outcome = process_path(model, Options(target="torch", verify=True), factories["apply"])
    assert outcome.written and [r.verified for r in outcome.result.rewrites] == [True]
    assert "nn.Linear(200, 4)" in model.read_text()


def test_torch_to_keras_is_verified(factories):
    result = rewrite_source(TORCH_USER_CODE, "keras", path="net.py", review=factories["apply"]("net.py"))
    assert [r.verified for r in result.rewrites] == [True]
    # PyTorch declares no input size: the Linear after the flatten fixes it (12 or 13 pixels).
    assert "outputs agree: max abs diff" in result.rewrites[0].verification
    assert result.rewrites[0].verification.endswith("(inputs (2, 12, 12, 3), (3, 13, 13, 3))")
    assert "class Net(keras.Model)" in result.new_source


def test_wrong_activation_is_refused_with_the_numbers_and_not_written(factories, tmp_path, monkeypatch):
    assert "nn.Sigmoid()" in rewrite_source(KERAS_USER_CODE, "torch", codemods=SIGMOID_FOR_RELU).new_source  # applies unverified
    model = tmp_path / "model.py"
    model.write_bytes(KERAS_USER_CODE.encode())
    real = pipeline.rewrite_source
    monkeypatch.setattr(pipeline, "rewrite_source", lambda *a, **k: real(*a, **k, codemods=SIGMOID_FOR_RELU))
    outcome = process_path(model, Options(target="torch", verify=True), factories["apply"])
    assert not outcome.written
    assert model.read_bytes() == KERAS_USER_CODE.encode()
    [finding] = outcome.findings
    assert (finding.kind, finding.line, finding.family) == ("refused", 6, "keras_model")
    assert "failed verification" in finding.reason and "outputs differ" in finding.reason and "max abs diff" in finding.reason


def test_dropped_bias_in_a_translation_to_keras_is_refused(factories):
    assert "Dense(4, use_bias=False)" in rewrite_source(TORCH_USER_CODE, "keras", codemods=DENSE_WITHOUT_BIAS).new_source
    result = rewrite_source(TORCH_USER_CODE, "keras", path="net.py", codemods=DENSE_WITHOUT_BIAS, review=factories["apply"]("net.py"))
    assert not result.changed and not result.rewrites
    [finding] = result.findings
    assert finding.kind == "refused" and finding.family == "torch_module"
    assert "the translated model fails where the original runs" in finding.reason


def test_model_reading_a_name_from_elsewhere_is_unverifiable():
    # The recognizers refuse sizes held in variables, so this rewrite is made by hand: a model
    # whose definition reads a name of the user's module cannot run alone.
    case = _case(KERAS_USER_CODE, "torch")
    model_ir = rewrite_source(KERAS_USER_CODE, "torch").rewrites[0].ir
    before = "model = Sequential()\nmodel.add(Conv2D(8, (3, 3), input_shape=(12, 12, 3)))\nmodel.add(make_head())\n"
    rewrite = Rewrite("keras_model", 6, 8, before, case.after, ir=model_ir)
    with pytest.raises(Unverifiable, match="the model reads `make_head`, defined elsewhere in the file"):
        build_case(rewrite, ReviewContext(KERAS_USER_CODE, {}, (("torch.nn", "nn"),)))
    unknown_family = Rewrite("some_new_family", 6, 8, before, case.after, ir=model_ir)
    with pytest.raises(Unverifiable, match="no model runner knows the `some_new_family` family"):
        build_case(unknown_family, ReviewContext(KERAS_USER_CODE, {}, ()))


def test_user_top_level_and_other_imports_never_run(factories, tmp_path):
    marker = tmp_path / "top_level_ran"
    source = KERAS_USER_CODE.replace(
        'print("the user\'s module top level ran")', f"import my_project.secrets\nopen({str(marker)!r}, 'w').write('ran')"
    )
    result = rewrite_source(source, "torch", path="m.py", review=factories["apply"]("m.py"))
    assert [r.verified for r in result.rewrites] == [True]
    assert not marker.exists()
    case = _case(source, "torch")
    assert "my_project" not in case.before and "open(" not in case.before


def test_the_model_case_holds_only_the_model_and_its_imports():
    case = _case(KERAS_USER_CODE, "torch")
    assert isinstance(case, ModelCase)
    assert (case.entry, case.direction) == ("model", "keras->torch")
    assert case.before.startswith("from tensorflow.keras.layers import Conv2D as Conv2D\n")
    assert "print(" not in case.before
    assert "import torch.nn as nn" in case.after and "model = nn.Sequential(" in case.after
    assert case.input_shapes == ((2, 12, 12, 3), (3, 13, 13, 3))


def test_a_model_returned_from_a_function_runs_as_that_function():
    source = (FIXTURES / "torch" / "build_model_bn_gap_log_softmax.before.py").read_text()
    case = _case(source, "torch")
    assert case.entry == "build_model"
    assert "\ndef build_model():\n    return keras.Sequential([" in case.before
    assert "\ndef build_model():\n    return nn.Sequential(" in case.after


def _model(*layers, input_shape=None) -> Model:
    nodes, previous = [], "input"
    for index, layer in enumerate(layers):
        nodes.append(Node(f"node{index}", layer, (previous,)))
        previous = f"node{index}"
    return Model("model", input_shape, tuple(nodes), (previous,))


def test_input_sizes_come_from_the_declared_shape_and_one_is_odd():
    conv = Conv2D(filters=4, kernel_size=(3, 3), padding="VALID")
    assert model_input_shapes(_model(conv, input_shape=(10, 10, 3))) == ((2, 10, 10, 3), (3, 11, 11, 3))
    assert model_input_shapes(_model(conv, input_shape=(9, 8, 3))) == ((2, 9, 8, 3), (3, 10, 9, 3))
    # A Dense after Flatten pins the size: the declared one twice.
    pinned = _model(conv, Flatten(), Dense(units=2, in_features=4 * 8 * 8), input_shape=(10, 10, 3))
    assert model_input_shapes(pinned) == ((2, 10, 10, 3), (3, 10, 10, 3))
    with pytest.raises(Unverifiable, match="do not fit its declared input shape"):
        model_input_shapes(_model(conv, Flatten(), Dense(units=2, in_features=7), input_shape=(10, 10, 3)))


def test_input_sizes_of_a_model_without_a_declared_shape_are_searched():
    conv = Conv2D(filters=4, kernel_size=(3, 3), padding="VALID", in_channels=3)
    assert model_input_shapes(_model(conv, Activation("relu"))) == ((2, 8, 8, 3), (3, 7, 7, 3))
    pinned = model_input_shapes(_model(conv, Flatten(), Dense(units=2, in_features=4 * 30 * 30)))
    assert [shape[1:] for shape in pinned] == [(32, 32, 3), (32, 32, 3)]
    with pytest.raises(Unverifiable, match="none from 4 to 64 fits"):
        model_input_shapes(_model(conv, Flatten(), Dense(units=2, in_features=7)))
    with pytest.raises(Unverifiable, match="flat features"):
        model_input_shapes(_model(Dense(units=2, in_features=7)))
    with pytest.raises(Unverifiable, match="does not fix the number of channels"):
        model_input_shapes(_model(Activation("relu")))


def test_cli_verify_marks_model_rewrites_verified_in_json(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(KERAS_USER_CODE)
    run = subprocess.run(
        [sys.executable, "-m", "slimify", str(model), "--to", "torch", "--verify", "--check", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    [entry] = [f for f in report["files"] if f["rewrites"]]
    assert [r["verified"] for r in entry["rewrites"]] == [True]


def test_a_model_whose_original_does_not_run_is_unverifiable_not_wrong():
    from slimify import verify_worker  # in process: the worker's own check, with real Keras and torch

    request = _case(TORCH_USER_CODE, "keras").request()
    assert verify_worker.check(request)["status"] == "verified"
    request["before"] += "\nNet.forward = lambda self, x: x.reshape(x.shape[0], 999)\n"  # the original now fails
    answer = verify_worker.check(request)
    assert answer["status"] == "unverifiable", answer
    assert answer["reason"].startswith("the model does not run on its own: RuntimeError"), answer


def test_a_later_input_the_original_rejects_is_replaced_by_its_first_size():
    from slimify import verify_worker

    request = _case(KERAS_USER_CODE, "torch").request()
    request["shapes"] = [[2, 12, 12, 3], [3, 16, 16, 3]]  # its Dense(4) takes 200 features, 16x16 gives 392
    answer = verify_worker.check(request)
    assert answer["status"] == "verified", answer
    assert answer["reason"].endswith("(inputs (2, 12, 12, 3), (3, 12, 12, 3))"), answer
