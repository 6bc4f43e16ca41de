"""Emulated hardware for tests and the on-screen simulator: only the bus and pins are fake.

The real ``adafruit_neotrellis`` objects run over :class:`EmulatedI2C`
with :class:`EmulatedNeoTrellis` boards on it; the real gpiozero devices
run on ``MockFactory`` pins with :class:`EmulatedMCP3008` and :func:`turn`
driving them. So the code path tested is the code path on stage.
"""

from .bus import EmulatedI2C
from .clock import ManualClock
from .encoder import turn
from .mcp3008 import EmulatedMCP3008
from .rig import SimRig
from .seesaw import EmulatedNeoTrellis, seesaw_key

__all__ = ["EmulatedI2C", "EmulatedMCP3008", "EmulatedNeoTrellis", "ManualClock", "SimRig", "seesaw_key", "turn"]
