"""The numpy MLP and Adam: gradients checked by finite differences, Adam by hand."""

from __future__ import annotations

import numpy as np
import pytest

from breakage_pi.ml.adam import Adam
from breakage_pi.ml.mlp import Mlp, init_mlp


def _numeric_gradient(mlp: Mlp, x: np.ndarray, y: np.ndarray, index: int, step: float = 1e-6) -> np.ndarray:
    parameters = mlp.parameters()
    gradient = np.zeros_like(parameters[index])
    for position in np.ndindex(gradient.shape):
        plus = [p.copy() for p in parameters]
        minus = [p.copy() for p in parameters]
        plus[index][position] += step
        minus[index][position] -= step
        loss_plus, _ = mlp.with_parameters(plus).loss_and_gradients(x, y)
        loss_minus, _ = mlp.with_parameters(minus).loss_and_gradients(x, y)
        gradient[position] = (loss_plus - loss_minus) / (2 * step)
    return gradient


@pytest.mark.parametrize("hidden", [(), (5,), (6, 4)])
def test_gradients_match_finite_differences(hidden: tuple[int, ...]) -> None:
    rng = np.random.default_rng(3)
    mlp = init_mlp(7, hidden, 3, rng)
    mlp = mlp.with_parameters([p + rng.normal(0, 0.3, p.shape) for p in mlp.parameters()])  # non-zero biases
    x = rng.random((4, 7))
    y = rng.random((4, 3))
    _, gradients = mlp.loss_and_gradients(x, y)
    assert [g.shape for g in gradients] == [p.shape for p in mlp.parameters()]
    for index, gradient in enumerate(gradients):
        np.testing.assert_allclose(gradient, _numeric_gradient(mlp, x, y, index), rtol=1e-5, atol=1e-9)


def test_loss_is_mean_squared_error_of_the_forward_pass() -> None:
    rng = np.random.default_rng(1)
    mlp = init_mlp(4, (3,), 2, rng)
    x, y = rng.random((5, 4)), rng.random((5, 2))
    loss, _ = mlp.loss_and_gradients(x, y)
    assert loss == pytest.approx(float(np.mean((mlp.forward(x) - y) ** 2)))


def test_forward_is_tanh_then_sigmoid_in_zero_one() -> None:
    rng = np.random.default_rng(2)
    mlp = init_mlp(3, (4,), 2, rng)
    x = rng.random((6, 3)) * 100 - 50
    hidden = np.tanh(x @ mlp.weights[0] + mlp.biases[0])
    expected = 1 / (1 + np.exp(-(hidden @ mlp.weights[1] + mlp.biases[1])))
    np.testing.assert_allclose(mlp.forward(x), expected, rtol=1e-12)
    assert mlp.sizes == (3, 4, 2)
    assert np.all((mlp.forward(x) >= 0) & (mlp.forward(x) <= 1))


def test_init_is_seeded_and_biases_start_at_zero() -> None:
    a = init_mlp(32, (32,), 32, np.random.default_rng(5))
    b = init_mlp(32, (32,), 32, np.random.default_rng(5))
    c = init_mlp(32, (32,), 32, np.random.default_rng(6))
    assert all(np.array_equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not np.array_equal(a.weights[0], c.weights[0])
    assert all(not bias.any() for bias in a.biases)
    assert np.abs(a.weights[0]).max() <= np.sqrt(6 / 64)


def test_adam_matches_the_published_update() -> None:
    rng = np.random.default_rng(4)
    parameter = rng.normal(size=3)
    gradients = [rng.normal(size=3) for _ in range(3)]
    optimiser = Adam([parameter], learning_rate=0.1)
    m = np.zeros(3)
    v = np.zeros(3)
    expected = parameter.copy()
    current = [parameter]
    for t, g in enumerate(gradients, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        m_hat, v_hat = m / (1 - 0.9 ** t), v / (1 - 0.999 ** t)
        expected = expected - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)
        current = optimiser.step(current, [g])
    np.testing.assert_allclose(current[0], expected, rtol=1e-6)


def test_adam_leaves_given_parameters_untouched() -> None:
    parameter = np.ones(2)
    optimiser = Adam([parameter], learning_rate=0.5)
    updated = optimiser.step([parameter], [np.ones(2)])
    assert np.array_equal(parameter, np.ones(2))
    assert np.all(updated[0] < 1)
