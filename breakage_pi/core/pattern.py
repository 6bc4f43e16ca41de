"""Pattern: the 4 channels x 16 steps of velocities that the instrument plays."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .errors import FormatError

CHANNELS = 4
STEPS = 16
MAX_VELOCITY = 255
DEFAULT_CHANNEL_NAMES = ("kick", "snare", "open_hat", "closed_hat")


class Pattern:
    """An immutable 4x16 grid of velocities 0-255 (0 = no hit).

    Immutable so the audio side can hold one while the control side builds the
    next: every edit returns a new Pattern.

    >>> p = Pattern().with_velocity(0, 0, 200)
    >>> p.velocity(0, 0), p.velocity(0, 1)
    (200, 0)
    """

    __slots__ = ("_velocities",)

    def __init__(self, velocities: Sequence[Sequence[int]] | np.ndarray | None = None) -> None:
        if velocities is None:
            array = np.zeros((CHANNELS, STEPS), dtype=np.uint8)
        else:
            array = _validated_grid(velocities)
        array.flags.writeable = False
        self._velocities = array

    @property
    def velocities(self) -> np.ndarray:
        """The read-only (4, 16) uint8 array of velocities."""
        return self._velocities

    def velocity(self, channel: int, step: int) -> int:
        return int(self._velocities[channel, step])

    def with_velocity(self, channel: int, step: int, velocity: int) -> Pattern:
        """A copy with one step's velocity changed."""
        _check_index(channel, CHANNELS, "channel")
        _check_index(step, STEPS, "step")
        _check_velocity(velocity, "velocity")
        array = self._velocities.copy()
        array[channel, step] = velocity
        return Pattern(array)

    def with_channel(self, channel: int, velocities: Iterable[int]) -> Pattern:
        """A copy with one channel's 16 velocities replaced."""
        _check_index(channel, CHANNELS, "channel")
        array = self._velocities.copy()
        array[channel] = _validated_row(list(velocities), f"channel {channel}")
        return Pattern(array)

    def to_lists(self) -> list[list[int]]:
        """Plain nested lists, as stored in bank files."""
        return self._velocities.tolist()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pattern) and np.array_equal(self._velocities, other._velocities)

    def __hash__(self) -> int:
        return hash(self._velocities.tobytes())

    def __repr__(self) -> str:
        return f"Pattern({self.to_lists()!r})"


def _check_index(value: int, limit: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < limit:
        raise FormatError(f"{name} must be an integer 0-{limit - 1}, got {value!r}")


def _check_velocity(value: object, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise FormatError(f"velocity must be an integer 0-255, got {value!r}", field)
    if not 0 <= value <= MAX_VELOCITY:
        raise FormatError(f"velocity must be 0-255, got {value}", field)


def _validated_row(row: object, field: str) -> list[int]:
    if isinstance(row, np.ndarray):
        row = row.tolist()
    if not isinstance(row, (list, tuple)):
        raise FormatError(f"expected a list of {STEPS} velocities, got {type(row).__name__}", field)
    if len(row) != STEPS:
        raise FormatError(f"expected {STEPS} steps, got {len(row)}", field)
    for step, value in enumerate(row):
        _check_velocity(value, f"{field}[{step}]")
    return list(row)


def _validated_grid(grid: object, field: str = "steps") -> np.ndarray:
    if isinstance(grid, np.ndarray):
        if grid.shape != (CHANNELS, STEPS):
            raise FormatError(f"expected shape ({CHANNELS}, {STEPS}), got {grid.shape}", field)
        if grid.dtype == np.uint8:
            return grid.copy()
        grid = grid.tolist()
    if not isinstance(grid, (list, tuple)):
        raise FormatError(f"expected {CHANNELS} lists of {STEPS} velocities, got {type(grid).__name__}", field)
    if len(grid) != CHANNELS:
        raise FormatError(f"expected {CHANNELS} channels, got {len(grid)}", field)
    rows = [_validated_row(row, f"{field}[{channel}]") for channel, row in enumerate(grid)]
    return np.array(rows, dtype=np.uint8)


def pattern_from_data(grid: object, field: str = "steps") -> Pattern:
    """Validate decoded JSON (4 lists of 16 ints) into a Pattern; errors name ``field``."""
    return Pattern(_validated_grid(grid, field))
