"""The daemon's takes: SHIFT + the take pad starts and stops one, ``[takes] auto`` records from the first PLAY.

The control loop tells :class:`Takes` where the engine is (:meth:`~Takes.at`),
each panel action (:meth:`~Takes.action`, or :meth:`~Takes.input` for a
hardware event), each drum note MIDI in took (:meth:`~Takes.note`), each
state the engine adopted (:meth:`~Takes.adopted`, or
:meth:`~Takes.sent` and :meth:`~Takes.update` when the engine runs in its
own process) and the take pad's effect (:meth:`~Takes.toggle`); :meth:`~Takes.poll`
is one of its sources (the take pad's light). Audio comes from the engine
through a :class:`~breakage_pi.audio.take_ring.FrameRing` (:attr:`Takes.tap`).
Disk work happens on a writer thread (live) or in the lockstep loop between
blocks (scripted sessions, so a take there is deterministic). The free space
is checked before a take starts and as it records; below ``[takes] floor_mb``
the take ends with a message and the instrument plays on.
"""

from __future__ import annotations

import datetime
import logging
import threading
from pathlib import Path
from typing import Any, Callable

from ..audio.take_ring import FrameRing, ring_bytes
from ..core.events import ButtonEvent, InputEvent, KnobEvent, PadEvent
from ..core.instrument import Instrument, TakeRecording
from ..core.playstate import PlayState
from ..core.saved import saved_to_data
from ..core.script import ScriptEvent
from ..core.settings import AudioConfig, MidiConfig, TakesConfig
from . import take_folder
from .take_recorder import TakeRecorder, free_bytes

log = logging.getLogger("breakage_pi")

RING_SECONDS = 4.0
"""The ring holds this much audio: the writer may fall this far behind (a slow SD card) before audio drops."""
WRITER_WAKE_S = 0.1


