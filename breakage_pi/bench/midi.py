"""``breakage-pi bench midi``: a drum note on MIDI in to its sound, and to MIDI out.

- ``midi.live.*`` (wall clock): the live daemon's control side in this
  process, the engine in its own on a paced null device, MIDI in and out
  over FIFOs (as the gadget's rawmidi node). A kick note-on is written into
  the MIDI-in FIFO, in ``record`` and PERFORM with the default nets, so the
  net answers every note; ``note_to_block`` ends when the engine publishes
  the first block rendered with the hit in it (the hit starts at that
  block's first frame), ``note_to_midi_out`` when its note-on can be read
  from the MIDI-out FIFO (written once that block is rendered: MIDI out
  never runs ahead of the audio), ``control`` is the note to the snapshot
  handed over (the loop's wake-up, reading, the state machine, the net).
- ``midi.sim.*``: the same on simulated time, free of this machine's load:
  the control loop's CPU time for the iteration that turned the note into a
  snapshot (measured above; MIDI in's reading thread wakes the loop, taken
  as immediate), the wait for the engine's next block start (uniform over a
  period, seeded) and the CPU time of one block; MIDI out adds the wait for
  the loop's next pass, which writes what the engine has rendered (uniform
  up to its ``LOOP_WAKE_S`` heartbeat).
- ``midi.device_buffer_ms``: what the device's buffer adds before a block
  is heard (periods x period), on top of every ``note_to_block`` figure.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import mido
import numpy as np

NOTES = 150


class _LiveMidi:
    """The live daemon's parts (the engine in its own process), its loop on a thread, MIDI over FIFOs."""

    def __init__(self, root: Path) -> None:
        from ..audio.process import AudioProcess
        from ..core.settings import Config
        from ..daemon.controller import quick_thread_switches
        from ..daemon.live import LOOP_WAKE_S, engine_settings
        from ..daemon.midi_link import EnginePosition, LiveMidiFeed, MidiOut, midi_inputs
        from ..daemon.startup import open_instrument
        from .instrument import _data_dir

        quick_thread_switches()
        self.wake_s = LOOP_WAKE_S
        notes_in, midi_out = root / "midi-in", root / "midi-out"
        os.mkfifo(notes_in)
        os.mkfifo(midi_out)
        self.out_fd = os.open(midi_out, os.O_RDONLY | os.O_NONBLOCK)
        config = Config()
        config = replace(config, midi=replace(config.midi, out=str(midi_out), notes_in=str(notes_in),
                                              input="record"))
        self.sent: list[tuple[float, int, Any]] = []       # when, engine blocks then, snapshot
        self.controller, _ = open_instrument(_data_dir(root / "data"), config.instrument, self._send,
                                             lambda frame: None, notes=config.midi.input)
        initial = self.controller.state.play_state()
        self.settings = engine_settings(config.audio, "none", pace=True)
        self.audio = AudioProcess(self.settings, initial).start()
        self.position = EnginePosition()
        (self.midi_in,) = midi_inputs(config.midi, self.position, self.controller.wake)
        self.controller.add_source(self.midi_in.poll)
        self.feed = LiveMidiFeed(MidiOut(str(midi_out), config.audio.rate, initial))
        self.in_fd = os.open(notes_in, os.O_WRONLY)          # once the reading thread has opened its end
        deadline = time.monotonic() + 20
        while self.audio.status().blocks == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the engine did not come up")
            time.sleep(0.01)
        self.control_cpu: list[float] = []
        self._running = True
        self._loop = threading.Thread(target=self._run, name="control", daemon=True)
        self._loop.start()

    def _send(self, play: Any) -> None:
        self.sent.append((time.perf_counter(), self.audio.status().blocks, play))
        self.audio.send(play)
        self.feed.sent(self.audio.serial, play)

    def _run(self) -> None:
        while self._running:
            status = self.audio.status()
            self.position.update(status)
            self.feed.update(status)
            sent, cpu = len(self.sent), time.thread_time()
            self.controller.iterate(time.monotonic(), status.step, status.switched)
            if len(self.sent) > sent:
                self.control_cpu.append(time.thread_time() - cpu)
            self.controller.wait(self.wake_s)

    def note(self, serial: int, velocity: int) -> tuple[float, float, float]:
        """Send a kick; returns seconds to the snapshot handed over, to the block rendered with it, and to
        its note-on on MIDI out."""
        parser = mido.Parser()
        since = len(self.sent)
        started = time.perf_counter()
        os.write(self.in_fd, bytes(mido.Message("note_on", channel=9, note=36, velocity=velocity).bytes()))
        deadline = time.monotonic() + 5
        while True:
            found = [entry for entry in self.sent[since:] if entry[2].hits and entry[2].hits[-1].serial == serial]
            if found:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the note never reached the engine")
            time.sleep(0.0001)
        handed, blocks, _ = found[0]
        while self.audio.status().blocks <= blocks:
            time.sleep(0.0001)
        rendered = time.perf_counter()
        while not any(m.type == "note_on" and m.note == 36 and m.velocity == velocity for m in parser):
            try:
                parser.feed(os.read(self.out_fd, 4096))
            except BlockingIOError:
                time.sleep(0.0001)
            if time.monotonic() > deadline:
                raise RuntimeError("the note never came out on MIDI out")
        return handed - started, rendered - started, time.perf_counter() - started

    def close(self) -> None:
        self._running = False
        self._loop.join()
        self.controller.shutdown()
        report = self.audio.stop()
        self.feed.out.close(report.get("frames", 0))
        self.midi_in.close()
        os.close(self.in_fd)
        os.close(self.out_fd)


