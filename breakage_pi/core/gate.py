"""What the net plays: its outputs through the gate, and optional chance around it.

An unbounded regression never outputs exactly 0 (DESIGN §4): below the
``gate`` velocity a net's step is silent, neither played nor drawn. With
``chance`` on, steps within :data:`CHANCE_BAND` of the gate play with a
probability rising across the band, re-drawn every bar from a hash of
(seed, bar, channel, step): the same bar number always draws the same way.

>>> import numpy as np
>>> gate_outputs(np.array([[10, 30, 200] + [0] * 13], dtype=np.uint8), gate=24)[0][0, :3].tolist()
[0, 30, 200]
"""

from __future__ import annotations

import hashlib

import numpy as np

CHANCE_BAND = 32
"""Half-width of the uncertain band around the gate, in velocity units (0-255)."""


def gate_outputs(velocities: np.ndarray, gate: int, chance: bool = False, bar: int = 0,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(played, chancy)`` for a net's (channels, 16) uint8 output velocities.

    ``played`` has the silent steps zeroed; ``chancy`` marks the steps whose
    playing was decided by chance this bar (to draw them differently).
    """
    values = velocities.astype(np.int32)
    if not chance:
        return np.where(values >= gate, values, 0).astype(np.uint8), np.zeros(values.shape, dtype=bool)
    low, high = gate - CHANCE_BAND, gate + CHANCE_BAND
    chancy = (values >= max(low, 1)) & (values < high)
    probability = (values - low) / (high - low)
    plays = (values >= high) | (chancy & (_draws(values.shape, bar, seed) < probability))
    return np.where(plays, values, 0).astype(np.uint8), chancy


def _draws(shape: tuple[int, ...], bar: int, seed: int) -> np.ndarray:
    """Uniform 0-1 numbers, one per step, fixed by (seed, bar)."""
    digest = hashlib.sha256(f"breakage-pi chance {seed} {bar}".encode()).digest()
    return np.random.default_rng(list(digest)).random(shape)
