"""The period that tunes itself: its choice and its steps over an injected cost model, the engine stepping up
on its own misses, and a real measurement under a CPU quota that makes 64 frames impossible."""

import logging
import os

import pytest

from breakage_pi.audio.engine import Engine
from breakage_pi.audio.kit import load_kit
from breakage_pi.audio.period import CHOICES, STEP_UP_MISSES, STEP_UP_WINDOW_S, StepUp, choose, resolve
from breakage_pi.audio.player import Player
from breakage_pi.audio.process import AudioProcess, EngineSettings, PeriodWatch
from breakage_pi.audio.status import MEASURED, NONE_FITS, PINNED, STEPPED_UP, EngineStatus
from breakage_pi.bench import quota
from breakage_pi.core.pattern import Pattern
from breakage_pi.core.playstate import PlayState
from breakage_pi.core.settings import ConfigError, parse_config

RATE = 48_000


def cost_model(fixed_s, per_frame_s):
    """A block's p99 cost: a fixed part (Python, numpy calls) and a part per frame; records what was asked."""
    asked = []

    def cost(period):
        asked.append(period)
        return fixed_s + per_frame_s * period
    cost.asked = asked
    return cost


def test_the_smallest_period_that_leaves_half_free_is_chosen_measuring_no_more_than_needed():
    cheap = cost_model(100e-6, 0.1e-6)                   # 64 frames: 106 us of 1333 us
    assert choose(cheap, RATE) == (64, pytest.approx(106.4e-6)) and cheap.asked == [64]
    dear = cost_model(800e-6, 0.5e-6)                    # 64: 832 us > half of 1333; 128: 864 us < half of 2667
    assert choose(dear, RATE) == (128, pytest.approx(864e-6)) and dear.asked == [64, 128]
    assert choose(lambda period: 0.5 * 256 / RATE, RATE)[0] == 256          # at exactly half: it fits


def test_when_no_period_leaves_half_free_the_largest_is_taken():
    hopeless = cost_model(0.05, 0.0)                     # 50 ms a block: over half of even 1024 frames
    assert choose(hopeless, RATE) == (CHOICES[-1], 0.05) and hopeless.asked == list(CHOICES)


def test_a_pinned_period_is_not_measured():
    assert resolve(128, load_kit(), 64) == (128, PINNED, 0.0)


def test_steps_up_only_after_repeated_misses_of_its_own_within_the_window_and_never_past_the_largest():
    slow = 0.9 * 64 / RATE                               # a block that took 90 % of the period: the engine's own
    quick = 0.1 * 64 / RATE                              # the device or the machine was late, not the engine
    steps = StepUp(64, RATE)
    assert [steps.miss(float(t), quick) for t in range(10)] == [None] * 10
    spread = [steps.miss(t * STEP_UP_WINDOW_S, slow) for t in range(STEP_UP_MISSES + 2)]
    assert spread == [None] * (STEP_UP_MISSES + 2) and steps.period == 64
    close = [steps.miss(1000.0 + t, slow) for t in range(STEP_UP_MISSES)]
    assert close == [None] * (STEP_UP_MISSES - 1) + [128] and steps.period == 128 and steps.steps == 1
    # at 128 frames the same render time is under half the period: not the engine's fault any more
    assert [steps.miss(2000.0 + t, slow) for t in range(STEP_UP_MISSES)] == [None] * STEP_UP_MISSES
    top = StepUp(CHOICES[-1], RATE)
    assert [top.miss(float(t), 1.0) for t in range(5)] == [None] * 5 and top.period == CHOICES[-1]


class UnderrunSink:
    """A device that reports every write as an underrun; records the periods it was opened at."""

    latency = 0.004

    def __init__(self, period, opened):
        self.period, self.opened = period, opened

    def open(self):
        self.opened.append(self.period)

    def write(self, block):
        return True

    def close(self):
        pass


class SlowClock:
    """Each reading 1 ms after the last: a block takes 1 ms to render, 75 % of 64 frames, 37.5 % of 128."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 0.001
        return self.now


def test_the_engine_reopens_its_device_at_the_next_period_after_repeated_misses_of_its_own():
    steps, opened = StepUp(64, RATE), []
    engine = Engine(Player(load_kit(), PlayState(Pattern())), lambda: UnderrunSink(steps.period, opened),
                    clock=SlowClock(), step_up=steps, period_reason=MEASURED, block_cost=50e-6)
    engine.run(frames=64 * 20)
    assert opened[:2] == [64, 128] and steps.steps >= 1
    reading = engine.status.read()
    assert reading.period_reason == STEPPED_UP and reading.period_steps == steps.steps
    assert "stepped up" in reading.period_why and reading.block_cost_ns == 50_000


def test_the_period_in_force_and_why_are_logged_once_and_again_at_each_step(caplog):
    watch = PeriodWatch(logging.getLogger("test"))
    with caplog.at_level(logging.INFO):
        for reading in (EngineStatus(), EngineStatus(period=64, period_reason=MEASURED, block_cost_ns=90_000),
                        EngineStatus(period=64, period_reason=MEASURED, block_cost_ns=90_000),
                        EngineStatus(period=128, period_reason=STEPPED_UP, period_steps=1)):
            watch.check(reading)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2
    assert "period 64 frames" in lines[0] and "smallest period" in lines[0] and "90 us" in lines[0]
    assert "kept missing their deadlines at 64 frames" in lines[1] and "now 128 frames" in lines[1]


def test_the_config_takes_auto_or_a_number_and_nothing_else():
    assert parse_config({}).audio.period == "auto"
    assert parse_config({"audio": {"period": "auto"}}).audio.period == "auto"
    assert parse_config({"audio": {"period": 256}}).audio.period == 256
    for bad in ("fast", 8, 5000, True, 64.0):
        with pytest.raises(ConfigError, match='audio.period: must be "auto" or a period in frames'):
            parse_config({"audio": {"period": bad}})


@pytest.mark.skipif(quota.unavailable() is not None, reason=f"no CPU quota here: {quota.unavailable()}")
def test_under_a_cpu_quota_that_makes_64_frames_impossible_the_engine_measures_and_takes_a_larger_period():
    """3 % of one core (30 us in each 1 ms): a 64-voice block (~50-150 us of CPU here) cannot be rendered in
    half of 1.33 ms. The audio process is started inside the quota (this process joins it just for the start,
    so no block is measured outside it), at normal priority (a quota does not hold back SCHED_FIFO)."""
    with quota.CpuQuota(1.0) as limit:
        limit.add(os.getpid())
        try:
            audio = AudioProcess(EngineSettings("none", period="auto", pace=True, frames=RATE, realtime_priority=0),
                                 PlayState(Pattern())).start()
        finally:
            limit.release(os.getpid())
        limit.set(0.03)
        try:
            report = audio.wait(120)
        finally:
            audio.stop()
    assert report["frames"] == RATE and "normal priority" in report["realtime"]
    assert report["period"] > 64 and report["period_reason"] in (MEASURED, NONE_FITS)
