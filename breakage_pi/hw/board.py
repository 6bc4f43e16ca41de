"""One board of the grid: bringing its NeoTrellis up, and what the grid knows of its health."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from adafruit_neotrellis.neotrellis import NeoTrellis

from .keypad import EDGE_FALLING, EDGE_RISING, KEYS

CONNECT_ERRORS = (OSError, ValueError, RuntimeError)
"""What a board that is absent or not answering makes the library raise while it comes up:
``ValueError`` "No I2C device at address", ``RuntimeError`` bad hardware id, ``OSError`` from the bus."""


def connect(bus: Any, address: int, interrupt: bool, brightness: float) -> NeoTrellis:
    """Construct the library's NeoTrellis at ``address`` and ask it for press and release events.

    Blocks about 0.5 s: the library resets the chip and sleeps. The grid runs
    one of these per board at once, on worker threads.
    """
    trellis = NeoTrellis(bus, interrupt, addr=address, brightness=brightness, auto_write=False)
    for key in range(KEYS):
        trellis.activate_key(key, EDGE_RISING)
        trellis.activate_key(key, EDGE_FALLING)
    return trellis


@dataclass(eq=False)
class Board:
    """Board ``index`` (0 = leftmost) at I2C ``address``; ``trellis`` is None while it is offline."""

    index: int
    address: int
    trellis: NeoTrellis | None = None
    connecting: Future[NeoTrellis] | None = None
    failures: int = 0
    retry_at: float = 0.0
    reported_online: bool | None = None
    pixel_buffer: bytearray | None = None  # what the chip's NeoPixel buffer holds; None: unknown
    latched: bool = False  # the LEDs show pixel_buffer
    held: set[int] = field(default_factory=set)

    @property
    def name(self) -> str:
        return f"grid board {self.index} (0x{self.address:02X})"

    @property
    def online(self) -> bool:
        return self.trellis is not None
