"""The NET knob's morph: a position between the nets crossfades the outputs of its two neighbours.

The nets of one training run sit at evenly spaced detents along the knob,
loose at 0, tight at 1 (with three: medium at 0.5). Between two detents the
played outputs are the linear crossfade of those two nets' outputs, so
turning the knob moves every output continuously, like a filter sweep; at a
detent it is exactly that net. The crossfade is of the nets' raw outputs,
before the gate: the gate's knee then keeps the played result continuous
too. Pure (no I/O).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .errors import FormatError


def check_position(value: object, field: str = "position") -> float:
    """A knob position: a number 0-1 (0 loose, 1 tight)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0.0 <= float(value) <= 1.0:
        raise FormatError(f"the NET position is a number 0-1 (0 loose, 0.5 medium, 1 tight), got {value!r}", field)
    return float(value)


def morph_weights(position: float, count: int) -> tuple[tuple[int, float], ...]:
    """The nets (index loose to tight) that play at ``position`` and their weights, which sum to 1:
    one net at a detent, else its two neighbours. What the LEDs' bed shows as the blend.

    >>> morph_weights(0.5, 3)
    ((1, 1.0),)
    >>> morph_weights(0.75, 3)
    ((1, 0.5), (2, 0.5))
    """
    position = check_position(position)
    if count < 1:
        raise ValueError("morphing needs at least one net")
    if count == 1:
        return ((0, 1.0),)
    place = position * (count - 1)
    lower = min(int(np.floor(place)), count - 2)
    upper_weight = place - lower
    if upper_weight <= 0.0:
        return ((lower, 1.0),)
    if upper_weight >= 1.0:
        return ((lower + 1, 1.0),)
    return ((lower, 1.0 - upper_weight), (lower + 1, upper_weight))


def morphed(outputs: Sequence[np.ndarray], position: float) -> np.ndarray:
    """The crossfade at ``position`` of ``outputs``, each net's outputs (loose to tight, same shape), as float64;
    at a detent a copy of that net's outputs exactly.

    >>> morphed([np.array([0.0]), np.array([100.0]), np.array([50.0])], 0.25).tolist()
    [50.0]
    """
    if not outputs:
        raise ValueError("morphing needs at least one net")
    blend = np.zeros(np.shape(outputs[0]), dtype=np.float64)
    for index, weight in morph_weights(position, len(outputs)):
        if weight == 1.0:
            return np.array(outputs[index], dtype=np.float64)
        blend += weight * np.asarray(outputs[index], dtype=np.float64)
    return blend


DETENT_WIDTH = 0.1
"""The NET knob's travel (a fraction of it) around each detent that plays that net exactly: a pot's
noise or a hand that lands nearly on a detent still gets the net itself."""


def knob_position(value: float, count: int) -> float:
    """The morph position 0-1 of the NET knob turned to ``value`` (0-1 of its travel), with ``count`` nets:
    flat across :data:`DETENT_WIDTH` around each detent (evenly spaced, loose at 0, tight at 1), linear
    and continuous between.

    >>> [knob_position(v, 3) for v in (0.0, 0.03, 0.25, 0.48, 0.5, 0.75, 0.97)]
    [0.0, 0.0, 0.25, 0.5, 0.5, 0.75, 1.0]
    """
    value = min(max(float(value), 0.0), 1.0)
    if count < 2:
        return 0.0
    spacing, half = 1.0 / (count - 1), DETENT_WIDTH / 2
    lower = min(int(value / spacing), count - 2)
    between = (value - lower * spacing - half) / (spacing - 2 * half)
    return (lower + min(max(between, 0.0), 1.0)) * spacing


def knob_value(position: float, count: int) -> float:
    """Where on its travel (0-1) the NET knob plays ``position``: a detent's middle, or the one point between
    (the inverse of :func:`knob_position`, which soft take-over compares the pot with).

    >>> [knob_value(p, 3) for p in (0.0, 0.25, 0.5, 1.0)]
    [0.0, 0.25, 0.5, 1.0]
    """
    if count < 2:
        return 0.0
    spacing, half = 1.0 / (count - 1), DETENT_WIDTH / 2
    place = min(max(float(position), 0.0), 1.0) / spacing
    lower = min(int(place), count - 2)
    between = place - lower
    if between <= 0.0 or between >= 1.0:
        return round(place) * spacing
    return lower * spacing + half + between * (spacing - 2 * half)


def detent_position(index: int, count: int) -> float:
    """The position of net ``index``'s detent (of ``count``, loose to tight)."""
    return index / (count - 1) if count > 1 else 0.0
