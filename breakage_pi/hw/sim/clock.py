"""Simulated time for the emulator: tests move it by hand and the chips' firmware runs as it moves.

A :class:`ManualClock` passed to :class:`~breakage_pi.hw.sim.bus.EmulatedI2C`
(and to the grid as its clock and sleep) turns a test into a discrete-event
simulation: every wait, transfer and key scan happens at an exact simulated
instant, so nothing depends on how busy the machine is.

>>> clock = ManualClock()
>>> clock.advance(0.010)
>>> round(clock(), 3)
100.01
"""

from __future__ import annotations

import threading
import time
from typing import Callable


class ManualClock:
    """Seconds that pass only when :meth:`advance` (alias :meth:`sleep`) is called; thread-safe."""

    def __init__(self, start: float = 100.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._watchers: list[Callable[[], None]] = []

    def __call__(self) -> float:
        return self._now

    def watch(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every advance (the bus runs the firmware due by then)."""
        self._watchers.append(callback)

    def advance(self, seconds: float) -> None:
        """Move time on by ``seconds`` (>= 0) and let the watchers catch up."""
        if seconds < 0:
            raise ValueError(f"time cannot go back: advance({seconds})")
        with self._lock:
            self._now += seconds
        for callback in self._watchers:
            callback()

    sleep = advance


class FastForwardClock:
    """Real time (``time.monotonic``) that can be moved ahead, never back; thread-safe.

    A scripted session runs the boards' firmware on it: rather than wait up to
    10 ms of real time for a key scan, or the grid's few hundred microseconds
    between addressing a board and reading it, it jumps the firmware's time
    there (:meth:`skip_to`, :meth:`sleep`). Everything that does wait in real
    time (the vendor library's reset) still finds at least that much firmware
    time gone by.

    >>> clock = FastForwardClock()
    >>> before = clock(); clock.sleep(60.0); clock() - before >= 60.0
    True
    """

    def __init__(self) -> None:
        self._ahead = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return time.monotonic() + self._ahead

    def sleep(self, seconds: float) -> None:
        """Move time on by ``seconds`` at once."""
        if seconds > 0:
            with self._lock:
                self._ahead += seconds

    def skip_to(self, when: float) -> None:
        """Move time on to ``when`` (on this clock) if it is not there yet."""
        with self._lock:
            self._ahead = max(self._ahead, when - time.monotonic())
