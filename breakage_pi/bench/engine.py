"""Bench section ``engine``: a real-time soak under training and edits, a flood of edits, memory, ALSA latencies.

**Soak.** The engine runs in its audio process into a null device paced in
real time (64-frame blocks, 3 periods) while a real training run works in its
own process and this process, as the control side (with a net loaded in
onnxruntime, as the instrument's), sends 50 pattern edits a second. A
deadline miss is a block that reached the device after its buffer ran dry
(an xrun). Beside it a **probe** (one real-time process pinned to each CPU,
see :class:`Probe`) sleeps 1 ms at a time and records every wake-up later
than 0.25 ms. Each miss is explained from what the engine recorded (the
block's render time; the gap since the previous write returned, i.e. what
the loop did between two writes; how long that write took) and what the
probes saw at the same moment: if one of them also woke late by
``MACHINE_STALL_MS`` or more while the device ran dry, the machine stalled
(``misses_machine``); otherwise the engine was late on its own
(``misses_engine``, goal 0).
``BREAKAGE_PI_SOAK_SECONDS`` sets the length (default 60),
``BREAKAGE_PI_SOAK_PERIODS`` the device buffer in periods (default 3).

**Flood.** The control side sends states as fast as it can for
``BREAKAGE_PI_FLOOD_SECONDS`` (default 10) while the engine plays paced
64-frame blocks: the longest ``send`` (wall time, and time on the CPU: a
send that took long on the wall but not on the CPU was preempted, not
waiting), the worst block, and its misses explained as in the soak.

**Memory.** Resident memory (RSS) and proportional share (PSS, shared
library pages split between the processes using them) of the audio,
control and training processes during the soak.
"""

from __future__ import annotations

import os
import sys
import time
from multiprocessing.sharedctypes import RawArray
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.process import AudioProcess, EngineSettings, proportional_mb, resident_mb
from ..audio.sinks import AlsaSink, SinkLost
from ..children import child_context
from ..core.pattern import Pattern
from ..core.playstate import PlayState
from ..ml.dataset import training_set
from ..ml.process import TrainingProcess
from ..ml.train import TrainConfig
from .quota import CpuQuota

EDITS_PER_SECOND = 50
RATE = 48_000
GROOVE = Pattern([[230, 0, 0, 90, 0, 0, 180, 0, 210, 0, 120, 0, 0, 0, 0, 0],
                  [0, 0, 0, 0, 210, 0, 0, 60, 0, 70, 0, 0, 220, 0, 0, 50],
                  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 150, 0],
                  [140, 80, 120, 80] * 3 + [140, 80, 0, 80]])
PROBE_SLEEP = 0.001
PROBE_RECORD_LATE = 0.25e-3         # seconds; wake-ups later than this are recorded
PROBE_RECORDS = 200_000
MACHINE_STALL_MS = 0.5
DEFAULT_NET = Path(__file__).resolve().parents[2] / "models" / "net-0.02.onnx"


def _probe_main(seconds: float, records: Any, cpu: int, priority: int) -> None:
    """A probe's body: on ``cpu``, sleep 1 ms at a time for ``seconds``; record (deadline, woke) of late wake-ups."""
    os.sched_setaffinity(0, {cpu})
    try:
        if priority > 0:                                 # 0: normal priority, as a normally scheduled engine
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except OSError:
        pass
    table = np.frombuffer(records, dtype=np.float64).reshape(-1, 2)
    count, deadline = 0, time.perf_counter()
    end = deadline + seconds
    while deadline < end:
        deadline += PROBE_SLEEP
        time.sleep(max(0.0, deadline - time.perf_counter()))
        woke = time.perf_counter()
        if woke - deadline > PROBE_RECORD_LATE and count < len(table) - 1:
            count += 1
            table[count] = (deadline, woke)
            table[0, 0] = count
        if woke - deadline > PROBE_SLEEP:
            deadline = woke                              # a long stall: start again from now, as a sleeper would


