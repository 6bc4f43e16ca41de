"""The gate and chance: which of the net's output velocities play, and how loud.

A net is a regression: it never writes exactly 0, so left alone it plays
ghost hits on nearly every step (inaudible ones, that still choke a ringing
open hat). The gate silences them, but softly: an output's played velocity
rises continuously across a *knee* centred on the gate, from silence at its
lower edge (``gate - knee / 2``) to the net's own velocity at its upper edge
(``gate + knee / 2``), in proportion to how far into the knee the output is.
Sweeping an input then moves a played hat gradually in and out, as the
original continuous net did, instead of switching it on at full velocity
(a hard threshold at 48 made 48-unit jumps). A played velocity under
:data:`AUDIBLE` is silent (0): it is never sent to the mixer, never drawn on
the grid and never chokes an open hat. A knee of 0 is the hard threshold.

Chance (optional, per bank) plays the outputs the net is unsure of with a
probability. Outputs in the *uncertain band* around the gate, from half the
gate to one and a half times the gate, play with a probability rising linearly
across the band: 0 at its bottom, 1/2 at the gate, 1 at its top. A step that
plays by chance plays at its own velocity, at least the gate's, so it is
heard. The draws are made anew every bar from a generator seeded with
``(seed, bar)``: the same seed gives the same bars, so a performance can be
played again. Everything here is pure (no I/O, no clock).
"""

from __future__ import annotations

import numpy as np

from .errors import FormatError
from .pattern import MAX_VELOCITY

DEFAULT_GATE = 48
"""Velocity 48 is -29 dB ((48/255)^2): below it a hit is a ghost. On the shipped evaluation set every
written hat is at 48 or more, while 95 % of the loose and medium nets' outputs on its empty steps are
under 33."""

DEFAULT_KNEE = 32
"""The knee's width in velocity units: with the default gate, outputs under 32 are silent and outputs
from 64 play at their own velocity; an output at the gate plays at half its velocity (24). The played
velocity then changes by at most 3 units per unit of the net's output (at the knee's top), so a sweep
never jumps by more than a few units, while written hats (48 or more on the evaluation set) stay audible."""

AUDIBLE = 8
"""The quietest velocity that plays: 8 is -60 dB ((8/255)^2), the bottom of a mix. Anything quieter
would only choke an open hat unheard."""

BAND_LOW, BAND_HIGH = 0.5, 1.5
"""The uncertain band, as fractions of the gate."""


def check_gate(value: object, field: str = "gate") -> int:
    """A gate: an integer velocity 0-255, the middle of the knee (0 with knee 0 lets every audible output play)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_VELOCITY:
        raise FormatError(f"the gate is a velocity 0-{MAX_VELOCITY}, got {value!r}", field)
    return int(value)


def check_knee(value: object, field: str = "knee") -> int:
    """A knee width: an integer 0-255 velocity units (0 is a hard threshold at the gate)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_VELOCITY:
        raise FormatError(f"the knee is a width 0-{MAX_VELOCITY} in velocity units, got {value!r}", field)
    return int(value)


def hit_chances(velocities: np.ndarray, gate: int) -> np.ndarray:
    """The probability 0-1 that each output (velocity 0-255, float) plays with chance on."""
    rounded = _rounded(velocities)
    low, high = BAND_LOW * gate, min(BAND_HIGH * gate, float(MAX_VELOCITY))
    if high <= low:
        return (rounded >= gate).astype(np.float64)
    return np.clip((rounded - low) / (high - low), 0.0, 1.0)


def uncertain(velocities: np.ndarray, gate: int) -> np.ndarray:
    """Which outputs fall in the uncertain band (with chance on they may or may not play): the grid
    shows them apart from certain hits."""
    chances = hit_chances(velocities, gate)
    return (chances > 0.0) & (chances < 1.0)


def kneed(velocities: np.ndarray, gate: int, knee: int = DEFAULT_KNEE) -> np.ndarray:
    """The played loudness (float 0-255, before rounding and the audibility floor) of outputs ``velocities``:
    0 under the knee, the output itself above it, in between the output times how far into the knee it is.

    >>> kneed(np.array([20.0, 32.0, 48.0, 64.0, 100.0]), 48, 32).tolist()
    [0.0, 0.0, 24.0, 64.0, 100.0]
    """
    values = np.clip(np.nan_to_num(np.asarray(velocities, dtype=np.float64), nan=0.0), 0.0, float(MAX_VELOCITY))
    if knee <= 0:
        return np.where(values >= gate, values, 0.0)
    low = gate - knee / 2.0
    return values * np.clip((values - low) / knee, 0.0, 1.0)


def gated(velocities: np.ndarray, gate: int, chance: bool = False, seed: int = 0, bar: int = 0,
          knee: int = DEFAULT_KNEE) -> np.ndarray:
    """The velocities that play (uint8, same shape; 0 = silent) of the net's outputs ``velocities`` (0-255, float).

    Without chance an output plays through the knee (see the module), silent if quieter than
    :data:`AUDIBLE`. With chance, see the module's rule; ``seed`` and ``bar`` (both >= 0) fix the draws.

    >>> gated(np.array([10.2, 40.0, 48.0, 56.0, 64.0, 200.0]), 48).tolist()
    [0, 10, 24, 42, 64, 200]
    >>> gated(np.array([10.2, 47.6, 48.0, 200.0]), 48, knee=0).tolist()
    [0, 48, 48, 200]
    """
    gate, knee = check_gate(gate), check_knee(knee)
    rounded = _rounded(velocities)
    if not chance:
        played = np.rint(kneed(rounded if knee == 0 else velocities, gate, knee))
        return np.where(played >= AUDIBLE, played, 0.0).astype(np.uint8)
    draws = np.random.default_rng((int(seed), int(bar))).random(rounded.shape)
    plays = draws < hit_chances(rounded, gate)
    played = np.where(plays, np.maximum(rounded, gate), 0.0)
    return np.where(played >= AUDIBLE, played, 0.0).astype(np.uint8)


def _rounded(velocities: np.ndarray) -> np.ndarray:
    values = np.nan_to_num(np.asarray(velocities, dtype=np.float64), nan=0.0)
    return np.rint(np.clip(values, 0.0, float(MAX_VELOCITY)))
