"""The instrument's hardware in one object: the grid and the panel, from the config.

The app builds one, hands it the control loop's event sink and calls
:meth:`Hardware.start` beside the audio engine (not before it: the grid
comes up in the background). The simulator passes an emulated ``bus`` and
sets gpiozero's ``Device.pin_factory`` to a ``MockFactory`` (gpiozero's
software SPI, which the MCP3008 uses there, only looks at the global
factory); on the Pi both default to the real ones.

>>> from gpiozero import Device
>>> from gpiozero.pins.mock import MockFactory
>>> from breakage_pi.core.settings import Config
>>> from breakage_pi.hw.sim import EmulatedI2C, EmulatedNeoTrellis
>>> Device.pin_factory = MockFactory()
>>> bus = EmulatedI2C([EmulatedNeoTrellis(a) for a in Config().grid.addresses])
>>> hardware = Hardware(Config(), print, bus=bus)
>>> hardware.close()
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from ..core.settings import Config
from ..core.events import EventSink
from .controls import Controls
from .grid import Grid
from .i2c import LinuxI2C
from .keypad import settle


class Hardware:
    """Grid + buttons + knobs posting to ``sink``; ``bus`` defaults to ``/dev/i2c-<grid.i2c_bus>``.

    ``clock`` stamps events (s); ``grid_sleep`` is how the grid waits between addressing a board and
    reading it (a scripted session moves the emulated boards' time on instead of waiting).
    """

    def __init__(self, config: Config, sink: EventSink, *, bus: Any = None, pin_factory: Any = None,
                 clock: Callable[[], float] = time.monotonic, grid_sleep: Callable[[float], None] = settle) -> None:
        if bus is None:
            bus = LinuxI2C(config.grid.i2c_bus, config.grid.frequency)
        self.grid = Grid(config.grid, bus, sink, pin_factory=pin_factory, clock=clock, sleep=grid_sleep)
        try:
            self.controls = Controls(config, sink, pin_factory=pin_factory, clock=clock)
        except BaseException:
            self.grid.close()
            raise

    def start(self) -> None:
        """Start the grid and controls threads; returns at once (boards come up in the background)."""
        self.grid.start()
        self.controls.start()

    def show(self, frame: np.ndarray) -> None:
        """Display a (4, 16, 3) uint8 RGB LED frame (thread-safe)."""
        self.grid.show(frame)

    def close(self) -> None:
        self.controls.close()
        self.grid.close()
