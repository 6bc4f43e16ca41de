"""Button debounce and long press, as pure logic with time passed in.

gpiozero's mock pins ignore ``bounce_time`` and a real contact chatters for
a few milliseconds, so the project debounces itself. Leading edge: the
first change is reported at once (a PLAY press must not wait), then the
contact is ignored for ``debounce`` seconds; when that window ends the
level is checked again, so a tap shorter than the window still reports its
release. A press held ``hold`` seconds reports ``held`` once (0 = never).

>>> button = Debouncer("play", debounce=0.02, hold=0.8)
>>> [e.action for e in button.edge(True, 0.000)]
['pressed']
>>> button.edge(False, 0.003), button.edge(True, 0.004)   # chatter: ignored
([], [])
>>> [e.action for e in button.tick(True, 0.9)]
['held']
>>> [e.action for e in button.edge(False, 1.0)]
['released']
"""

from __future__ import annotations

from ..core.events import ButtonEvent


class Debouncer:
    """One button's debounced state; feed it raw levels from edges and periodic ticks."""

    def __init__(self, name: str, debounce: float, hold: float) -> None:
        self.name = name
        self.debounce = debounce
        self.hold = hold
        self.pressed = False
        self._quiet_until = float("-inf")
        self._pressed_at = 0.0
        self._held = False

    def edge(self, pressed: bool, now: float) -> list[ButtonEvent]:
        """The raw contact changed to ``pressed`` at ``now`` (s)."""
        if now < self._quiet_until or pressed == self.pressed:
            return []
        self.pressed = pressed
        self._quiet_until = now + self.debounce
        if pressed:
            self._pressed_at, self._held = now, False
        return [ButtonEvent(self.name, "pressed" if pressed else "released", now)]

    def tick(self, pressed: bool, now: float) -> list[ButtonEvent]:
        """Periodic check with the current raw level: settles a change hidden by the window, fires ``held``."""
        events = self.edge(pressed, now)
        if self.pressed and not self._held and self.hold > 0 and now - self._pressed_at >= self.hold:
            self._held = True
            events.append(ButtonEvent(self.name, "held", now))
        return events