class Probe:
    """The machine's own lateness while something else runs: one real-time process pinned to each CPU.

    One per CPU because a virtual machine's host can stall one virtual CPU
    while the other runs on: a single probe elsewhere would not see the stall
    of the CPU the engine was on. Their priority is above the engine's, so
    they measure the machine and not the engine's own work.
    """

    def __init__(self, seconds: float, priority: int = 80) -> None:
        context = child_context()
        self._records = []
        self._processes = []
        for cpu in sorted(os.sched_getaffinity(0)):
            records = RawArray("d", 2 * PROBE_RECORDS)
            self._records.append(records)
            self._processes.append(context.Process(target=_probe_main, args=(seconds, records, cpu, priority),
                                                   name=f"breakage-pi-probe-{cpu}", daemon=True))

    def start(self) -> Probe:
        for process in self._processes:
            process.start()
        return self

    def late_wakeups(self) -> np.ndarray:
        """(deadline, woke) of every recorded late wake-up on any CPU, after stopping the probes."""
        tables = []
        for process, records in zip(self._processes, self._records):
            if process.is_alive():
                process.terminate()
            process.join()
            table = np.frombuffer(records, dtype=np.float64).reshape(-1, 2)
            tables.append(table[1:1 + int(table[0, 0])].copy())
        return np.concatenate(tables)


def explain_misses(misses: list[tuple[float, ...]], late: np.ndarray, period: float) -> list[dict[str, Any]]:
    """Each miss with its figures and cause (see the module docstring).

    The window is from the previous write's call to this one (``period``
    seconds more on each side): the device ran dry somewhere in it, while
    the engine either worked (the gap) or waited to be woken from its write.
    ``machine``: the probe, another process, woke late by MACHINE_STALL_MS or
    more in that window. Otherwise ``engine``, whether its own work between
    writes took too long (``gap_ms``) or it alone was woken late.
    """
    explained = []
    for block, called, render, gap, previous_write in misses:
        window_start, window_end = called - gap - previous_write - period, called + period
        overlapping = (late[:, 0] < window_end) & (late[:, 1] > window_start) if len(late) else np.zeros(0, bool)
        probe_late = float((late[overlapping, 1] - late[overlapping, 0]).max()) if overlapping.any() else 0.0
        explained.append({"block": int(block), "called": called, "render_ms": render * 1e3, "gap_ms": gap * 1e3,
                          "previous_write_ms": previous_write * 1e3, "probe_late_ms": probe_late * 1e3,
                          "cause": "machine" if probe_late * 1e3 >= MACHINE_STALL_MS else "engine"})
    return explained


def _control_side_net() -> Any:
    """A net in onnxruntime, as the instrument's control side holds one (None if the default nets are absent)."""
    if not DEFAULT_NET.is_file():
        return None
    from ..ml.netfile import read_net
    from ..ml.session import NetSession

    net = NetSession(read_net(DEFAULT_NET))
    net.apply(GROOVE)
    return net


