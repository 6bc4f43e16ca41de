"""Turn an emulated rotary encoder: drive the A/B mock pins through full quadrature cycles.

A detent of a common encoder is one full cycle of the two contacts (both
closed then both open again); gpiozero's ``RotaryEncoder`` counts one step
per cycle. Contacts close to ground, so "closed" is a low pin.

>>> from gpiozero import Device, RotaryEncoder
>>> from gpiozero.pins.mock import MockFactory
>>> Device.pin_factory = MockFactory()
>>> encoder = RotaryEncoder(22, 23, max_steps=0)
>>> turn(Device.pin_factory.pin(22), Device.pin_factory.pin(23), 3)
>>> encoder.steps
3
"""

from __future__ import annotations

from typing import Any

_CLOCKWISE = (("a", False), ("b", False), ("a", True), ("b", True))  # A leads B


def turn(a: Any, b: Any, detents: int, *, chatter: bool = False) -> None:
    """Rotate ``detents`` (positive = clockwise) on mock pins ``a`` and ``b``.

    With ``chatter`` every contact change bounces once (close, open, close),
    as worn contacts do.
    """
    pins = {"a": a, "b": b} if detents > 0 else {"a": b, "b": a}
    for _ in range(abs(detents)):
        for name, high in _CLOCKWISE:
            pin = pins[name]
            moves = (high, not high, high) if chatter else (high,)
            for level in moves:
                if level:
                    pin.drive_high()
                else:
                    pin.drive_low()
