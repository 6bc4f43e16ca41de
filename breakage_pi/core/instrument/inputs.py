"""The events the control loop adds to the hardware's (pads, buttons, knobs of :mod:`breakage_pi.core.events`).

The engine's heartbeat (:class:`Tick`), the nets' and the trainer's news,
and what arrives from the host (a pushed bank, the kits present, a followed
MIDI clock, notes played in on MIDI). Each carries its ``time`` (seconds on
the caller's clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

from ..bank import Bank
from ..events import ButtonEvent, DeviceStatus, KnobEvent, PadEvent
from ..errors import FormatError
from ..pattern import CHANNELS, MAX_VELOCITY, STEPS, Pattern
from .effects import RunNet


@dataclass(frozen=True)
class Tick:
    """The control loop's heartbeat: the time, and the engine's playhead column (-1 stopped)
    and last bar-line switch token, read from its status board."""

    time: float
    step: int = -1
    switched: int = 0


@dataclass(frozen=True)
class NetsLoaded:
    """The nets now present, loose to tight (``labels`` such as "loose", "medium", "tight"),
    and the channel roles they were trained with."""

    labels: tuple[str, ...]
    roles: tuple[str, ...]
    time: float = 0.0


@dataclass(frozen=True, eq=False)
class NetResult:
    """The answer to a :class:`RunNet`: the nets' outputs blended at its position, before the gate, as
    ``outputs`` ((output channels, 16) float velocities 0-255, the output channels in channel order)."""

    request: RunNet
    outputs: np.ndarray
    time: float = 0.0


@dataclass(frozen=True)
class TrainingStarted:
    """The training process started, aiming at ``targets`` (error targets, loose to tight)."""

    targets: tuple[float, ...]
    time: float = 0.0


@dataclass(frozen=True)
class TrainingProgress:
    """Training reached ``epoch`` with ``error`` (MSE on 0-1 velocities)."""

    epoch: int
    error: float
    time: float = 0.0


@dataclass(frozen=True)
class TrainingFinished:
    """Training ended. On success the new nets (``labels``, ``roles``) already replaced the old."""

    succeeded: bool
    detail: str
    labels: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    time: float = 0.0


@dataclass(frozen=True)
class BankLoaded:
    """A new ``bank.json`` arrived (pushed over USB sync): it replaces the bank playing, at once."""

    bank: Bank
    time: float = 0.0


@dataclass(frozen=True)
class KitsFound:
    """The playable kits in ``kits/`` changed (a kit pushed or deleted over USB sync)."""

    kits: tuple[str, ...]
    time: float = 0.0


@dataclass(frozen=True)
class ExternalClock:
    """What a followed MIDI clock says (``[midi] follow_clock``): a new ``tempo`` (BPM) and/or the
    ``transport`` ("start" or "stop"); None where nothing changed."""

    tempo: float | None = None
    transport: str | None = None
    time: float = 0.0


@dataclass(frozen=True)
class NoteIn:
    """A drum note arriving on MIDI in (``[midi] input``): pattern ``channel`` 0-3 at ``velocity`` 1-255
    (the MIDI side maps notes and velocities), and where the engine stood when it arrived: the pattern
    column ``step`` sounding (-1 stopped), ``into_step`` frames after that step began, the step
    being ``step_frames`` long (swing makes steps unequal)."""

    channel: int
    velocity: int
    time: float = 0.0
    step: int = -1
    into_step: int = 0
    step_frames: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.channel < CHANNELS:
            raise FormatError(f"a note's channel must be 0-{CHANNELS - 1}, got {self.channel}", "channel")
        if not 1 <= self.velocity <= MAX_VELOCITY:
            raise FormatError(f"a note's velocity must be 1-{MAX_VELOCITY}, got {self.velocity}", "velocity")
        if not -1 <= self.step < STEPS:
            raise FormatError(f"the step must be -1 or 0-{STEPS - 1}, got {self.step}", "step")


@dataclass(frozen=True)
class TakeRecording:
    """A take started (``on``) or ended: its pad on the SHIFT page is lit while one records."""

    on: bool
    time: float = 0.0


Event = Union[PadEvent, ButtonEvent, KnobEvent, DeviceStatus, Tick, NetsLoaded, NetResult, TrainingStarted,
              TrainingProgress, TrainingFinished, BankLoaded, KitsFound, ExternalClock, NoteIn, TakeRecording]