def soak(seconds: float, period: int = 64, periods: int = 3, voices: int = 64,
         share: float | None = None) -> dict[str, float]:
    """Run the soak for ``seconds`` of audio; figures keyed ``engine.soak.*`` and ``engine.rss_mb.*``.

    With ``share``, the audio process runs at normal priority under a CPU
    quota of that share of one core (see :mod:`.quota`) from its first
    instruction; the training and this control side run outside it. The
    probes then run at normal priority too, so a miss the machine's other
    work explains (the engine ready to run, the CPUs busy) is the machine's,
    and ``engine.soak.misses_quota`` counts the engine's misses during which
    the quota held it back (its throttle count, read at every edit, rose).
    """
    rng = np.random.default_rng(0)
    patterns = [Pattern(rng.integers(0, 256, (4, 16), dtype=np.uint8)) for _ in range(64)]
    data = training_set(patterns, ("in", "in", "out", "out"))
    endless = TrainConfig(targets=(1e-9,), max_epochs=10**9, report_every=50)
    net = _control_side_net()
    settings = EngineSettings("none", period=period, periods=periods, pace=True, frames=round(seconds * RATE),
                              max_voices=voices, realtime_priority=70 if share is None else 0)
    probe = Probe(seconds + 5, priority=80 if share is None else 0).start()   # as the engine is scheduled
    limit = None if share is None else CpuQuota(1.0)
    if limit is not None:
        limit.add(os.getpid())               # the audio process starts inside the quota ...
    try:
        audio = AudioProcess(settings, PlayState(GROOVE, 128.0, 0.58)).start()
    finally:
        if limit is not None:
            limit.release(os.getpid())       # ... and this process leaves it at once
    if limit is not None and share is not None:
        limit.set(share)
    trainer = TrainingProcess(data, endless)
    edits = epochs = 0
    memory: dict[str, float] = {}
    throttles: list[tuple[float, int]] = []
    try:
        next_edit = time.monotonic()
        while audio.is_alive():
            next_edit += 1 / EDITS_PER_SECOND
            time.sleep(max(0.0, next_edit - time.monotonic()))
            column = edits % 16
            pattern = GROOVE.with_velocity(int(rng.integers(0, 2)), column, int(rng.integers(0, 256)))
            if net is not None:
                pattern = net.apply(pattern)
            if not audio.send(PlayState(pattern, 128.0, 0.58)):
                break
            edits += 1
            if limit is not None:
                throttles.append((time.perf_counter(), limit.throttled()))
            progress = trainer.progress()
            epochs = progress[-1][0] if progress else epochs
            frame = audio.status().frame
            if not memory and frame >= settings.frames // 2:
                memory = _memory(audio.pid, trainer.pid)
            if frame >= settings.frames:
                break
        report = audio.wait(30.0)
    finally:
        trainer.abort()
        trainer.close()
        audio.stop()
        if limit is not None:
            limit.close()
    explained = explain_misses(report["misses"], probe.late_wakeups(), period / RATE)
    for miss in explained:
        print(f"  miss at block {miss['block']}: render {miss['render_ms']:.3f} ms, gap since the previous write "
              f"{miss['gap_ms']:.3f} ms, previous write {miss['previous_write_ms']:.3f} ms, probe woke "
              f"{miss['probe_late_ms']:.3f} ms late -> {miss['cause']}", file=sys.stderr)
    print(f"  soak: {seconds:g} s, {period} x {periods} frames, {edits} edits, training reached epoch {epochs}, "
          f"{report.get('realtime')}", file=sys.stderr)
    quota_misses = _held_back(explained, np.array(throttles).reshape(-1, 2), period / RATE)
    return {
        **({} if share is None else {"engine.soak.misses_quota": quota_misses}),
        "engine.soak.seconds": seconds,
        "engine.soak.blocks": report["blocks"],
        "engine.soak.deadline_misses": report["xruns"],
        "engine.soak.misses_engine": sum(miss["cause"] == "engine" for miss in explained),
        "engine.soak.misses_machine": sum(miss["cause"] == "machine" for miss in explained),
        "engine.soak.block_latency_median_ms": report["block_latency_median_ms"],
        "engine.soak.block_latency_p99_ms": report["block_latency_p99_ms"],
        "engine.soak.block_latency_max_ms": report["worst_block_ms"],
        "engine.soak.edits": edits,
        "engine.soak.training_epochs": epochs,
        **memory,
    }


def _held_back(explained: list[dict[str, Any]], throttles: np.ndarray, period: float) -> int:
    """The engine's misses whose window (as in :func:`explain_misses`) overlaps a stretch between two
    readings of the quota's throttle count in which the count rose."""
    rose = np.flatnonzero(np.diff(throttles[:, 1]) > 0) if len(throttles) > 1 else np.zeros(0, int)
    starts, ends = throttles[rose, 0], throttles[rose + 1, 0]
    held = 0
    for miss in explained:
        if miss["cause"] != "engine":
            continue
        called = miss["called"]
        window_start = called - (miss["gap_ms"] + miss["previous_write_ms"]) / 1e3 - period
        held += bool(((starts < called + period) & (ends > window_start)).any())
    return held


