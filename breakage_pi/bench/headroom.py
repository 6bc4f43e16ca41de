"""Bench section ``headroom``: the least share of one core the engine needs to keep real time.

For each period (64, 128, 256 frames) the engine soak of ``bench engine``
(paced null device, 3 periods of buffer, a training running and 50 edits a
second from the control side, voices limited to 16) runs with the audio
process alone under a CPU quota (a cgroup; see :mod:`.quota`) and at normal
priority, since a quota does not hold back a real-time task. A soak passes
when it has no deadline miss caused by the engine's share: a miss the
probes (at normal priority too) do not explain as the machine's, during which
the quota held the engine back (its cgroup's throttle count rose). At
normal priority on a machine shared with other work the engine also misses
when it is ready but other processes hold the CPUs; those are reported but
are not the share's (on the Pi the engine runs SCHED_FIFO, above them). The share is
bisected: first the goal (``GOAL_SHARE``, 25 % of a core), then halfway
towards the last pass or fail, ``BREAKAGE_PI_HEADROOM_STEPS`` soaks in all
(default 4) of ``BREAKAGE_PI_HEADROOM_SECONDS`` each (default 60; 10 gives a
quick form). ``headroom.f{n}.share`` is the least share that passed (1.0 if
none did below a whole core), ``headroom.f{n}.failed_share`` the largest that
failed (0 if none did).

The kernel will not take a quota under 1 ms, so at a share ``s`` the
quota's period is ``1 ms / s`` (4 ms at 25 %): the engine may spend its
share in a burst, and a block that falls in a throttled stretch is late.
Where no cgroup can be made the section says why and reports nothing.
"""

from __future__ import annotations

import os
import sys

from ..audio.engine import MISS_HISTORY
from . import quota
from .engine import soak

PERIODS = (64, 128, 256)
VOICES = 16
GOAL_SHARE = 0.25


def passes(seconds: float, period: int, share: float) -> bool:
    """One soak at ``share`` of a core; True when no deadline miss came from the quota holding the engine back."""
    figures = soak(seconds, period=period, voices=VOICES, share=share)
    held = figures["engine.soak.misses_quota"]
    engine, machine = figures["engine.soak.misses_engine"], figures["engine.soak.misses_machine"]
    unexamined = figures["engine.soak.deadline_misses"] - engine - machine
    print(f"  {period} frames at {share:.1%} of a core: {held} miss(es) while the quota held the engine back; "
          f"{engine} not explained by the probes, {machine} by the machine ({figures['engine.soak.blocks']} blocks)"
          + (f"; {unexamined} older miss(es) not examined (the engine keeps the last {MISS_HISTORY})"
             if unexamined else ""), file=sys.stderr)
    return held == 0


def least_share(seconds: float, period: int, steps: int) -> tuple[float, float]:
    """(least share that passed, largest that failed) after ``steps`` soaks, starting at the goal."""
    passed, failed, share = 1.0, 0.0, GOAL_SHARE
    for _ in range(steps):
        if passes(seconds, period, share):
            passed = share
        else:
            failed = share
        share = (passed + failed) / 2
    return passed, failed


def run() -> dict[str, float]:
    reason = quota.unavailable()
    if reason:
        print(f"  headroom: skipped, {reason}", file=sys.stderr)
        return {}
    seconds = float(os.environ.get("BREAKAGE_PI_HEADROOM_SECONDS", "60"))
    steps = int(os.environ.get("BREAKAGE_PI_HEADROOM_STEPS", "4"))
    print(f"  {steps} soaks of {seconds:g} s for each of {', '.join(map(str, PERIODS))} frames, {VOICES} voices "
          "(set BREAKAGE_PI_HEADROOM_SECONDS, BREAKAGE_PI_HEADROOM_STEPS to change)", file=sys.stderr)
    figures: dict[str, float] = {"headroom.soak_seconds": seconds, "headroom.voices": VOICES}
    for period in PERIODS:
        passed, failed = least_share(seconds, period, steps)
        figures[f"headroom.f{period}.share"] = passed
        figures[f"headroom.f{period}.failed_share"] = failed
    figures["headroom.f64.goal_met"] = float(figures["headroom.f64.share"] <= GOAL_SHARE)
    return figures
