"""``breakage-pi bench instrument``: the whole instrument, from a pad to the sound.

- ``instrument.press_to_sound_p99_ms`` (and the median): an emulated pad
  press on the bus at the default 100 kHz (its timing model on, the boards'
  firmware scanning its keys every 10 ms in real time) through the grid
  thread, the control loop, the state machine and the net's inference
  (PERFORM, an input row), to the engine, in its own process, rendering the
  changed state: the first block it publishes after the snapshot was handed
  over. ``scan_to_sound`` starts the clock when the firmware's key scan saw
  the press (the INT line falls): the part the instrument's code controls,
  and ``grid``, ``control`` and ``engine`` split it (INT to the pad event, to
  the snapshot handed over, to the block rendered).
- ``instrument.sim.*``: the same two figures on simulated time, free of
  this machine's other load (wall-clock p99s here move by 3x between runs).
  Each press is the sum of its parts, each either on the emulator's clock
  or measured as CPU time: the wait for the chip's next key scan and the
  bus transfers at the configured speed (``bench grid``'s simulated grid,
  the playhead moving as while playing); the control loop's CPU time for
  the iteration that turned the pad event into a snapshot (state machine
  and net inference, measured in the live run above); the wait for the
  engine's next block start (the snapshot lands at a uniformly random
  moment of a period, seeded); and the CPU time of rendering one block
  (the instrument's kit and playing state at the engine's period). Waking
  the control loop and the engine is taken as immediate, which it is not
  on a busy machine: that is what the wall-clock figures show.
- ``instrument.cold_start_s``: ``breakage-pi run --sim --headless`` started
  as a process until it logs its first audio block.
- ``instrument.rss_mb`` / ``instrument.pss_mb``: the daemon and its audio
  process, summed (RSS counts shared pages in each process; PSS shares them
  out), a second after start.
- ``instrument.train_to_play_s``: TRAIN recognised (the long press) to the
  engine playing the new nets' hats, 16 training slots (median of 3);
  ``instrument.train_deadline_misses``: the engine's deadline misses while
  those trainings ran beside it (goal 0; on a shared VM a stall of the
  machine counts too, see ``engine.soak.misses_machine``).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

PRESSES = 200
TRAIN_RUNS = 3


class _LiveInstrument:
    """The live daemon's parts in this process (the engine in its own), its loop on a thread."""

    def __init__(self, data_dir: Path) -> None:
        self.int_fell: list[float] = []
        from ..audio.process import AudioProcess
        from ..core.settings import Config
        from ..daemon.controller import quick_thread_switches
        from ..daemon.live import engine_settings
        from ..daemon.sim import sim_hardware
        from ..daemon.startup import open_instrument

        quick_thread_switches()             # as the daemon does
        config = Config()
        self.sent: list[tuple[float, int, Any, Any]] = []   # when, engine blocks then, snapshot, nets playing
        self.controller, _ = open_instrument(data_dir, config.instrument, self._send, lambda frame: None)
        self.audio = AudioProcess(engine_settings(config.audio, "none", pace=True),
                                  self.controller.state.play_state()).start()
        self.events: list[tuple[float, Any]] = []
        self.rig, self.hardware, self._restore_pins = sim_hardware(
            config, self.controller.state, self._post, time.monotonic, config.grid.frequency)
        self.rig.bus.add_int_listener(lambda asserted: self.int_fell.append(time.perf_counter()) if asserted else None)
        self.hardware.start()
        deadline = time.monotonic() + 20
        while not all(self.hardware.grid.online) or self.audio.status().blocks == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the instrument did not come up")
            time.sleep(0.01)
        self.control_cpu: list[float] = []       # CPU seconds of each loop iteration that handed a snapshot over
        self._running = True
        self._loop = threading.Thread(target=self._run, name="control", daemon=True)
        self._loop.start()

    def _post(self, event: Any) -> None:
        self.events.append((time.perf_counter(), event))
        self.controller.post(event)

    def _send(self, play: Any) -> None:
        self.sent.append((time.perf_counter(), self.audio.status().blocks, play, self.controller.nets.bank))
        self.audio.send(play)

    def _run(self) -> None:
        while self._running:
            status = self.audio.status()
            sent, cpu = len(self.sent), time.thread_time()
            self.controller.iterate(time.monotonic(), status.step, status.switched)
            if len(self.sent) > sent:
                self.control_cpu.append(time.thread_time() - cpu)
            self.controller.wait(0.005)

    def played(self, since: int, wanted: Callable[[Any], bool], timeout: float = 5.0) -> tuple[float, float]:
        """Wait for the first snapshot after the ``since``-th that is ``wanted`` (given the ``sent`` entry),
        then for the engine to
        render a block with it; returns (when it was handed over, when that block was published)."""
        deadline = time.monotonic() + timeout
        index = since
        while True:
            while index < len(self.sent) and not wanted(self.sent[index]):
                index += 1
            if index < len(self.sent):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the expected playing state never came")
            time.sleep(0.0001)
        handed, blocks, _, _ = self.sent[index]
        while self.audio.status().blocks <= blocks:
            time.sleep(0.0001)
        return handed, time.perf_counter()

    def close(self) -> None:
        self._running = False
        self._loop.join()
        self.controller.shutdown()
        self.hardware.close()
        self.rig.close()
        self._restore_pins()
        self.audio.stop()


