"""Adapters from the real hardware to the core's events and LED frames; no decisions about meaning.

- :class:`Grid`: the 4x16 NeoTrellis grid (``adafruit_neotrellis`` over I2C),
  fast INT-driven scanning, LED frames, board failure and recovery;
- :class:`Controls`: PLAY/SHIFT/MODE and the knobs (gpiozero);
- :class:`Hardware`: both, from the config;
- :mod:`breakage_pi.hw.sim`: the emulated bus and pins tests and the
  simulator run the same code over.
"""

from .controls import Controls
from .errors import HardwareError
from .grid import Grid, GridStats
from .hardware import Hardware
from .i2c import LinuxI2C

__all__ = ["Controls", "Grid", "GridStats", "Hardware", "HardwareError", "LinuxI2C"]
