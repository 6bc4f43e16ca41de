"""The lockstep engine of scripted sessions: the audio engine in this process, the control loop stepped
before each block at that block's audio time, so the same script gives the same audio byte for byte,
paced or not.

Before each block: the script's actions due by then go through the emulated
bus and pins, one grid pass, the knobs, the state machine and inference. A
scripted press waits for the emulated firmware's key scan, whose time jumps
there (no real-time wait); new nets take over exactly
:data:`~.trainer.LOCKSTEP_TRAIN_S` of audio after TRAIN.
"""

from __future__ import annotations

import math
from collections import deque
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..core.instrument import Instrument
from ..core.playstate import PlayState
from ..core.script import ScriptEvent
from ..core.settings import Config
from .errors import AppError
from .kits import kit_to_play
from .live import engine_settings, session_frames
from .sim import bring_up, show_now, sim_hardware
from .startup import open_instrument
from .stop import StopSignals
from .sync_link import serve_sync
from .takes import wire_takes
from .trainer import LOCKSTEP_TRAIN_S

LOCKSTEP_SETTLE_S, LOCKSTEP_IDLE_POLL_S = 0.5, 0.25
"""In lockstep the knobs are read every ``knob_poll_ms`` for this long after a scripted action (the
pots' smoothing settles), and every ``LOCKSTEP_IDLE_POLL_S`` otherwise (reading the emulated ADC over
mock SPI costs ~1 ms, and nothing but the script moves the pots)."""
SCANS_PER_PRESS = 20
"""In lockstep, the emulated boards' key scans a scripted press may take to reach the control loop (one,
unless a read is refused and retried) before the session gives up."""
GRACE_S = 1.0
"""With no ``--seconds`` a session lasts until this long after its last action (an empty script: this long)."""

FramePrinter = Callable[[float, np.ndarray, Instrument], None]
"""Hears the panel's LEDs (time in s, the (4, 16, 3) RGB frame, the state they show) every ``frame_every_ms``
of audio, from the first frame the grid has shown."""


def run_script(config: Config, data_dir: Path, script: Sequence[ScriptEvent], stop: StopSignals, *,
               seconds: float | None = None, device: str | None = None, pace: bool = False,
               on_frame: FramePrinter | None = None, frame_every_ms: float | None = None,
               replaying_take: bool = False) -> dict[str, Any]:
    """Play ``script`` on the emulated panel of ``config``'s wiring with the data in ``data_dir``, into
    ``device`` (the config's by default; ``pace``: in real time) for ``seconds`` of audio (see
    :data:`GRACE_S`); takes as ``[takes]`` says (none while ``replaying_take``).

    Returns the engine's figures (blocks, xruns, frames), how often the audio clock waited for a training
    run (``training_waits``), the emulated key scans waited for (``scans_waited``) and why the final save
    failed (``save_failure``, None when all is saved).
    """
    from ..audio.engine import Engine
    from ..audio.process import make_sink
    from ..hw.sim.rig import unplayable

    for event in script:                    # before anything opens: a knob line for an encoder, a turn for a pot
        why = unplayable(config, event)
        if why:
            hint = "; replay it with the config of the panel it was recorded on (--config)" if replaying_take else ""
            raise AppError(f"the action at {event.time_ms:g} ms cannot be played on this panel: {why}{hint}")
    settings = engine_settings(config.audio, device, pace)
    probe = make_sink(settings)             # before the data directory: an unusable device leaves nothing behind
    probe.open()
    probe.close()
    loop = Lockstep(config, data_dir, script, stop, on_frame, frame_every_ms, replaying_take)
    engine = Engine(loop.player, lambda: make_sink(settings), loop, tap=loop.takes.ring)
    loop.status = engine.status
    frames = session_frames(seconds, config.audio.rate)
    if frames is None:
        last_ms = script[-1].time_ms if script else 0.0
        frames = math.ceil((last_ms / 1000 + GRACE_S) * config.audio.rate)
    save_failure: str | None = None
    try:
        engine.run(frames, wait_for_device=False)
    finally:
        save_failure = loop.close()
    return {"blocks": engine.blocks, "xruns": engine.xruns, "frames": loop.player.frame,
            "training_waits": loop.controller.trainer.waits, "scans_waited": loop.scans_waited,
            "save_failure": save_failure}


