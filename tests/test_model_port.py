"""Weight porting between Keras and PyTorch layouts, on plain arrays (no framework needed)."""

import numpy as np

from slimify.ir import BatchNorm, Conv2D, Dense
from slimify.model_port import keras_to_torch, torch_to_keras


def test_dense_after_flatten_rows_follow_the_feature_order():
    height, width, channels, units = 2, 3, 4, 5
    kernel = np.arange(height * width * channels * units, dtype=np.float32).reshape(-1, units)
    state = keras_to_torch(Dense(units), [kernel, np.ones(units, np.float32)], (height, width, channels))
    h, w, c = 1, 2, 3  # Keras feature (h, w, c) sits at (h*W + w)*C + c; PyTorch's at (c*H + h)*W + w
    np.testing.assert_array_equal(state["weight"][:, (c * height + h) * width + w], kernel[(h * width + w) * channels + c])
    assert not np.array_equal(state["weight"], kernel.T)


def test_round_trips_are_exact():
    rng = np.random.default_rng(0)
    conv = [rng.standard_normal((3, 5, 2, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)]
    back = torch_to_keras(Conv2D(4, (3, 5)), keras_to_torch(Conv2D(4, (3, 5)), conv))
    assert all(np.array_equal(a, b) for a, b in zip(conv, back, strict=True))
    assert keras_to_torch(Conv2D(4, (3, 5)), conv)["weight"].shape == (4, 2, 3, 5)
    dense = [rng.standard_normal((24, 5)).astype(np.float32)]
    back = torch_to_keras(Dense(5, use_bias=False), keras_to_torch(Dense(5, use_bias=False), dense, (2, 3, 4)), (2, 3, 4))
    assert np.array_equal(back[0], dense[0]) and len(back) == 1


def test_batch_norm_statistics_map_by_role():
    gamma, beta, mean, var = (np.full(3, v, np.float32) for v in (1.5, 0.2, -0.1, 0.7))
    state = keras_to_torch(BatchNorm(), [gamma, beta, mean, var])
    assert {k: float(v[0]) for k, v in state.items()} == {
        "weight": 1.5,
        "bias": np.float32(0.2),
        "running_mean": np.float32(-0.1),
        "running_var": np.float32(0.7),
    }
    assert [float(a[0]) for a in torch_to_keras(BatchNorm(center=False, scale=False), state)] == [np.float32(-0.1), np.float32(0.7)]
