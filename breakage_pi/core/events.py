"""Input events and LED frames: the pure data that crosses from hardware to the core.

Hardware adapters (:mod:`breakage_pi.hw`, the simulator) turn presses, turns
and bus trouble into these values and post them to one queue; the control
loop consumes them. Every event carries ``time`` in seconds from the caller's
clock (``time.monotonic()`` on the instrument); nothing here reads a clock.

>>> PadEvent(row=0, column=3, pressed=True, time=12.5)
PadEvent(row=0, column=3, pressed=True, time=12.5)
>>> KnobEvent("velocity", time=12.6, value=0.5).value
0.5
>>> blank_frame().shape
(4, 16, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Union

import numpy as np

from .errors import FormatError
from .pattern import CHANNELS, STEPS

GRID_ROWS = CHANNELS
GRID_COLUMNS = STEPS
FRAME_SHAPE = (GRID_ROWS, GRID_COLUMNS, 3)
BUTTONS = ("play", "shift", "mode")
KNOBS = ("velocity", "tempo", "swing", "volume", "net")
BUTTON_ACTIONS = ("pressed", "released", "held")


@dataclass(frozen=True, slots=True)
class PadEvent:
    """A grid pad went down (``pressed``) or up; row = channel 0-3, column = step 0-15."""

    row: int
    column: int
    pressed: bool
    time: float

    def __post_init__(self) -> None:
        if not (0 <= self.row < GRID_ROWS and 0 <= self.column < GRID_COLUMNS):
            raise FormatError(f"pad must be row 0-{GRID_ROWS - 1}, column 0-{GRID_COLUMNS - 1}, "
                              f"got ({self.row}, {self.column})")


@dataclass(frozen=True, slots=True)
class ButtonEvent:
    """A panel button (``play``, ``shift``, ``mode`` or ``<knob>.push``) was pressed, released or held.

    ``held`` comes once per press, after the button has been down for the
    configured hold time; ``released`` still follows it.
    """

    name: str
    action: str
    time: float

    def __post_init__(self) -> None:
        if self.action not in BUTTON_ACTIONS:
            raise FormatError(f"action must be one of {', '.join(BUTTON_ACTIONS)}, got {self.action!r}")


@dataclass(frozen=True, slots=True)
class KnobEvent:
    """A knob moved: a pot reports its position ``value`` 0-1, an encoder its ``delta`` in detents.

    Exactly one of the two is meaningful: ``value`` is None for an encoder,
    ``delta`` is 0 for a pot.

    >>> KnobEvent("tempo", time=1.0, delta=-2).delta
    -2
    """

    name: str
    time: float
    value: float | None = None
    delta: int = 0

    def __post_init__(self) -> None:
        if self.value is None:
            if self.delta == 0:
                raise FormatError(f"knob {self.name!r}: give a value 0-1 or a non-zero delta")
        elif self.delta != 0:
            raise FormatError(f"knob {self.name!r}: give a value or a delta, not both")
        elif not (math.isfinite(self.value) and 0.0 <= self.value <= 1.0):
            raise FormatError(f"knob {self.name!r}: value must be 0-1, got {self.value!r}")


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """A piece of hardware came online or went offline, e.g. ``grid board 2 (0x30)``."""

    device: str
    online: bool
    detail: str
    time: float


InputEvent = Union[PadEvent, ButtonEvent, KnobEvent, DeviceStatus]
EventSink = Callable[[InputEvent], None]
"""Where devices post events; must be thread-safe (``queue.SimpleQueue().put``)."""


def blank_frame() -> np.ndarray:
    """An all-dark LED frame: (4 rows, 16 columns, RGB) uint8."""
    return np.zeros(FRAME_SHAPE, dtype=np.uint8)


def checked_frame(frame: object) -> np.ndarray:
    """``frame`` as a (4, 16, 3) uint8 RGB array, or a :class:`FormatError` saying what is wrong."""
    if not isinstance(frame, np.ndarray):
        raise FormatError(f"an LED frame must be a numpy array, got {type(frame).__name__}")
    if frame.shape != FRAME_SHAPE:
        raise FormatError(f"an LED frame must have shape {FRAME_SHAPE}, got {frame.shape}")
    if frame.dtype != np.uint8:
        raise FormatError(f"an LED frame must be uint8 RGB, got {frame.dtype}")
    return frame