class Takes:
    """Takes for one session of the daemon; ``shared``: the ring must cross to an audio process.

    ``enabled`` False (replaying a take) makes the take pad say so and record nothing. ``midi``: the
    session's ``[midi]``, whose MIDI in settings each take keeps (its replay plays the notes with them);
    ``learn``: ``[nets] learn``, kept too (corrections retrain the nets in the replay as they did).
    """

    def __init__(self, config: TakesConfig, data_root: Path, rate: int, period: int, shared: bool,
                 enabled: bool = True, midi: MidiConfig = MidiConfig(), learn: str = "auto") -> None:
        self.config, self.data_root, self.rate, self.period = config, Path(data_root), rate, period
        self.enabled = enabled
        self.midi_in = take_folder.midi_in_settings(midi)
        self.learn = learn
        capacity = round(RING_SECONDS * rate)
        if shared:
            from ..children import child_context

            memory: Any = child_context().RawArray("b", ring_bytes(capacity))
        else:
            memory = bytearray(ring_bytes(capacity))
        self.tap = (memory, capacity)
        self.ring = FrameRing(memory, capacity)
        self.recorder: TakeRecorder | None = None
        self.threaded = shared
        self.frame = 0
        self.offset = 0
        self.xruns = 0
        self.finished: list[Path] = []
        """The folders of the takes ended so far, oldest first."""
        self.on_finished: Callable[[Path], None] = lambda folder: None
        """Told (from the writer) each take's folder once all its files are written: USB sync reads its digests
        then, ahead of a pull."""
        self._pass: list[tuple[int, ScriptEvent]] = []
        self._buttons: set[str] = set()
        self._state: Instrument | None = None
        self._playing: PlayState | None = None
        self._sent: dict[int, PlayState] = {}
        self._serial = 0
        self._auto_done = False
        self._news: list[bool] = []
        self._writer: _Writer | None = None

    # -- the control loop, each pass --

    def at(self, frame: int, xruns: int = 0, offset: int | None = None, period: int = 0) -> None:
        """The engine has reached session ``frame`` (``offset``: frames of earlier audio processes; ``period``:
        the block size it was granted, 0 if not known)."""
        if offset is not None:
            self.offset = offset
        self.period = period or self.period
        self.frame, self.xruns = frame, xruns
        self._pass.clear()
        recorder = self.recorder
        if recorder is not None and recorder.origin is None and self.ring.recording(recorder.take):
            recorder.origin = self.offset + self.ring.first_frame

    def action(self, event: ScriptEvent, state: Instrument) -> None:
        """A panel action now (pad, button or knob, as a script line says it)."""
        if event.kind == "button":
            if (self.config.auto and self.enabled and not self._auto_done and event.name == "play" and event.down
                    and not state.playing and self.recorder is None):
                self._auto_done = True
                self._pass.append((self.frame, event))
                self.start(state, "auto (from the first PLAY)")
                return
            (self._buttons.add if event.down else self._buttons.discard)(event.name)
        self._record(event)

    def note(self, note: int, velocity: int, channel: int) -> None:
        """MIDI in took a drum note now (MIDI ``note``, ``velocity`` 1-127, ``channel`` 1-16, as it arrived):
        the player played it, so the take keeps it as a ``note`` line."""
        self._record(ScriptEvent(0.0, "note", note=note, velocity=velocity, channel=channel))

    def _record(self, event: ScriptEvent) -> None:
        self._pass.append((self.frame, event))
        if self.recorder is not None:
            self.recorder.action(event, self.frame)

    def input(self, event: InputEvent, state: Instrument) -> None:
        """A hardware event (live) as a panel action: a pad, a button, a pot's position, an encoder's turn (one
        line a detent, as it reports them) or its push."""
        if isinstance(event, PadEvent):
            self.action(ScriptEvent(0.0, "pad", row=event.row, column=event.column, down=event.pressed), state)
        elif isinstance(event, ButtonEvent) and event.action in ("pressed", "released"):
            knob, push = event.name.split(".", 1) if "." in event.name else ("", "")
            if push == "push":
                self.action(ScriptEvent(0.0, "push", name=knob, down=event.action == "pressed"), state)
            elif not push:
                self.action(ScriptEvent(0.0, "button", name=event.name, down=event.action == "pressed"), state)
        elif isinstance(event, KnobEvent) and event.value is not None:
            self.action(ScriptEvent(0.0, "knob", name=event.name, value=event.value), state)
        elif isinstance(event, KnobEvent) and event.delta:
            self.action(ScriptEvent(0.0, "turn", name=event.name, detents=event.delta), state)

    def adopted(self, play: PlayState, state: Instrument, frame: int | None = None) -> None:
        """The engine plays ``play`` from session ``frame`` (default: now)."""
        self._playing, self._state = play, state
        if self.recorder is not None:
            self.recorder.adopted(play, self.frame if frame is None else frame, state.output_rows, state.net_label)

    def sent(self, serial: int, play: PlayState) -> None:
        """Live: ``play`` went to the audio process under ``serial`` (adopted when its board says so)."""
        self._sent[serial] = play

    def update(self, state_serial: int, state_frame: int) -> None:
        """Live: the status board's newest adopted serial and the frame (of this audio process) it took it at."""
        if state_serial != self._serial and state_serial in self._sent and self._state is not None:
            self.adopted(self._sent[state_serial], self._state, self.offset + state_frame)
            self._serial = state_serial
            self._sent = {number: play for number, play in self._sent.items() if number > state_serial}

    def restarted(self, offset: int) -> None:
        """Live: a new audio process (a new kit) starts at session frame ``offset``; its serials start again."""
        self.offset, self._serial, self._sent = offset, 0, {}

    def passed(self, step: int, state: Instrument) -> None:
        """After the pass: the playhead (for bars per slot) and what a failing writer says."""
        self._state = state
        if self.config.auto and self.enabled and not self._auto_done and state.playing and self.recorder is None:
            self._auto_done = True          # playing from the start (autoplay, a followed clock): record from now
            self.start(state, "auto (playing from the start)")
        recorder = self.recorder
        if recorder is None:
            return
        recorder.passed(step, state.slot, self.xruns)
        recorder.corrections(state.tally, len(state.bank.corrections))
        if not self.threaded:
            reason = recorder.pump()
            if reason:
                self.stop(reason)
        elif self._writer is not None and self._writer.failure:
            self.stop(self._writer.failure)

    def toggle(self, state: Instrument) -> None:
        """The take pad (SHIFT + row 4, column 12): start a take, or stop the one recording."""
        if not self.enabled:
            log.info("takes are off while a take is replayed")
        elif self.recorder is None:
            self.start(state, "from the grid")
        else:
            self.recorder.corrections(state.tally, len(state.bank.corrections))    # up to the take pad's press
            self.stop("stopped from the grid")

    def poll(self, now: float) -> list[TakeRecording]:
        """A control loop source: the take pad's light when a take starts or ends."""
        news, self._news = self._news, []
        return [TakeRecording(on, now) for on in news]

    # -- starting and ending --

    def start(self, state: Instrument, why: str) -> None:
        floor = round(self.config.floor_mb * 1e6)
        try:
            free = free_bytes(self.data_root)
            if free < floor:
                log.warning("no take: the data directory has %.0f MB free, under the floor of %.0f MB "
                            "([takes] floor_mb); make room (pull old takes, then breakage-pi sync rm take/NAME) to record",
                            free / 1e6, floor / 1e6)
                return
            started = datetime.datetime.now(datetime.timezone.utc)
            folder = take_folder.new_take_folder(self.data_root, started)
            recorder = TakeRecorder(folder, self.ring, self.rate, self.period, floor, started,
                                    exact=not state.playing and not self.threaded, live=self.threaded, xruns=self.xruns,
                                    net_channels=tuple(c for c, role in enumerate(state.net_roles) if role == "out"),
                                    midi_in=self.midi_in, learn=self.learn, corrections=(state.tally, len(state.bank.corrections)))
        except OSError as error:
            log.error("no take: %s", error)
            return
        self.recorder = recorder
        if self._playing is not None:
            recorder.adopted(self._playing, self.frame, state.output_rows, state.net_label)
        for held in sorted(self._buttons):
            recorder.action(ScriptEvent(0.0, "button", name=held, down=True), self.frame)
        for frame, event in self._pass:
            recorder.action(event, frame)
        if not self.threaded:
            recorder.origin = self.frame        # the engine records from the block about to render
        start_files = (state.bank, _start_settings(state), self._net_files())
        log.info("take %s started (%s) in %s", folder.name, why, folder.parent)
        self._news.append(True)
        if self.threaded:
            self._writer = _Writer(recorder, start_files, lambda folder: self.on_finished(folder))
        else:
            _write_start(recorder, start_files)

    def _net_files(self) -> list[tuple[str, bytes]]:
        nets = self.data_root / "nets"
        return [(path.name, path.read_bytes()) for path in sorted(nets.glob("*.onnx"))] if nets.is_dir() else []

    def stop(self, reason: str) -> None:
        """End the take recording (if any): the engine stops feeding it at once, the files follow."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        recorder.stop()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.finish(reason)
        else:
            _finish(recorder, reason)
            self.on_finished(recorder.folder)
        self.finished.append(recorder.folder)
        self._news.append(False)
        if reason.startswith(("stopped", "the session")):
            log.info("take %s: %s", recorder.folder.name, reason)
        else:
            log.warning("take %s ended: %s; the instrument plays on", recorder.folder.name, reason)

    def close(self) -> None:
        """The session ends: end the take recording, and wait for its files."""
        writer = self._writer
        self.stop("the session ended")
        if writer is not None:
            writer.join()


def _start_settings(state: Instrument) -> dict[str, Any]:
    """``state.json`` as the take starts, without the pots' positions: the replay's pots start unknown, as a
    session's do (measured: a known NET pot position at the start changed what the net played in PERFORM, so
    a take with positions did not replay byte for byte). A take replays exactly from a fresh session's pots."""
    settings = saved_to_data(state)
    settings.pop("knobs", None)
    return settings


