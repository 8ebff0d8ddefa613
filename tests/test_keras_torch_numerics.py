"""Keras <-> PyTorch fixtures are executed: weights randomized, ported, both models run and compared.

Fixture contract (fixtures/torch: Keras before, PyTorch after; fixtures/keras: the reverse):
- `INPUT_SHAPES = [...]`: NHWC input shapes, batch first (at least two, batch >= 2); the
  PyTorch side gets them transposed to NCHW. Where the model allows it one size is odd; a model
  whose Dense after Flatten pins the size, or whose stride-2 SAME padding was computed for the
  declared input size, uses that size.
- the entry point is the name the translated model is bound to (`model = ...`, `def build_model`,
  `class Net`): read from the recognizer's IR, so a fixture needs no extra declaration.
Real Keras 3 and real PyTorch; float32, max abs diff <= 1e-4 on the outputs (never argmax).
"""

import pytest

from slimify import model_port
from slimify.engine import rewrite_source
from slimify.model_runner import TOLERANCE, compare_models, model_ir_of
from tests.fixture_files import after_of, fixture_id, input_shapes, pairs

MODEL_PAIRS = pairs("torch") + pairs("keras")
DIRECTION = {"torch": "keras->torch", "keras": "torch->keras"}
# Sizes pinned by the model, so no odd input size can be fed (see the module docstring).
EVEN_ONLY: set[str] = set()


def _entry(before) -> str:
    result = rewrite_source(before.read_text(), before.parent.name)
    (rewrite,) = result.rewrites
    return rewrite.ir.name


def test_enough_model_fixtures():
    assert len(pairs("torch")) >= 4 and len(pairs("keras")) >= 3


@pytest.mark.parametrize("before", MODEL_PAIRS, ids=fixture_id)
def test_translation_computes_the_same(before):
    source = before.read_text()
    shapes = input_shapes(source)
    if fixture_id(before) not in EVEN_ONLY:
        assert any(s[1] % 2 or s[2] % 2 for s in shapes), "one input needs an odd spatial size"
    result = compare_models(source, after_of(before).read_text(), _entry(before), shapes, DIRECTION[before.parent.name])
    assert result.ok, result.message
    assert result.max_abs_diff <= TOLERANCE
    assert result.shapes_run == shapes


def _seed(target: str):
    before = next(p for p in pairs(target) if p.name.startswith("seed_"))
    return before.read_text(), after_of(before).read_text(), _entry(before), input_shapes(before.read_text())


def test_seed_translates_both_ways():
    for target in ("torch", "keras"):
        before, after, entry, shapes = _seed(target)
        assert rewrite_source(before, target).new_source == after
        assert compare_models(before, after, entry, shapes, DIRECTION[target]).ok


@pytest.mark.parametrize("target", ["torch", "keras"])
def test_runner_catches_a_missing_flatten_permutation(target, monkeypatch):
    before, after, entry, shapes = _seed(target)
    model_ir = model_ir_of(before, entry, DIRECTION[target])
    monkeypatch.setattr(model_port.ir, "flatten_feeding", lambda model, node: None)
    result = compare_models(before, after, entry, shapes, DIRECTION[target], model_ir=model_ir)
    assert not result.ok
    assert result.max_abs_diff > TOLERANCE
    assert "outputs differ" in result.message


STRIDE_2_SAME = """\
import keras

model = keras.Sequential([
    keras.Input(shape=(16, 16, 3)),
    keras.layers.Conv2D(4, 3, strides=2, padding='same'),
    keras.layers.GlobalAveragePooling2D(),
])
"""


PADDED_PER_INPUT = "    SamePad2d(kernel_size=(3, 3), stride=(2, 2)),\n"


def test_stride_2_same_is_padded_for_each_input_size():
    # TF pads (0, 1) on an even size and (1, 1) on an odd one; a Keras Sequential runs on any
    # size, so the translation computes the padding from each input instead of the declared one.
    after = rewrite_source(STRIDE_2_SAME, "torch").new_source
    assert PADDED_PER_INPUT in after and "ZeroPad2d" not in after
    shapes = [(2, 16, 16, 3), (3, 15, 15, 3), (2, 17, 14, 3)]
    result = compare_models(STRIDE_2_SAME, after, "model", shapes, "keras->torch")
    assert result.ok, result.message


def test_padding_fixed_for_the_declared_size_is_wrong_for_other_sizes():
    # What a fixed translation would be: right for 16 x 16, caught on 15 x 15.
    after = rewrite_source(STRIDE_2_SAME, "torch").new_source
    fixed = after.replace(PADDED_PER_INPUT, "    nn.ZeroPad2d((0, 1, 0, 1)),\n")
    assert fixed != after
    assert compare_models(STRIDE_2_SAME, fixed, "model", [(2, 16, 16, 3), (3, 16, 16, 3)], "keras->torch").ok
    result = compare_models(STRIDE_2_SAME, fixed, "model", [(2, 16, 16, 3), (3, 15, 15, 3)], "keras->torch")
    assert not result.ok
    assert "(3, 15, 15, 3)" in result.message


def test_runner_catches_symmetric_padding_for_stride_2_same():
    after = rewrite_source(STRIDE_2_SAME, "torch").new_source
    symmetric = after.replace(PADDED_PER_INPUT, "").replace("stride=2)", "stride=2, padding=1)")
    assert symmetric != after and "padding=1" in symmetric
    result = compare_models(STRIDE_2_SAME, symmetric, "model", [(2, 16, 16, 3), (3, 16, 16, 3)], "keras->torch")
    assert not result.ok
    assert result.max_abs_diff > TOLERANCE


def test_runner_catches_a_dropped_bias():
    before, after, entry, shapes = _seed("keras")
    wrong = after.replace("keras.layers.Dense(10)", "keras.layers.Dense(10, use_bias=False)")
    assert wrong != after
    with pytest.raises(ValueError):  # the ported bias has nowhere to go
        compare_models(before, wrong, entry, shapes, "torch->keras")


def test_momentum_conventions_are_carried_not_defaulted():
    after = rewrite_source(pairs("keras")[-1].read_text(), "keras").new_source
    assert "BatchNormalization(epsilon=0.001, momentum=0.95)" in after  # torch eps=1e-3, momentum=0.05
    torch_after = after_of(next(p for p in pairs("torch") if p.name.startswith("build_model"))).read_text()
    assert "BatchNorm2d(8, eps=1e-05, momentum=0.1)" in torch_after  # Keras epsilon=1e-5, momentum=0.9