def live(root: Path) -> tuple[dict[str, float], np.ndarray, int, int, Any]:
    from ..core.events import ButtonEvent

    instrument = _LiveMidi(root)
    control, block, midi_out = [], [], []
    try:
        instrument.controller.post(ButtonEvent("play", "pressed", time.monotonic()))
        while not instrument.controller.state.playing:
            time.sleep(0.001)
        for index in range(NOTES):
            velocity = 20 + index % 100                  # a new velocity each note: each is a new hit to write
            handed, rendered, out = instrument.note(index + 1, velocity)
            control.append(handed)
            block.append(rendered)
            midi_out.append(out)
            time.sleep(0.01 + 0.013 * (index % 7) / 7)    # notes at no fixed phase of the blocks
        status = instrument.audio.status()
        period, periods = status.period, instrument.settings.periods
        play_state = instrument.controller.state.play_state()
        control_cpu = np.array(instrument.control_cpu)
        assert instrument.midi_in.notes == NOTES
    finally:
        instrument.close()
    figures = {}
    for name, seconds in (("note_to_block", block), ("note_to_midi_out", midi_out), ("control", control)):
        milliseconds = np.array(seconds) * 1e3
        figures[f"midi.live.{name}_median_ms"] = float(np.median(milliseconds))
        figures[f"midi.live.{name}_p99_ms"] = float(np.percentile(milliseconds, 99))
    return figures, control_cpu, period, periods, play_state


def simulated(control_cpu: np.ndarray, period: int, play_state: Any, wake_s: float,
              seed: int = 0) -> dict[str, float]:
    """The note's way on simulated time (see the module docstring): ``midi.sim.*``."""
    from .instrument import block_cpu_seconds

    block_ms = block_cpu_seconds(period, play_state) * 1e3
    rng = np.random.default_rng(seed)
    count = max(len(block_ms), len(control_cpu))
    pick = lambda values: np.resize(rng.permutation(values), count)    # noqa: E731  each value as often
    control_ms = pick(control_cpu * 1e3)
    engine_ms = rng.uniform(0.0, period / 48.0, count) + pick(block_ms)
    to_block = control_ms + engine_ms
    to_midi_out = to_block + rng.uniform(0.0, wake_s * 1e3, count)
    print(f"  simulated time: {count} notes, period {period} frames, control loop CPU p99 "
          f"{np.percentile(control_ms, 99):.2f} ms, MIDI out written every {wake_s * 1e3:g} ms", file=sys.stderr)
    figures = {}
    for name, values in (("note_to_block", to_block), ("note_to_midi_out", to_midi_out),
                         ("control_cpu", control_ms), ("engine", engine_ms)):
        figures[f"midi.sim.{name}_median_ms"] = float(np.median(values))
        figures[f"midi.sim.{name}_p99_ms"] = float(np.percentile(values, 99))
    return figures


def run() -> dict[str, float]:
    from ..daemon.live import LOOP_WAKE_S

    root = Path(tempfile.mkdtemp(prefix="breakage-pi-bench-midi-"))
    try:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        figures, control_cpu, period, periods, play_state = live(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    figures.update(simulated(control_cpu, period, play_state, LOOP_WAKE_S))
    figures["midi.period_frames"] = period
    figures["midi.device_buffer_ms"] = periods * period / 48.0
    return figures
