"""The period that tunes itself (``[audio] period = "auto"``).

At start the engine measures what one block costs it with the configured
number of voices sounding, paced as it will play (a block per period of real
time, so caches are as cold as on stage and a CPU quota shows as lateness),
and takes the smallest period whose 99th-percentile cost leaves at least
half of the period free. While playing it never steps down; after
``STEP_UP_MISSES`` deadline misses caused by its own blocks (a block that took
more than the free half to render) within ``STEP_UP_WINDOW_S`` seconds it
steps up to the next period. The reason is a number on the status board
(``EngineStatus.period_why`` puts it in words).

The choice is pure logic over a cost function, so it is tested with an
injected cost model as well as measured.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from ..core.pattern import Pattern
from ..core.playstate import PlayState
from ..core.settings import AUTO_PERIOD
from .kit import Kit
from .status import MEASURED, NONE_FITS, PINNED

CHOICES = (64, 128, 256, 512, 1024)
FREE_SHARE = 0.5                 # of each period left free at the measured p99 cost
MEASURE_SECONDS = 0.15           # of paced blocks per candidate period (the cold-start budget allows ~1 s)
STEP_UP_MISSES = 3
STEP_UP_WINDOW_S = 10.0


def choose(block_cost: Callable[[int], float], rate: int, choices: tuple[int, ...] = CHOICES) -> tuple[int, float]:
    """The smallest period in ``choices`` whose p99 block cost (``block_cost(period)``, seconds) leaves
    ``FREE_SHARE`` of it free, and that cost; the largest choice (and its cost) when none does.

    >>> choose(lambda period: 0.001, 48_000)        # 1 ms a block: over half of 64 frames (1.33 ms)
    (128, 0.001)
    """
    cost = 0.0
    for period in choices:
        cost = block_cost(period)
        if cost <= (1.0 - FREE_SHARE) * period / rate:
            return period, cost
    return choices[-1], cost


def fits(period: int, cost: float, rate: int) -> bool:
    """Whether a p99 block cost of ``cost`` seconds leaves ``FREE_SHARE`` of ``period`` frames free."""
    return cost <= (1.0 - FREE_SHARE) * period / rate


class StepUp:
    """Counts the engine's own deadline misses and says when to step the period up.

    Call :meth:`miss` with each miss (the clock in seconds, the block's
    render time in seconds); it returns the next period when one is due,
    else None. Misses where the block was quick (the device or the machine
    was late, not the engine) are not counted.

    >>> steps = StepUp(64, 48_000)
    >>> [steps.miss(now, render=0.001) for now in (1.0, 2.0, 3.0)]
    [None, None, 128]
    """

    def __init__(self, period: int, rate: int, choices: tuple[int, ...] = CHOICES) -> None:
        self.period, self.rate, self.choices = period, rate, choices
        self.steps = 0
        self._times: list[float] = []

    def miss(self, now: float, render: float) -> int | None:
        if render <= (1.0 - FREE_SHARE) * self.period / self.rate:
            return None
        self._times = [then for then in self._times if now - then < STEP_UP_WINDOW_S] + [now]
        larger = [period for period in self.choices if period > self.period]
        if len(self._times) < STEP_UP_MISSES or not larger:
            return None
        self._times = []
        self.period = larger[0]
        self.steps += 1
        return self.period


def paced_block_cost(kit: Kit, voices: int, period: int, seconds: float = MEASURE_SECONDS,
                     clock: Callable[[], float] = time.perf_counter) -> float:
    """The p99 cost (seconds) of one block of ``period`` frames with ``voices`` voices sounding, rendered
    through a player of its own (limiter and conversion included) on a schedule of one block per period.

    A block's cost is from when it was due to start (its place in the
    schedule) to when it was rendered: on the wall, not the CPU, so what the
    engine cannot get of the CPU (a quota, a busy machine, a late wake-up)
    counts as it would on stage, where the device waits for nobody.
    """
    from .player import Player

    player = Player(kit, PlayState(Pattern(), playing=False), max_block=period, max_voices=voices)
    mixer, length = player.mixer, period / kit.rate
    blocks = max(20, round(seconds / length))
    costs = np.empty(blocks)
    deadline = clock()
    for block in range(-5, blocks):                    # five to warm up
        deadline += length
        while (wait := deadline - clock()) > 0:
            time.sleep(wait)
        while mixer.count < voices:
            mixer.trigger(block % len(kit.samples), 200, 0)
        player.render(period)
        if block >= 0:
            costs[block] = clock() - deadline
    return float(np.percentile(costs, 99))


def resolve(period: int | str, kit: Kit, voices: int) -> tuple[int, int, float]:
    """(period, reason, measured p99 block cost in seconds) for a configured ``period``: a number is
    pinned, ``"auto"`` is measured with ``voices`` voices."""
    if period != AUTO_PERIOD:
        return int(period), PINNED, 0.0
    chosen, cost = choose(lambda candidate: paced_block_cost(kit, voices, candidate), kit.rate)
    return chosen, MEASURED if fits(chosen, cost, kit.rate) else NONE_FITS, cost


def explain(period: int | str, rate: int, voices: int = 64) -> tuple[int, str]:
    """The period a configured ``period`` comes to on this machine and why, in words (measured now with the
    built-in kit when automatic: what the engine would find at its start)."""
    from .kit import load_kit

    if period != AUTO_PERIOD:
        return int(period), "pinned by [audio] period"
    chosen, reason, cost = resolve(period, load_kit(rate=rate), voices)
    share = cost / (chosen / rate)
    if reason == NONE_FITS:
        return chosen, (f"auto: no period leaves half free ({voices} voices cost {cost * 1e3:.1f} ms a block at "
                        f"p99 here, {share:.0%} of {chosen} frames): the machine is too busy or too slow")
    return chosen, (f"auto: {voices} voices cost {cost * 1e6:.0f} us a block at p99 here, {share:.0%} of it; "
                    "the engine measures again at each start and steps up after repeated misses of its own")