class Lockstep:
    """The control loop of a scripted session, run by the in-process engine before each block (it is
    the engine's command source: :meth:`take`), at that block's audio time: the script's actions due
    by then go through the emulated bus and pins, one grid pass, the knobs, the state machine and the
    nets; the newest snapshot goes back to the engine for that very block."""

    serial = 0          # the engine's command source numbers no states

    def __init__(self, config: Config, data_dir: Path, script: Sequence[ScriptEvent], stop: StopSignals,
                 on_frame: FramePrinter | None = None, frame_every_ms: float | None = None,
                 replaying_take: bool = False) -> None:
        from ..audio.kit import load_kit
        from ..audio.player import Player
        from ..hw.sim.clock import FastForwardClock
        from .midi_link import MidiOut, ScriptedMidi, midi_out_path

        self.stop, self.addresses = stop, config.grid.addresses
        self.on_frame, self.frame_every_ms = on_frame, frame_every_ms
        self.rate = config.audio.rate
        self.now = 0.0
        self.handed: list[PlayState] = []
        self.controller, data = open_instrument(data_dir, config.instrument, self.handed.append,
                                               lambda frame: self.show(frame), LOCKSTEP_TRAIN_S, config.nets,
                                               notes=config.midi.input)
        self.firmware = FastForwardClock()
        self.rig, self.hardware, self._restore_pins = sim_hardware(config, self.controller.state,
                                                                    self.controller.post, lambda: self.now, None,
                                                                    self.firmware)
        show_now(self.hardware, self.controller.state)
        bring_up(self.hardware.grid)

        def kit() -> Any:
            return load_kit(*kit_to_play(self.controller.state, data), rate=self.rate)

        self.player = Player(kit(), self.controller.state.play_state(), max_block=1024)
        midi_path = midi_out_path(config.midi)
        self.midi = None if midi_path is None else MidiOut(midi_path, self.rate, self.player.state)
        self.sync = serve_sync(config.sync, self.controller, data)
        self.scripted_midi = ScriptedMidi(config.midi, self._position) \
            if any(event.kind == "note" for event in script) else None
        if self.scripted_midi is not None:
            self.controller.add_source(self.scripted_midi.reader.poll)
        self.takes = wire_takes(config.takes, config.audio, data.root, self.controller, shared=False,
                                enabled=not replaying_take, midi=config.midi,
                                learn=config.nets.learn)
        if self.scripted_midi is not None:
            self.scripted_midi.reader.on_note = self.takes.note     # a take records the notes taken, as live
        self.controller.on_kit = lambda name: self.player.use_kit(kit())
        self.script = deque(script)
        self.status: Any = None
        self._knob_period = config.knob_poll_ms / 1000
        self._button_settle = config.buttons.debounce_ms / 1000 + self._knob_period
        self._next_knob_poll = self._busy_until = self._next_print = 0.0
        self._last_block = -1
        self.scans_waited = 0
        """The emulated boards' key scans jumped to so far, to deliver scripted presses."""

    def show(self, frame: np.ndarray) -> None:
        self.hardware.show(frame)

    def take(self) -> object:
        """None, or the snapshot (or STOP) for the block about to render."""
        from ..audio.handover import STOP

        frame = self.player.frame
        if frame == self._last_block:
            return None                     # asked again within the same block: nothing more
        self._last_block = frame
        if self.stop.requested:
            return STOP
        self.now = now = frame / self.rate
        status = self.status.read()         # the engine has published everything of the last block
        self.takes.at(frame, status.xruns)
        self._act(frame)
        self.hardware.grid.step()
        if now >= self._next_knob_poll:
            self.hardware.controls.poll()
            busy = now < self._busy_until
            self._next_knob_poll = now + (self._knob_period if busy else LOCKSTEP_IDLE_POLL_S)
        self.controller.iterate(now, status.step, status.switched)
        if self.on_frame is not None and self.frame_every_ms and now >= self._next_print:
            pixels = self.rig.pixels()
            if pixels.any():            # from the first frame the grid has shown (never a blank one)
                self._next_print = now + self.frame_every_ms / 1000
                self.on_frame(now, pixels, self.controller.state)
        latest = self.handed[-1] if self.handed else None
        self.handed.clear()
        if latest is not None:
            self.takes.adopted(latest, self.controller.state)
        self.takes.passed(status.step, self.controller.state)
        if self.midi is not None:
            self.midi.advance(frame)
            if latest is not None:
                self.midi.adopted(latest, frame)
        return latest

    def _act(self, frame: int) -> None:
        """Carry out the script's actions due by ``frame``, each delivered before the next."""
        while self.script and self.script[0].time_ms * self.rate <= frame * 1000:
            event = self.script.popleft()
            if event.kind == "note":    # MIDI in: read in this block's control pass, and a take hears it there
                assert self.scripted_midi is not None
                self.scripted_midi.send(event)
                continue
            delivered = self.hardware.grid.stats.events + 1
            self.rig.apply(event)
            self.takes.action(event, self.controller.state)
            if event.kind == "pad":
                self._deliver(delivered)
                continue
            # the knobs are read at once, then every knob_poll_ms while the pots' smoothing settles
            # or a button's debounce window closes
            settle = LOCKSTEP_SETTLE_S if event.kind == "knob" else self._button_settle
            self._busy_until = max(self._busy_until, self.now + settle)
            self._next_knob_poll = self.now

    def _deliver(self, events: int) -> None:
        """Step the grid until it has posted ``events`` pad events. The emulated boards' firmware queues a
        press only on its 10 ms key scan: their time jumps to the next scan rather than waiting for it, so
        a scripted press is delivered at the audio time it was scripted, in time independent of the
        machine (the audio clock waits for it: lockstep)."""
        bus, grid = self.rig.bus, self.hardware.grid
        boards = [bus.board(address) for address in self.addresses]
        for _ in range(SCANS_PER_PRESS):
            if grid.stats.events >= events:
                return
            bus.catch_up()
            self.firmware.skip_to(max(board.next_scan_at for board in boards))    # every board scans once
            bus.catch_up()
            self.scans_waited += 1
            grid.step()
        if grid.stats.events < events:
            raise AppError("the emulated grid did not deliver a scripted press")

    def _position(self) -> tuple[int, int, int]:
        """Where the engine stands at this block's start (exact: it runs in this process)."""
        column, begin, length = self.player.current_step_span()
        return column, self.player.frame - begin, length

    def close(self) -> str | None:
        """Save and let go of everything; returns why the final save failed (None: all saved)."""
        if self.scripted_midi is not None:
            self.scripted_midi.close()
        if self.sync is not None:
            self.sync.close()
        if self.midi is not None:
            self.midi.close(self.player.frame)
        failure = self.controller.shutdown()
        self.takes.close()
        self.hardware.close()
        self.rig.close()
        self._restore_pins()
        return failure
