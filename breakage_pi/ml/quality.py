"""How good a net is, measured: error and onset F1 on held-out patterns beside simple baselines.

Everything here is a pure function of arrays of 0-1 velocities (rows are
patterns, ``x[i * 16 + step]`` as in :mod:`.dataset`), so the bench, the tests
and a player's own experiments score nets the same way. A *hit* is an output
velocity at or above the gate, as the instrument plays it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..core.pattern import MAX_VELOCITY

Predictor = Callable[[np.ndarray], np.ndarray]
"""Maps inputs (n, n_in) 0-1 to outputs (n, n_out) 0-1."""

RIDGE_PENALTY = 1.0
"""L2 penalty of the ridge baseline, on 0-1 inputs (chosen on the training data's scale, never on held-out data)."""


def mse(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Mean squared error over every output of every pattern, on 0-1 velocities."""
    return float(np.mean((np.asarray(predicted, dtype=np.float64) - actual) ** 2))


def onset_f1(predicted: np.ndarray, actual: np.ndarray, gate: float) -> float:
    """F1 of the hits (velocity >= ``gate``, 0-255) the prediction plays against the real ones.

    1.0 when both play no hit at all.
    """
    played = _velocities(predicted) >= gate
    real = _velocities(actual) >= gate
    true_hits = int(np.count_nonzero(played & real))
    counted = int(np.count_nonzero(played)) + int(np.count_nonzero(real))
    return 1.0 if counted == 0 else 2.0 * true_hits / counted


def ghosts_per_pattern(predicted: np.ndarray, gate: float) -> float:
    """Outputs that would sound at their rounded velocity but fall under the gate: what it silences."""
    velocities = _velocities(predicted)
    return float(np.count_nonzero((velocities >= 1) & (velocities < gate))) / len(velocities)


def largest_sweep_step(predictor: Predictor, inputs: np.ndarray) -> float:
    """The largest change of any output (velocity units) as any one input of each pattern in ``inputs``
    rises 0 -> 255 one velocity at a time: how smooth the net is under a player's knob."""
    levels = np.arange(MAX_VELOCITY + 1) / MAX_VELOCITY
    largest = 0.0
    for row in inputs:
        for position in range(inputs.shape[1]):
            sweep = np.repeat(row[None, :], len(levels), axis=0)
            sweep[:, position] = levels
            outputs = np.asarray(predictor(sweep), dtype=np.float64) * MAX_VELOCITY
            largest = max(largest, float(np.abs(np.diff(outputs, axis=0)).max()))
    return largest


@dataclass(frozen=True)
class Baselines:
    """The three simple predictors a net must be measured against, fitted on one training set."""

    inputs: np.ndarray
    targets: np.ndarray

    def average(self, x: np.ndarray) -> np.ndarray:
        """Always the training set's average outputs."""
        return np.repeat(self.targets.mean(axis=0)[None, :], len(x), axis=0)

    def nearest(self, x: np.ndarray) -> np.ndarray:
        """The outputs of the training pattern whose inputs are closest (Euclidean)."""
        distances = ((x[:, None, :] - self.inputs[None, :, :]) ** 2).sum(axis=2)
        return self.targets[distances.argmin(axis=1)]

    def ridge(self, x: np.ndarray) -> np.ndarray:
        """Linear regression with an L2 penalty (bias not penalised), clamped to 0-1."""
        mean_x, mean_y = self.inputs.mean(axis=0), self.targets.mean(axis=0)
        centred = self.inputs - mean_x
        weights = np.linalg.solve(centred.T @ centred + RIDGE_PENALTY * np.eye(centred.shape[1]),
                                  centred.T @ (self.targets - mean_y))
        return np.clip((x - mean_x) @ weights + mean_y, 0.0, 1.0)


def _velocities(values: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0) * MAX_VELOCITY)


Player = Callable[[np.ndarray], np.ndarray]
"""Maps inputs (n, n_in) 0-1 to the played velocities (n, n_out) 0-255, gate included."""


def largest_played_jump(play: Player, inputs: np.ndarray) -> float:
    """The largest change of any *played* velocity (gate included) as any one input of each pattern in
    ``inputs`` rises 0 -> 255 one velocity at a time: what a player hears while slowly raising a hit."""
    levels = np.arange(MAX_VELOCITY + 1) / MAX_VELOCITY
    largest = 0.0
    for row in inputs:
        for position in range(inputs.shape[1]):
            sweep = np.repeat(row[None, :], len(levels), axis=0)
            sweep[:, position] = levels
            played = np.asarray(play(sweep), dtype=np.float64)
            largest = max(largest, float(np.abs(np.diff(played, axis=0)).max()))
    return largest


@dataclass(frozen=True)
class Responsiveness:
    """How the played hits answer one input hit added or removed: ``answered`` is the fraction of such
    edits that change at least one played hit, ``hits_changed`` the mean number changed. A played hit
    changes when it starts, stops or moves by :data:`AUDIBLE_CHANGE` velocity units or more."""

    answered: float
    hits_changed: float


AUDIBLE_CHANGE = 16
"""16 of 255 is about 2.5 dB at velocity 100: a change a player hears."""


def responsiveness(play: Player, inputs: np.ndarray, velocity: int = 200) -> Responsiveness:
    """Every one-hit edit of every pattern in ``inputs``: each input step with a hit loses it, each empty
    one gains a hit at ``velocity`` (the instrument's default)."""
    edits = []
    for row in inputs:
        edited = np.repeat(row[None, :], len(row), axis=0)
        steps = np.arange(len(row))
        edited[steps, steps] = np.where(row > 0, 0.0, velocity / MAX_VELOCITY)
        edits.append(edited)
    before = np.asarray(play(inputs)).astype(np.int64)
    changed = []
    for index, edited in enumerate(edits):
        after = np.asarray(play(edited)).astype(np.int64)
        was = before[index][None, :]
        differs = ((after > 0) != (was > 0)) | (np.abs(after - was) >= AUDIBLE_CHANGE)
        changed.append(np.count_nonzero(differs, axis=1))
    counts = np.concatenate(changed)
    return Responsiveness(float(np.mean(counts > 0)), float(np.mean(counts)))
