"""The events the control loop adds to the hardware's (pads, buttons, knobs of :mod:`breakage_pi.core.events`).

The engine's heartbeat (:class:`Tick`), the nets' and the trainer's news,
and what arrives from the host (a pushed bank, the kits present, a followed
MIDI clock). Each carries its ``time`` (seconds on the caller's clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

from ..bank import Bank
from ..events import ButtonEvent, DeviceStatus, KnobEvent, PadEvent
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
class TakeRecording:
    """A take started (``on``) or ended: its pad on the SHIFT page is lit while one records."""

    on: bool
    time: float = 0.0


Event = Union[PadEvent, ButtonEvent, KnobEvent, DeviceStatus, Tick, NetsLoaded, NetResult, TrainingStarted,
              TrainingProgress, TrainingFinished, BankLoaded, KitsFound, ExternalClock, TakeRecording]
