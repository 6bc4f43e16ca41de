"""gpiozero's mock pins for a simulator that runs for hours: the same pins, without an endless history.

gpiozero's ``MockPin`` appends every state change to ``pin.states`` (so that
tests can assert on it) and never drops any. The simulated panel reads its
emulated MCP3008 over gpiozero's software SPI, toggling the clock pin about
100 000 times a second: measured, the simulator's control process grew by
~2.4 MB a second. :class:`SimPinFactory` keeps only the latest changes.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from gpiozero.pins.mock import MockFactory

HISTORY = 64
"""State changes kept per pin: enough to debug a glitch, constant in memory."""


class SimPinFactory(MockFactory):
    """A ``MockFactory`` whose pins remember at most :data:`HISTORY` state changes.

    >>> factory = SimPinFactory()
    >>> pin = factory.pin(17)
    >>> for level in range(1000):
    ...     pin.drive_high() if level % 2 else pin.drive_low()
    >>> len(pin.states) <= HISTORY
    True
    """

    def pin(self, name: Any, pin_class: Any = None, **kwargs: Any) -> Any:
        pin = super().pin(name, pin_class, **kwargs)
        if not isinstance(pin.states, deque):
            pin.states = deque(pin.states, maxlen=HISTORY)
        return pin
