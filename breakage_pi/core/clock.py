"""The step clock: tempo and swing to exact integer sample positions.

Positions are computed from the step number, never accumulated, so there is
no drift however long the instrument plays. With straight time (swing 0.5)
step ``k`` starts at ``round(k * rate * 60 / tempo / 4)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

from .errors import FormatError

SAMPLE_RATE = 48_000
TEMPO_RANGE = (30.0, 300.0)
SWING_RANGE = (0.5, 0.75)
STEPS_PER_BEAT = 4


@dataclass(frozen=True)
class StepClock:
    """Maps 16th-note step numbers to sample positions and back.

    ``swing`` is the fraction of each pair of steps given to the first (even)
    step. ``origin_step``/``origin_sample`` anchor the clock so that a tempo
    change made at a step boundary keeps every earlier step where it was.

    >>> StepClock(120.0).step_start(4)
    24000
    >>> StepClock(120.0, swing=0.75).step_start(1)
    9000
    """

    tempo: float
    swing: float = 0.5
    sample_rate: int = SAMPLE_RATE
    origin_step: int = 0
    origin_sample: int = 0

    def __post_init__(self) -> None:
        if not TEMPO_RANGE[0] <= self.tempo <= TEMPO_RANGE[1]:
            raise FormatError(f"must be {TEMPO_RANGE[0]:g}-{TEMPO_RANGE[1]:g} BPM, got {self.tempo:g}", "tempo")
        if not SWING_RANGE[0] <= self.swing <= SWING_RANGE[1]:
            raise FormatError(f"must be {SWING_RANGE[0]:g}-{SWING_RANGE[1]:g}, got {self.swing:g}", "swing")

    @property
    def samples_per_step(self) -> float:
        """Average length of one step in samples (a swung pair is two of these)."""
        return self.sample_rate * 60 / self.tempo / STEPS_PER_BEAT

    def _units(self, step: int) -> float:
        """Position of ``step`` in straight-step units, swing applied to odd steps."""
        odd = step % 2
        return step - odd + 2 * self.swing * odd

    def step_start(self, step: int) -> int:
        """The sample at which ``step`` starts (exact, drift-free)."""
        units = self._units(step) - self._units(self.origin_step)
        return self.origin_sample + round(units * self.sample_rate * 60 / self.tempo / STEPS_PER_BEAT)

    def step_at(self, sample: int) -> int:
        """The step playing at ``sample``: the last one started at or before it."""
        step = self.origin_step + math.floor((sample - self.origin_sample) / self.samples_per_step) - 2
        while self.step_start(step + 1) <= sample:
            step += 1
        return step

    def steps_in(self, start: int, stop: int) -> Iterator[tuple[int, int]]:
        """``(step, sample)`` for every step starting in ``[start, stop)``."""
        step = self.step_at(start - 1) + 1
        while (position := self.step_start(step)) < stop:
            yield step, position
            step += 1

    def retimed(self, tempo: float, swing: float, at_step: int) -> StepClock:
        """A clock with a new tempo and swing that agrees with this one up to ``at_step``."""
        return StepClock(tempo, swing, self.sample_rate, at_step, self.step_start(at_step))
