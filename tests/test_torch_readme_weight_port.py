"""The README's weight-porting snippet (section "Keras ↔ PyTorch") runs as written.

The snippet is read from README.md and executed with the names it leaves to the reader bound to
the seed's Keras model (weights randomized, as trained weights would be: non-zero biases) and
its PyTorch translation; afterwards both models must compute the same on two inputs.
"""

import re
from pathlib import Path

import numpy as np

from slimify.engine import rewrite_source
from slimify.model_runner import TOLERANCE, load_module, randomize_keras
from tests.fixture_files import FIXTURES

README = Path(__file__).resolve().parent.parent / "README.md"
SEED = FIXTURES / "torch" / "seed_sequential_add.before.py"


def _snippet() -> str:
    section = README.read_text(encoding="utf-8").split("## Keras ↔ PyTorch", 1)[1].split("\n## ", 1)[0]
    blocks = [block for block in re.findall(r"```python\n(.*?)```", section, re.S) if "port_weights(" in block]
    assert len(blocks) == 1, "the section shows one weight-porting snippet"
    return blocks[0]


def _max_diff(keras_model, torch_model, x_nhwc: np.ndarray) -> float:
    import torch

    expected = np.asarray(keras_model(x_nhwc, training=False))
    with torch.no_grad():
        got = torch_model(torch.from_numpy(x_nhwc.transpose(0, 3, 1, 2).copy())).numpy()
    assert expected.shape == got.shape
    return float(np.max(np.abs(expected.astype(np.float64) - got)))


def test_readme_snippet_carries_trained_weights(tmp_path, monkeypatch):
    snippet = _snippet()
    source = SEED.read_text()
    (tmp_path / "model_keras.py").write_text(source)
    model_torch = load_module(rewrite_source(source, "torch").new_source, "model_torch")
    keras_model = load_module(source, "model_keras").model
    rng = np.random.default_rng(7)
    x_nhwc = rng.standard_normal((2, 32, 32, 3)).astype(np.float32)
    odd = rng.standard_normal((3, 33, 33, 3)).astype(np.float32)
    keras_model(x_nhwc)
    randomize_keras(keras_model, rng)
    model_torch.model.eval()
    assert _max_diff(keras_model, model_torch.model, x_nhwc) > TOLERANCE  # nothing ported yet
    trained = [w.copy() for w in keras_model.get_weights()]

    monkeypatch.chdir(tmp_path)  # the snippet opens "model_keras.py"
    namespace = {"keras_model": keras_model, "x_nhwc": x_nhwc, "model_torch": model_torch}
    exec(compile(snippet, "README.md snippet", "exec"), namespace)

    assert namespace["torch_model"] is model_torch.model
    # The trained (Keras) weights went into PyTorch, not the other way round.
    assert all(np.array_equal(a, b) for a, b in zip(trained, keras_model.get_weights(), strict=True))
    for x in (x_nhwc, odd):
        assert _max_diff(keras_model, namespace["torch_model"], x) <= TOLERANCE
