"""Bench section ``headroom``: the least share of one core the engine needs to keep real time.

For each period (64, 128, 256 frames) the engine soak of ``bench engine``
(paced null device, 3 periods of buffer, a training running and 50 edits a
second from the control side, voices limited to 16) runs with the audio
process alone under a CPU quota (a cgroup; see :mod:`.quota`) and at normal
priority, since a quota does not hold back a real-time task. A soak passes
when it has no deadline miss caused by the engine (misses the probes explain
as the machine stalling do not count; see ``bench engine``). The share is
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

from . import quota
from .engine import soak

PERIODS = (64, 128, 256)
VOICES = 16
GOAL_SHARE = 0.25


def passes(seconds: float, period: int, share: float) -> bool:
    """One soak at ``share`` of a core; True when the engine caused no deadline miss."""
    figures = soak(seconds, period=period, voices=VOICES, share=share)
    engine, machine = figures["engine.soak.misses_engine"], figures["engine.soak.misses_machine"]
    print(f"  {period} frames at {share:.1%} of a core: {engine} miss(es) by the engine, {machine} by the machine "
          f"({figures['engine.soak.blocks']} blocks)", file=sys.stderr)
    return engine == 0


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