def wire_takes(config: TakesConfig, audio: AudioConfig, data_root: Path, controller: Any, shared: bool,
               enabled: bool = True, midi: MidiConfig = MidiConfig(), learn: str = "auto") -> Takes:
    """The session's takes, wired to ``controller`` (a :class:`~.controller.Controller`): the take pad, the
    hardware's events (``shared``: live, the engine in its own process) and the take pad's light. MIDI in's
    notes come through :meth:`Takes.note` (the caller hands it to the readers)."""
    from ..audio.period import CHOICES

    period = audio.period if isinstance(audio.period, int) else CHOICES[0]     # lockstep's; live: the granted one
    takes = Takes(config, data_root, audio.rate, period, shared, enabled, midi, learn)
    controller.on_take = lambda: takes.toggle(controller.state)
    if shared:
        controller.on_input = lambda event: takes.input(event, controller.state)
    controller.add_source(takes.poll)
    return takes


def _write_start(recorder: TakeRecorder, start_files: tuple[Any, dict[str, Any], list[tuple[str, bytes]]]) -> None:
    take_folder.write_start(recorder.folder, *start_files)
    take_folder.write_info(recorder.folder, recorder.running_info())


def _finish(recorder: TakeRecorder, reason: str, settle_s: float = 0.0) -> None:
    try:
        recorder.finish(reason, settle_s)
    except OSError as error:
        log.error("take %s: its files could not all be written: %s", recorder.folder.name, error)


class _Writer:
    """The live daemon's writer thread for one take: start files, then the audio every ~0.1 s, then the rest."""

    def __init__(self, recorder: TakeRecorder, start_files: tuple[Any, dict[str, Any], list[tuple[str, bytes]]],
                 on_finished: Callable[[Path], None]):
        self.recorder = recorder
        self.on_finished = on_finished
        self.failure = ""
        self._reason = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(start_files,), name="take-writer", daemon=True)
        self._thread.start()

    def _run(self, start_files: tuple[Any, dict[str, Any], list[tuple[str, bytes]]]) -> None:
        try:
            _write_start(self.recorder, start_files)
        except OSError as error:
            self.failure = f"the take's files could not be written: {error}"
        while not self._stop.wait(WRITER_WAKE_S):
            if not self.failure:
                self.failure = self.recorder.pump()
        _finish(self.recorder, self._reason, settle_s=0.05)
        self.on_finished(self.recorder.folder)

    def finish(self, reason: str) -> None:
        self._reason = reason
        self._stop.set()

    def join(self, timeout: float = 30.0) -> None:
        self._thread.join(timeout)
