"""Bench section ``engine``: a real-time soak under training and edits, and ALSA latencies.

The engine runs in its audio process into a null device paced in real time
(64-frame blocks, 3 periods) while a real training run works in its own
process and this process, as the control side, sends 50 pattern edits a
second. A deadline miss is a block that reached the device after its buffer
ran dry (an xrun). ``BREAKAGE_PI_SOAK_SECONDS`` sets the length (default 60),
``BREAKAGE_PI_SOAK_PERIODS`` the device buffer in periods (default 3, as the config).
The section also times bare timer wake-ups for 10 s, the machine's own noise
floor, so a miss can be told from a stall of the (virtual) machine.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from ..core.playstate import PlayState
from ..audio.process import AudioProcess, EngineSettings
from ..audio.sinks import AlsaSink, SinkLost
from ..core.pattern import Pattern
from ..ml.dataset import training_set
from ..ml.process import TrainingProcess
from ..ml.train import TrainConfig

EDITS_PER_SECOND = 50
GROOVE = Pattern([[230, 0, 0, 90, 0, 0, 180, 0, 210, 0, 120, 0, 0, 0, 0, 0],
                  [0, 0, 0, 0, 210, 0, 0, 60, 0, 70, 0, 0, 220, 0, 0, 50],
                  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 150, 0],
                  [140, 80, 120, 80] * 3 + [140, 80, 0, 80]])


def soak(seconds: float, period: int = 64, periods: int = 3) -> dict[str, float]:
    """Run the soak for ``seconds`` of audio; figures keyed ``engine.soak.*``."""
    rng = np.random.default_rng(0)
    patterns = [Pattern(rng.integers(0, 256, (4, 16), dtype=np.uint8)) for _ in range(64)]
    data = training_set(patterns, ("in", "in", "out", "out"))
    endless = TrainConfig(targets=(1e-9,), max_epochs=10**9, report_every=50)
    settings = EngineSettings("none", period=period, periods=periods, pace=True, frames=round(seconds * 48_000))
    audio = AudioProcess(settings, PlayState(GROOVE, 128.0, 0.58)).start()
    trainer = TrainingProcess(data, endless)
    edits = epochs = 0
    try:
        next_edit = time.monotonic()
        while audio.is_alive():
            next_edit += 1 / EDITS_PER_SECOND
            time.sleep(max(0.0, next_edit - time.monotonic()))
            column = edits % 16
            pattern = GROOVE.with_velocity(int(rng.integers(0, 2)), column, int(rng.integers(0, 256)))
            if not audio.send(PlayState(pattern, 128.0, 0.58)):
                break
            edits += 1
            progress = trainer.progress()
            epochs = progress[-1][0] if progress else epochs
            if audio.status().frame >= settings.frames:
                break
        report = audio.wait(30.0)
    finally:
        trainer.abort()
        trainer.close()
        audio.stop()
    print(f"  soak: {seconds:g} s, {period} x {periods} frames, {edits} edits, training reached epoch {epochs}, {report.get('realtime')}",
          file=sys.stderr)
    return {
        "engine.soak.seconds": seconds,
        "engine.soak.blocks": report["blocks"],
        "engine.soak.deadline_misses": report["xruns"],
        "engine.soak.block_latency_median_ms": report["block_latency_median_ms"],
        "engine.soak.block_latency_p99_ms": report["block_latency_p99_ms"],
        "engine.soak.block_latency_max_ms": report["worst_block_ms"],
        "engine.soak.edits": edits,
        "engine.soak.training_epochs": epochs,
    }


def machine_wakeups(seconds: float = 10.0, period: int = 64) -> dict[str, float]:
    """How late this machine wakes a sleeping process at each period: the noise floor under the soak.

    No engine code runs here; a wake-up later than the device buffer's slack
    would be a deadline miss for any engine.
    """
    slack = 2 * period / 48_000
    lateness = np.empty(int(seconds * 48_000 / period))
    deadline = time.perf_counter()
    for index in range(len(lateness)):
        deadline += period / 48_000
        time.sleep(max(0.0, deadline - time.perf_counter()))
        lateness[index] = time.perf_counter() - deadline
    return {
        "engine.machine.wakeup_late_p999_ms": float(np.percentile(lateness, 99.9)) * 1e3,
        "engine.machine.wakeup_late_max_ms": float(lateness.max()) * 1e3,
        "engine.machine.wakeups_later_than_slack": int((lateness > slack).sum()),
    }


def alsa_latencies() -> dict[str, float]:
    """The latency libasound grants on its ``null`` PCM for periods of 64/128/256 frames (3 periods)."""
    figures: dict[str, float] = {}
    for period in (64, 128, 256):
        sink = AlsaSink("null", period=period, periods=3)
        try:
            sink.open()
        except SinkLost as error:
            print(f"  ALSA null device: {error}", file=sys.stderr)
            continue
        figures[f"engine.alsa.p{period}.granted_period"] = sink.period
        figures[f"engine.alsa.p{period}.latency_ms"] = sink.latency * 1e3
        sink.close()
    return figures


def run() -> dict[str, float]:
    seconds = float(os.environ.get("BREAKAGE_PI_SOAK_SECONDS", "60"))
    periods = int(os.environ.get("BREAKAGE_PI_SOAK_PERIODS", "3"))
    print(f"  soak of {seconds:g} s at 64 x {periods} frames (set BREAKAGE_PI_SOAK_SECONDS, "
          "BREAKAGE_PI_SOAK_PERIODS to change)", file=sys.stderr)
    return {**soak(seconds, periods=periods), **machine_wakeups(), **alsa_latencies()}