def _memory(audio: int | None, training: int | None) -> dict[str, float]:
    figures = {"engine.rss_mb.audio": resident_mb(audio or 0), "engine.rss_mb.control": resident_mb(),
               "engine.rss_mb.training": resident_mb(training or 0)}
    shares = [proportional_mb(audio or 0), proportional_mb(), proportional_mb(training or 0)]
    figures["engine.pss_mb.audio"], figures["engine.pss_mb.control"], figures["engine.pss_mb.training"] = shares
    figures["engine.pss_mb.total"] = sum(shares)
    return figures


def flood(seconds: float, period: int = 64) -> dict[str, float]:
    """The control side sends states as fast as it can for ``seconds``; figures keyed ``engine.flood.*``."""
    rng = np.random.default_rng(2)
    states = [PlayState(Pattern(rng.integers(0, 256, (4, 16), dtype=np.uint8)), float(tempo))
              for tempo in rng.integers(60, 200, 64)]
    settings = EngineSettings("none", period=period, pace=True, frames=round((seconds + 1) * RATE))
    probe = Probe(seconds + 5).start()
    audio = AudioProcess(settings, states[0]).start()
    durations = np.zeros((10_000_000, 2))         # wall and on-CPU seconds per send
    sent = 0
    try:
        while audio.status().blocks == 0 and audio.is_alive():
            time.sleep(0.001)
        end = time.perf_counter() + seconds
        while (started := time.perf_counter()) < end and sent < len(durations):
            on_cpu = time.thread_time()
            audio.send(states[sent % 64])
            durations[sent] = (time.perf_counter() - started, time.thread_time() - on_cpu)
            sent += 1
        last = PlayState(GROOVE, 111.0)
        audio.send(last)
        report = audio.wait(30.0)
    finally:
        audio.stop()
    sends, on_cpu = durations[:sent, 0], durations[:sent, 1]
    explained = explain_misses(report["misses"], probe.late_wakeups(), period / RATE)
    return {
        "engine.flood.seconds": seconds,
        "engine.flood.sends": sent,
        "engine.flood.send_median_us": float(np.median(sends)) * 1e6,
        "engine.flood.send_p999_ms": float(np.percentile(sends, 99.9)) * 1e3,
        "engine.flood.send_max_ms": float(sends.max()) * 1e3,
        "engine.flood.send_max_on_cpu_ms": float(on_cpu.max()) * 1e3,
        "engine.flood.sends_over_0.1ms": int((sends > 1e-4).sum()),
        "engine.flood.blocks": report["blocks"],
        "engine.flood.states_taken": report["states_taken"],
        "engine.flood.deadline_misses": report["xruns"],
        "engine.flood.misses_engine": sum(miss["cause"] == "engine" for miss in explained),
        "engine.flood.misses_machine": sum(miss["cause"] == "machine" for miss in explained),
        "engine.flood.worst_block_ms": report["worst_block_ms"],
        "engine.flood.block_latency_p99_ms": report["block_latency_p99_ms"],
        "engine.flood.last_state_played": float(report["final_state"][0] == last.tempo),
    }


def machine_wakeups(seconds: float = 10.0, period: int = 64) -> dict[str, float]:
    """How late this machine wakes a sleeping process at each period: the noise floor under the soak.

    No engine code runs here; a wake-up later than the device buffer's slack
    would be a deadline miss for any engine.
    """
    slack = 2 * period / RATE
    lateness = np.empty(int(seconds * RATE / period))
    deadline = time.perf_counter()
    for index in range(len(lateness)):
        deadline += period / RATE
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
    flood_seconds = float(os.environ.get("BREAKAGE_PI_FLOOD_SECONDS", "10"))
    print(f"  soak of {seconds:g} s at 64 x {periods} frames, then a flood of edits for {flood_seconds:g} s "
          "(set BREAKAGE_PI_SOAK_SECONDS, BREAKAGE_PI_SOAK_PERIODS, BREAKAGE_PI_FLOOD_SECONDS to change)",
          file=sys.stderr)
    return {**soak(seconds, periods=periods), **flood(flood_seconds), **machine_wakeups(), **alsa_latencies()}
