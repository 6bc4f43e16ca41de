"""Adam, the optimiser (Kingma & Ba 2015), over a list of numpy parameters."""

from __future__ import annotations

from typing import Sequence

import numpy as np


class Adam:
    """Per-parameter adaptive steps: robust to the very different gradient scales of each layer.

    ``step`` returns new parameter arrays and leaves the given ones untouched,
    so a snapshot taken earlier stays valid.

    >>> opt = Adam([np.zeros(2)], learning_rate=0.1)
    >>> opt.step([np.zeros(2)], [np.ones(2)])[0].round(6)
    array([-0.1, -0.1])
    """

    def __init__(self, parameters: Sequence[np.ndarray], learning_rate: float = 0.01,
                 beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8) -> None:
        self.learning_rate = learning_rate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self._first = [np.zeros_like(p) for p in parameters]
        self._second = [np.zeros_like(p) for p in parameters]
        self._steps = 0

    def step(self, parameters: Sequence[np.ndarray], gradients: Sequence[np.ndarray]) -> list[np.ndarray]:
        """One bias-corrected Adam update of every parameter."""
        self._steps += 1
        first_correction = 1.0 - self.beta1 ** self._steps
        second_correction = 1.0 - self.beta2 ** self._steps
        updated = []
        for p, g, m, v in zip(parameters, gradients, self._first, self._second):
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            updated.append(p - self.learning_rate * (m / first_correction)
                           / (np.sqrt(v / second_correction) + self.epsilon))
        return updated
