"""Soft take-over: a pot that edits many values picks each one up only when it passes it.

When the VELOCITY pot moves from "default velocity" to "the held step's
velocity", its physical position no longer matches the value it now edits.
Jumping would wreck the step; instead the value stays put until the knob
crosses it (or comes within ``catch`` of it), then follows the knob.

>>> takeover = SoftTakeover(catch=0.02)
>>> takeover.retarget(0.8)   # the knob now edits a value at 0.8
>>> takeover.feed(0.3) is None, takeover.feed(0.6) is None
(True, True)
>>> takeover.feed(0.85)       # crossed 0.8: picked up
0.85
>>> takeover.feed(0.4)        # and follows from now on
0.4
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SoftTakeover:
    """Per-knob pick-up state; feed it pot positions 0-1, it returns the value to apply or None."""

    catch: float = 0.02
    _target: float | None = None
    _last: float | None = None

    def retarget(self, value: float) -> None:
        """The knob now edits a value currently at ``value`` (0-1); wait to pick it up."""
        self._target = value

    @property
    def engaged(self) -> bool:
        """True when the knob drives the value directly."""
        return self._target is None

    def feed(self, position: float) -> float | None:
        """The value to apply for knob ``position``, or None while not yet picked up."""
        previous, self._last = self._last, position
        if self._target is None:
            return position
        if picks_up(self._target, previous, position, self.catch):
            self._target = None
            return position
        return None


def picks_up(target: float, previous: float | None, position: float, catch: float = 0.02) -> bool:
    """Whether a knob moving from ``previous`` to ``position`` (0-1) picks up a value at ``target``:
    it crossed it, or came within ``catch`` of it. The pure rule :class:`SoftTakeover` and the
    instrument's state machine share."""
    crossed = previous is not None and (previous - target) * (position - target) <= 0
    return crossed or abs(position - target) <= catch