def _data_dir(root: Path, bank: Any = None, mode: str = "perform") -> Path:
    from ..core.saved import STATE_FORMAT
    from ..daemon.datadir import DataDir
    from ..store import save_bank

    data = DataDir(root)
    data.prepare()
    if bank is not None:
        save_bank(data.bank, bank)
    data.state.write_text(json.dumps({"format": STATE_FORMAT, "version": 1, "mode": mode}))
    return root


def press_to_sound(root: Path) -> dict[str, float]:
    from ..core.events import PadEvent

    instrument = _LiveInstrument(_data_dir(root / "press"))
    latencies, from_scan, grid, control, engine = [], [], [], [], []
    control_cpu: list[float] = []
    try:
        for index in range(PRESSES):
            column = 1 + 2 * (index % 7)                 # empty kick steps of the demo bank's slot 1
            since, falls, events = len(instrument.sent), len(instrument.int_fell), len(instrument.events)
            started = time.perf_counter()
            instrument.rig.press(0, column)               # adds the kick: the net answers, the hats change
            handed, done = instrument.played(since, lambda sent: sent[2].pattern.velocity(0, column) == 200)
            posted = next(at for at, event in instrument.events[events:] if isinstance(event, PadEvent))
            scanned = instrument.int_fell[falls]
            latencies.append(done - started)
            from_scan.append(done - scanned)
            grid.append(posted - scanned)
            control.append(handed - posted)
            engine.append(done - handed)
            since = len(instrument.sent)
            instrument.rig.release(0, column)
            time.sleep(0.02)
            instrument.rig.press(0, column)               # and takes it out again on release
            time.sleep(0.02)
            instrument.rig.release(0, column)
            instrument.played(since, lambda sent: sent[2].pattern.velocity(0, column) == 0)
            time.sleep(0.01)
        control_cpu = list(instrument.control_cpu)
        period, play_state = instrument.audio.status().period, instrument.controller.state.play_state()
    finally:
        instrument.close()
    figures = {}
    for name, seconds in (("press_to_sound", latencies), ("scan_to_sound", from_scan), ("grid", grid),
                          ("control", control), ("engine", engine)):
        milliseconds = np.array(seconds) * 1e3
        figures[f"instrument.{name}_median_ms"] = float(np.median(milliseconds))
        figures[f"instrument.{name}_p99_ms"] = float(np.percentile(milliseconds, 99))
    figures.update(simulated_press_to_sound(np.array(control_cpu), period, play_state))
    return figures


def block_cpu_seconds(period: int, play_state: Any, blocks: int = 3000) -> np.ndarray:
    """CPU seconds of each of ``blocks`` blocks rendered from ``play_state`` with the built-in kit."""
    from ..audio.kit import load_kit
    from ..audio.player import Player

    player = Player(load_kit(), play_state, max_block=period)
    costs = np.empty(blocks)
    for block in range(-100, blocks):
        started = time.thread_time()
        player.render(period)
        if block >= 0:
            costs[block] = time.thread_time() - started
    return costs


