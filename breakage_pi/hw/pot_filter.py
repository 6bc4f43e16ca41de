"""Pot smoothing and dead-band, as pure logic with time passed in.

An MCP3008 reading jitters by a count or two, which would make a resting
VELOCITY knob rewrite a step's velocity forever. Readings are smoothed by a
one-pole low-pass with time constant ``smoothing`` seconds (so the result
does not depend on the poll rate), and a new value is reported only when it
has moved at least ``dead_band`` (fraction of travel) from the last one
reported. The ends snap to exactly 0 and 1, so "off" is reachable.

>>> pot = PotFilter(smoothing=0.0, dead_band=0.01)
>>> pot.feed(0.5004, 0.0), pot.feed(0.5019, 0.01), pot.feed(0.52, 0.02)
(0.5004, None, 0.52)
>>> pot.feed(0.0005, 0.03)   # gpiozero reads raw 0 as 0.0005
0.0
"""

from __future__ import annotations

import math


class PotFilter:
    """Feed raw positions 0-1 with their time; get the value to report, or None when it has not moved."""

    def __init__(self, smoothing: float, dead_band: float) -> None:
        self.smoothing = smoothing
        self.dead_band = dead_band
        self._smoothed: float | None = None
        self._time = 0.0
        self.reported: float | None = None

    def feed(self, raw: float, now: float) -> float | None:
        """Smooth ``raw`` (read at ``now``, s) and return it if it moved past the dead-band."""
        if self._smoothed is None or self.smoothing <= 0:
            self._smoothed = raw
        else:
            alpha = 1.0 - math.exp(-max(now - self._time, 0.0) / self.smoothing)
            self._smoothed += alpha * (raw - self._smoothed)
        self._time = now
        value = min(max(self._smoothed, 0.0), 1.0)
        edge = max(self.dead_band, 0.001)
        if value <= edge:
            value = 0.0
        elif value >= 1.0 - edge:
            value = 1.0
        if self.reported is not None and value == self.reported:
            return None
        if self.reported is not None and abs(value - self.reported) < self.dead_band and value not in (0.0, 1.0):
            return None
        self.reported = value
        return value
