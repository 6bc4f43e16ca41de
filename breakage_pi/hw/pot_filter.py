"""Pot smoothing and dead-band, as pure logic with time passed in.

An MCP3008 reading jitters by a count or two, which would make a resting
VELOCITY knob rewrite a step's velocity forever. Readings are smoothed by a
one-pole low-pass with time constant ``smoothing`` seconds (so the result
does not depend on the poll rate), and a new value is reported only when it
has moved at least ``dead_band`` (fraction of travel) from the last one
reported. The ends snap to exactly 0 and 1, so "off" is reachable.

A move past the dead-band is a touch: for ``follow`` seconds after it the
pot is followed closely (every change of :data:`FOLLOW_STEP`), so a turn
lands where the hand left it, not a dead-band short of it (a 1 BPM turn of
TEMPO is 0.0037 of the travel). At rest only the dead-band counts again.

>>> pot = PotFilter(smoothing=0.0, dead_band=0.01)
>>> pot.feed(0.5004, 0.0), pot.feed(0.5019, 0.01), pot.feed(0.52, 0.02)
(0.5004, None, 0.52)
>>> pot.feed(0.523, 0.03)    # still turning: followed
0.523
>>> pot.feed(0.525, 1.0)     # at rest again: within the dead-band
>>> pot.feed(0.0005, 1.01)   # gpiozero reads raw 0 as 0.0005
0.0
"""

from __future__ import annotations

import math

FOLLOW_STEP = 0.0008
"""Right after a touch, changes this big are reported (0.8 of an MCP3008 count: above the smoothed
noise of a resting pot, below one step of any value)."""
FOLLOW_S = 0.25
"""How long after a move past the dead-band the pot is followed closely (seconds)."""


class PotFilter:
    """Feed raw positions 0-1 with their time; get the value to report, or None when it has not moved."""

    def __init__(self, smoothing: float, dead_band: float, follow: float = FOLLOW_S) -> None:
        self.smoothing = smoothing
        self.dead_band = dead_band
        self.follow = follow
        self._touched: float | None = None
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
        moved = math.inf if self.reported is None else abs(value - self.reported)
        following = self._touched is not None and now - self._touched <= self.follow
        if moved < (min(FOLLOW_STEP, self.dead_band) if following else self.dead_band) and value not in (0.0, 1.0):
            return None
        if self.reported is not None and moved >= self.dead_band:
            self._touched = now
        self.reported = value
        return value
