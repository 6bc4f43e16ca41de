"""The whole panel emulated: four NeoTrellis boards on an emulated bus, the MCP3008, mock GPIO pins.

The simulator and scripted sessions drive the instrument through this, so
presses travel the real path: a pad press queues a key event in the emulated
board's FIFO and pulls the INT line (a gpiozero mock pin) low, a button
drives its pin low, a pot sets the ADC's input that the real
``gpiozero.MCP3008`` reads, an encoder's turn drives its A/B pins through
the quadrature cycles the real ``gpiozero.RotaryEncoder`` decodes and its
push drives its pin as a button's.

>>> from gpiozero import Device
>>> from gpiozero.pins.mock import MockFactory
>>> from breakage_pi.core.settings import Config
>>> Device.pin_factory = MockFactory()
>>> rig = SimRig(Config())
>>> rig.press(1, 9)                    # board 0x30, key 5: its next 10 ms key scan queues the event
>>> rig.bus.board(0x30).queued
0
>>> Device.pin_factory.reset()
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from ...core.events import FRAME_SHAPE, GRID_ROWS
from ...core.script import ScriptEvent
from ...core.settings import Config
from ..errors import HardwareError
from ..layout import BOARD_SIDE, key_of
from .bus import EmulatedI2C
from .encoder import turn
from .mcp3008 import EmulatedMCP3008
from .seesaw import EmulatedNeoTrellis


class SimRig:
    """Emulated hardware for ``config``; gpiozero's ``Device.pin_factory`` must be a ``MockFactory``.

    ``frequency`` (Hz) turns on the bus timing model (None: instant); ``clock`` is the boards' firmware
    time (real time by default). Create
    the rig before :class:`~breakage_pi.hw.Hardware`: the ADC must claim its
    SPI pins first.
    """

    def __init__(self, config: Config, *, frequency: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        from gpiozero import Device

        self.config = config
        self.factory: Any = Device.pin_factory
        self.adc = EmulatedMCP3008(config.adc.spi_device) if any(
            knob.kind == "pot" for knob in config.knobs.values()) else None
        self.bus = EmulatedI2C([EmulatedNeoTrellis(address) for address in config.grid.addresses],
                               frequency=frequency, clock=clock)
        if config.grid.int_pin is not None:
            self.bus.wire_int(self.factory.pin(config.grid.int_pin))

    def start(self) -> None:
        """Run the boards' firmware (their 10 ms key scans) on the bus's thread, in real time."""
        self.bus.start()

    def close(self) -> None:
        self.bus.close()

    def _board(self, row: int, column: int) -> tuple[EmulatedNeoTrellis, int]:
        board, key = key_of(row, column)
        return self.bus.board(self.config.grid.addresses[board]), key

    def press(self, row: int, column: int) -> None:
        board, key = self._board(row, column)
        board.press(key)

    def release(self, row: int, column: int) -> None:
        board, key = self._board(row, column)
        board.release(key)

    def button(self, name: str, down: bool) -> None:
        """Close (``down``) or open the button's contact to ground."""
        pin = self.factory.pin(getattr(self.config.buttons, name))
        if down:
            pin.drive_low()
        else:
            pin.drive_high()

    def knob(self, name: str, position: float) -> None:
        """Turn pot ``name`` to ``position`` (0-1 of its travel)."""
        knob = self.config.knobs[name]
        if knob.kind != "pot" or self.adc is None:
            raise HardwareError(f"knob {name} is an encoder in the config: a position cannot be set")
        self.adc.positions[knob.channel] = position

    def turn(self, name: str, detents: int) -> None:
        """Turn encoder ``name`` by ``detents`` (positive: clockwise)."""
        knob = self.config.knobs[name]
        if knob.kind != "encoder":
            raise HardwareError(f"knob {name} is a pot in the config: it has no detents to turn")
        turn(self.factory.pin(knob.a), self.factory.pin(knob.b), detents)

    def push(self, name: str, down: bool) -> None:
        """Press (``down``) or let go of encoder ``name``'s push button."""
        knob = self.config.knobs[name]
        if knob.kind != "encoder" or knob.push is None:
            raise HardwareError(f"knob {name} has no push button in the config")
        pin = self.factory.pin(knob.push)
        if down:
            pin.drive_low()
        else:
            pin.drive_high()

    def knob_position(self, name: str) -> float | None:
        knob = self.config.knobs[name]
        return None if knob.kind != "pot" or self.adc is None else self.adc.positions[knob.channel]

    def apply(self, event: ScriptEvent) -> None:
        """Carry out one scripted action."""
        if event.kind == "pad":
            (self.press if event.down else self.release)(event.row, event.column)
        elif event.kind == "button":
            self.button(event.name, event.down)
        elif event.kind == "turn":
            self.turn(event.name, event.detents)
        elif event.kind == "push":
            self.push(event.name, event.down)
        else:
            self.knob(event.name, event.value)

    def pixels(self) -> np.ndarray:
        """The (4, 16, 3) RGB colours the boards show now (as latched by their last ``show``)."""
        frame = np.zeros(FRAME_SHAPE, dtype=np.uint8)
        for index, address in enumerate(self.config.grid.addresses):
            board = self.bus.board(address)
            for key in range(GRID_ROWS * BOARD_SIDE):
                row, column = key // BOARD_SIDE, index * BOARD_SIDE + key % BOARD_SIDE
                frame[row, column] = board.pixel(key)
        return frame


def unplayable(config: Config, event: ScriptEvent) -> str:
    """Why the panel ``config`` wires cannot play ``event`` ("" when it can): a pot's position for an encoder,
    an encoder's turn or push for a pot (or an encoder without a push button).

    >>> unplayable(Config(), ScriptEvent(0.0, "turn", name="tempo", detents=1))
    'knob tempo is a pot in the config: a turn line needs an encoder (a knob line sets a pot)'
    """
    if event.kind not in ("knob", "turn", "push"):
        return ""
    knob = config.knobs[event.name]
    if event.kind == "knob" and knob.kind != "pot":
        return f"knob {event.name} is an encoder in the config: a knob line needs a pot (turn it: a turn line)"
    if event.kind != "knob" and knob.kind != "encoder":
        return (f"knob {event.name} is a pot in the config: a {event.kind} line needs an encoder "
                "(a knob line sets a pot)")
    if event.kind == "push" and knob.push is None:
        return f"knob {event.name} has no push button in the config ([knobs.{event.name}] push)"
    return ""
