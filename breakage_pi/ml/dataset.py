"""Patterns to the net's vectors and back, and the training set built from a bank.

A net sees the input channels' velocities scaled to 0-1, channel by channel in
channel order (``x[i * 16 + step]`` for the i-th input channel), and writes the
output channels' velocities the same way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..core.bank import Bank
from ..core.pattern import CHANNELS, DEFAULT_CHANNEL_NAMES, MAX_VELOCITY, STEPS, Pattern
from .errors import TrainingError


def split_roles(roles: Sequence[str]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(input channels, output channels)`` of ``roles``; raise if either side is empty."""
    inputs = tuple(c for c, role in enumerate(roles) if role == "in")
    outputs = tuple(c for c, role in enumerate(roles) if role == "out")
    if not inputs:
        raise TrainingError(f"roles {list(roles)} leave no input channel: mark at least one channel 'in'")
    if not outputs:
        raise TrainingError(f"roles {list(roles)} leave no output channel: mark at least one channel 'out'")
    return inputs, outputs


class SplitByRoles:
    """The input and output channels of anything with ``roles`` (a training set, a net's metadata)."""

    roles: tuple[str, ...]

    @property
    def input_channels(self) -> tuple[int, ...]:
        return split_roles(self.roles)[0]

    @property
    def output_channels(self) -> tuple[int, ...]:
        return split_roles(self.roles)[1]


def input_vector(pattern: Pattern, channels: Sequence[int]) -> np.ndarray:
    """The (len(channels) * 16,) float64 input of a net: velocities / 255."""
    return pattern.velocities[list(channels)].reshape(-1) / MAX_VELOCITY


def output_velocities(values: np.ndarray, channel_count: int) -> np.ndarray:
    """A net's 0-1 outputs as (channel_count, 16) uint8 velocities, clamped and rounded to nearest.

    NaN (from a foreign net) becomes 0. On the performance path: fmax/fmin
    cost a third of ``np.clip`` here.
    """
    scaled = np.multiply(values, float(MAX_VELOCITY), dtype=np.float64)
    np.fmax(scaled, 0.0, out=scaled)
    np.fmin(scaled, float(MAX_VELOCITY), out=scaled)
    np.rint(scaled, out=scaled)
    return scaled.astype(np.uint8).reshape(channel_count, STEPS)


def with_outputs(pattern: Pattern, channels: Sequence[int], velocities: np.ndarray) -> Pattern:
    """``pattern`` with ``channels`` replaced by ``velocities`` ((len(channels), 16) uint8)."""
    grid = pattern.velocities.copy()
    grid[list(channels)] = velocities
    return Pattern(grid)


@dataclass(frozen=True)
class TrainingSet(SplitByRoles):
    """The examples a net learns from: inputs (n, n_in) and targets (n, n_out), both 0-1 float64.

    ``digest`` is ``sha256:`` of the patterns, roles and channel names, so a net
    file records exactly which training set made it.
    """

    inputs: np.ndarray
    targets: np.ndarray
    channels: tuple[str, ...]
    roles: tuple[str, ...]
    digest: str

    def __len__(self) -> int:
        return len(self.inputs)

    def error_floor(self) -> float:
        """The lowest MSE any net can reach: examples with equal inputs but different targets.

        A net maps one input to one output, so for each group of identical
        inputs the best it can do is their mean target.
        """
        groups: dict[bytes, list[int]] = {}
        for index, row in enumerate(self.inputs):
            groups.setdefault(row.tobytes(), []).append(index)
        squared = sum(float(((self.targets[rows] - self.targets[rows].mean(axis=0)) ** 2).sum())
                      for rows in groups.values())
        return squared / self.targets.size

    def reference_error(self) -> float:
        """The MSE that error targets are relative to: always playing the training set's average outputs.

        An error target of 0.1 means "leave 10 % of this unexplained" (1 - R^2).
        When every training pattern has the same outputs the average is exact,
        so the reference is then the error of playing nothing (at least one
        velocity unit squared): a target still asks for a net close to them.
        """
        variance = float(self.targets.var(axis=0).mean())
        if variance > 0.0:
            return variance
        return max(float(np.mean(self.targets ** 2)), 1.0 / MAX_VELOCITY ** 2)


def training_set(patterns: Sequence[Pattern], roles: Sequence[str],
                 channels: Sequence[str] = DEFAULT_CHANNEL_NAMES) -> TrainingSet:
    """A training set from patterns and channel roles (any number of patterns, at least one).

    >>> ts = training_set([Pattern()], ("in", "in", "out", "out"))
    >>> ts.inputs.shape, ts.targets.shape
    ((1, 32), (1, 32))
    """
    if len(roles) != CHANNELS or len(channels) != CHANNELS:
        raise TrainingError(f"expected {CHANNELS} roles and channel names, got {len(roles)} and {len(channels)}")
    inputs, outputs = split_roles(roles)
    if not patterns:
        raise TrainingError("no training patterns: mark at least one slot for training")
    x = np.stack([input_vector(pattern, inputs) for pattern in patterns])
    y = np.stack([input_vector(pattern, outputs) for pattern in patterns])
    return TrainingSet(x, y, tuple(channels), tuple(roles), _digest(patterns, roles, channels))


def bank_training_set(bank: Bank) -> TrainingSet:
    """The training set of a bank: its slots marked for training and its corrections, its roles and channel names.

    A correction is the player's latest word on what the net plays for its
    inputs: it stands in for any marked slot or older correction with exactly
    the same inputs (kept, they would contradict it and the nets would learn
    the average of the two). Marked slots that contradict each other all stay.
    """
    if not bank.training_slots and not bank.corrections:
        raise TrainingError("the bank has no slot marked for training: mark at least one slot 'train'")
    inputs, _ = split_roles(bank.roles)
    corrections: dict[bytes, Pattern] = {}
    for correction in bank.corrections:
        key = input_vector(correction.pattern, inputs).tobytes()
        corrections.pop(key, None)              # the later correction for the same inputs wins, in its place
        corrections[key] = correction.pattern
    patterns = [slot.pattern for slot in bank.training_slots
                if input_vector(slot.pattern, inputs).tobytes() not in corrections]
    patterns += corrections.values()
    return training_set(patterns, bank.roles, bank.channels)


def _digest(patterns: Sequence[Pattern], roles: Sequence[str], channels: Sequence[str]) -> str:
    hasher = hashlib.sha256(json.dumps({"roles": list(roles), "channels": list(channels)}).encode())
    for pattern in patterns:
        hasher.update(pattern.velocities.tobytes())
    return "sha256:" + hasher.hexdigest()
