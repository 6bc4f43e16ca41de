"""The whole panel emulated: four NeoTrellis boards on an emulated bus, the MCP3008, mock GPIO pins.

The simulator and scripted sessions drive the instrument through this, so
presses travel the real path: a pad press queues a key event in the emulated
board's FIFO and pulls the INT line (a gpiozero mock pin) low, a button
drives its pin low, a knob sets the ADC's input that the real
``gpiozero.MCP3008`` reads.

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

    def knob_position(self, name: str) -> float | None:
        knob = self.config.knobs[name]
        return None if knob.kind != "pot" or self.adc is None else self.adc.positions[knob.channel]

    def apply(self, event: ScriptEvent) -> None:
        """Carry out one scripted action."""
        if event.kind == "pad":
            (self.press if event.down else self.release)(event.row, event.column)
        elif event.kind == "button":
            self.button(event.name, event.down)
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
