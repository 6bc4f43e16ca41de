"""The net itself: a small multilayer perceptron in numpy, tanh hidden layers, sigmoid outputs.

Tanh keeps the map smooth (a gentle change of input gives a gentle change of
output); the sigmoid keeps every output a velocity in 0-1. This forward pass
is the reference that the ONNX graph must match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Mlp:
    """Weights ``weights[k]`` (fan_in, fan_out) and biases ``biases[k]`` (fan_out,) per layer.

    >>> net = init_mlp(32, (16,), 32, np.random.default_rng(0))
    >>> net.forward(np.zeros((1, 32))).shape
    (1, 32)
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer widths from input to output, e.g. ``(32, 32, 32)``."""
        return (self.weights[0].shape[0],) + tuple(w.shape[1] for w in self.weights)

    def parameters(self) -> list[np.ndarray]:
        """Weights and biases interleaved (W0, b0, W1, b1, ...), the order gradients come in."""
        return [array for pair in zip(self.weights, self.biases) for array in pair]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Outputs 0-1 for inputs ``x`` (batch, n_in) scaled 0-1."""
        return self._activations(x)[-1]

    def _activations(self, x: np.ndarray) -> list[np.ndarray]:
        layers = [np.asarray(x)]
        last = len(self.weights) - 1
        for index, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = layers[-1] @ w + b
            layers.append(_sigmoid(z) if index == last else np.tanh(z))
        return layers

    def loss_and_gradients(self, x: np.ndarray, targets: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """Mean squared error over every output of every example, and its gradient per parameter."""
        layers = self._activations(x)
        output = layers[-1]
        difference = output - targets
        loss = float(np.mean(difference * difference))
        delta = (2.0 / difference.size) * difference * output * (1.0 - output)
        gradients: list[np.ndarray] = []
        for index in range(len(self.weights) - 1, -1, -1):
            gradients.append(delta.sum(axis=0))
            gradients.append(layers[index].T @ delta)
            if index:
                hidden = layers[index]
                delta = (delta @ self.weights[index].T) * (1.0 - hidden * hidden)
        gradients.reverse()
        return loss, gradients

    def with_parameters(self, parameters: Sequence[np.ndarray]) -> Mlp:
        """A net with the given parameters, in :meth:`parameters` order."""
        return Mlp(tuple(parameters[0::2]), tuple(parameters[1::2]))

    def astype(self, dtype: type) -> Mlp:
        """A copy with every parameter converted, e.g. to float32 for export."""
        return self.with_parameters([p.astype(dtype) for p in self.parameters()])


def init_mlp(n_in: int, hidden: Sequence[int], n_out: int, rng: np.random.Generator) -> Mlp:
    """Glorot-uniform weights drawn from ``rng`` and zero biases (outputs start near 0.5)."""
    sizes = (n_in, *hidden, n_out)
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-limit, limit, size=(fan_in, fan_out)))
    biases = [np.zeros(size) for size in sizes[1:]]
    return Mlp(tuple(weights), tuple(biases))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))