def simulated_press_to_sound(control_cpu: np.ndarray, period: int, play_state: Any,
                             seed: int = 0) -> dict[str, float]:
    """Press-to-sound and scan-to-sound on simulated time (see the module docstring): ``instrument.sim.*``."""
    from .grid import FREQUENCY, _playhead, _simulated

    bus_ms, physical_ms = _simulated(_playhead())            # from the chip's scan, and from the finger
    block_ms = block_cpu_seconds(period, play_state) * 1e3
    rng = np.random.default_rng(seed)
    count = max(len(bus_ms), len(control_cpu))
    pick = lambda values: np.resize(rng.permutation(values), count)    # noqa: E731  each value as often
    control_ms = pick(control_cpu * 1e3)
    wait_ms = rng.uniform(0.0, period / 48.0, count)                    # to the next block start (48 kHz)
    engine_ms = wait_ms + pick(block_ms)
    bus, physical = pick(bus_ms), pick(physical_ms)
    scan_to_sound, press_to_sound = bus + control_ms + engine_ms, physical + control_ms + engine_ms
    print(f"  simulated time: {count} presses, bus at {FREQUENCY // 1000} kHz, period {period} frames, "
          f"control loop CPU p99 {np.percentile(control_ms, 99):.2f} ms, block CPU p99 "
          f"{np.percentile(block_ms, 99) * 1e3:.0f} us", file=sys.stderr)
    figures = {}
    for name, values in (("press_to_sound", press_to_sound), ("scan_to_sound", scan_to_sound), ("grid", bus),
                         ("control_cpu", control_ms), ("engine", engine_ms), ("block_cpu", block_ms)):
        figures[f"instrument.sim.{name}_median_ms"] = float(np.median(values))
        figures[f"instrument.sim.{name}_p99_ms"] = float(np.percentile(values, 99))
    return figures


def train_to_play(root: Path) -> dict[str, float]:
    from ..core.bank import Bank, Slot
    from ..core.pattern import Pattern

    rng = np.random.default_rng(0)
    slots = []
    for index in range(16):
        grid = np.zeros((4, 16), dtype=np.uint8)
        grid[0, ::4] = 200
        grid[1, 4::8] = 180
        grid[0, rng.choice(16, 2, replace=False)] = 150
        grid[3, ::2] = 60 + 8 * index
        grid[2, rng.choice(16, 1)] = 120
        slots.append(Slot(f"slot {index + 1}", True, Pattern(grid)))
    times, misses = [], 0
    for run in range(TRAIN_RUNS):
        instrument = _LiveInstrument(_data_dir(root / f"train{run}", Bank(slots=tuple(slots))))
        try:
            old_nets = instrument.controller.nets.bank
            rig = instrument.rig
            rig.button("shift", True)
            rig.press(3, 15)
            while instrument.controller.state.training is None:    # the long press is recognised
                time.sleep(0.0005)
            started, xruns = time.perf_counter(), instrument.audio.status().xruns
            rig.release(3, 15)
            rig.button("shift", False)
            since = len(instrument.sent)
            _, done = instrument.played(since, lambda sent: sent[3] is not old_nets, timeout=30)
            times.append(done - started)
            misses += instrument.audio.status().xruns - xruns
        finally:
            instrument.close()
    return {"instrument.train_to_play_s": statistics.median(times), "instrument.train_to_play_worst_s": max(times),
            "instrument.train_deadline_misses": misses}


def _memory_mb(pid: int) -> tuple[float, float]:
    """RSS and PSS (MB) of ``pid`` and its children."""
    from ..audio.process import proportional_mb, resident_mb

    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    return sum(resident_mb(each) for each in pids), sum(proportional_mb(each) for each in pids)


def cold_start(root: Path) -> dict[str, float]:
    data = _data_dir(root / "cold", mode="edit")
    starts = []
    memory = (0.0, 0.0)
    for _ in range(3):
        started = time.monotonic()
        daemon = subprocess.Popen([sys.executable, "-m", "breakage_pi.cli", "run", "--sim", "--headless", "--data",
                                   str(data), "--device", "none", "--pace", "--seconds", "2"],
                                  stderr=subprocess.PIPE, text=True)
        assert daemon.stderr is not None
        for line in daemon.stderr:
            if "audio running" in line:
                starts.append(time.monotonic() - started)
                time.sleep(1.0)
                memory = _memory_mb(daemon.pid)
                break
        daemon.stderr.read()
        daemon.wait(30)
    return {"instrument.cold_start_s": statistics.median(starts), "instrument.rss_mb": memory[0],
            "instrument.pss_mb": memory[1]}


def run() -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="breakage-pi-bench-"))
    figures: dict[str, float] = {}
    try:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        figures.update(cold_start(root))
        figures.update(press_to_sound(root))
        figures.update(train_to_play(root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return figures
