"""What :func:`~breakage_pi.core.instrument.step` asks the outside to do: pure values, one type each.

The control loop carries them out: hand the engine a snapshot, show a
frame, run a net, start or abort training, save, select a kit, start or stop a take, log a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

from ..bank import Bank
from ..pattern import Pattern
from ..playstate import PlayState


@dataclass(frozen=True)
class Play:
    """Hand this snapshot to the engine."""

    state: PlayState


@dataclass(frozen=True, eq=False)
class Leds:
    """Show this (4, 16, 3) uint8 frame on the grid."""

    frame: np.ndarray


@dataclass(frozen=True)
class RunNet:
    """Run the nets on ``pattern`` (slot ``slot``'s inputs) and blend their outputs at NET knob ``position``
    (0 loose - 1 tight, see :func:`breakage_pi.core.morph.morphed`: at most the two neighbouring nets run);
    answer with a NetResult."""

    slot: int
    position: float
    pattern: Pattern

    @property
    def key(self) -> tuple[float, bytes]:
        return self.position, self.pattern.velocities.tobytes()


@dataclass(frozen=True)
class StartTraining:
    """Train new nets on ``bank``'s marked slots and corrections, in the training process (``background``:
    to learn corrections while PERFORM goes on; the guarantees are TRAIN's)."""

    bank: Bank
    background: bool = False


@dataclass(frozen=True)
class AbortTraining:
    """Stop training and keep the old nets."""


@dataclass(frozen=True)
class Save:
    """Write the bank and the instrument's settings (``reason`` for the log)."""

    reason: str


@dataclass(frozen=True)
class SelectKit:
    """Play kit ``name`` from ``kits/`` (None: the built-in kit)."""

    name: str | None


@dataclass(frozen=True)
class ToggleTake:
    """Start a take (audio, performance, MIDI into ``takes/``), or stop the one recording."""


@dataclass(frozen=True)
class Log:
    """One line for the log."""

    message: str


Effect = Union[Play, Leds, RunNet, StartTraining, AbortTraining, Save, SelectKit, ToggleTake, Log]
