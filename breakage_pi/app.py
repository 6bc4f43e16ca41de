"""The instrument daemon: hardware -> state machine -> engine, nets, training and store. Wiring only.

What a press means is :mod:`breakage_pi.core.instrument`'s; this module
carries its effects out. One control loop consumes every input: hardware
events (posted by the grid and controls threads to a queue), the engine's
status board, the training process's reports and any extra pollable
source (:meth:`Controller.add_source`: USB sync's changes, :mod:`breakage_pi.sync_link`;
a followed MIDI clock, :mod:`breakage_pi.midi_link`); :attr:`Controller.alive`
is called once per iteration (a watchdog's hook). Live MIDI out is fed the
states the engine adopts, at the frames it adopts them (:mod:`breakage_pi.midi_link`). Inference runs in this
process; the engine runs in its own (:class:`~breakage_pi.audio.process.AudioProcess`),
training in another (:class:`~breakage_pi.ml.process.TrainingProcess`); saving
happens on a worker thread, never on the audio path.

Two ways to run the loop:

- **live** (:func:`run_live`): the engine keeps real time in its process;
  the loop wakes on hardware events or every few milliseconds.
- **lockstep** (:func:`run_lockstep`, headless scripted sessions): the
  engine runs in this process and, before each block, the loop is stepped at
  that block's audio time — script actions through the emulated bus and
  pins, one grid pass, the knobs, the state machine, inference — so the same
  script gives the same audio byte for byte, paced or not.
"""

from __future__ import annotations

import logging
import math
import queue
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .core.bank import Bank
from .core.errors import BreakageError, FormatError
from .core.events import InputEvent
from .core.instrument import (AbortTraining, Instrument, Leds, Log, NetResult, NetsLoaded, Play, RunNet, Save,
                              SelectKit, StartTraining, Tick, ToggleTake, TrainingFinished, TrainingProgress,
                              TrainingStarted,
                              pick_up_all, step)
from .core.playstate import PlayState
from .core.saved import restore, saved_to_data
from .core.script import ScriptEvent
from .core.settings import Config
from .datadir import DataDir
from .store import quarantine

log = logging.getLogger("breakage_pi")

LOOP_WAKE_S = 0.005
"""The live loop's heartbeat when no event arrives: playhead, blinking, training reports."""
LOCKSTEP_TRAIN_S = 2.0
"""In lockstep, new nets take over exactly this long (audio time) after TRAIN, waiting if need be."""
LOCKSTEP_SETTLE_S, LOCKSTEP_IDLE_POLL_S = 0.5, 0.25
"""In lockstep the knobs are read every ``knob_poll_ms`` for this long after a scripted action (the
pots' smoothing settles), and every ``LOCKSTEP_IDLE_POLL_S`` otherwise (reading the emulated ADC over
mock SPI costs ~1 ms, and nothing but the script moves the pots)."""


TRAINING_CONTEXT = "forkserver"
TRAINING_PRELOAD = ["breakage_pi.ml.process", "breakage_pi.ml.train", "breakage_pi.ml.dataset"]
"""Training runs fork from a server process that has these loaded (see :meth:`Trainer.warm_up`)."""


CONTROL_SWITCH_INTERVAL_S = 0.0005
"""The control process hands the interpreter between its threads (grid, knobs, loop) this often: a pad
event waits less behind another thread's Python (measured with the simulated panel: the loop's median
from pad event to snapshot 1.3 -> 1.0 ms, p99 3.1 -> 2.5 ms)."""


def quick_thread_switches() -> None:
    """Apply :data:`CONTROL_SWITCH_INTERVAL_S` to this (the control) process."""
    sys.setswitchinterval(CONTROL_SWITCH_INTERVAL_S)


class AppError(BreakageError, RuntimeError):
    """The daemon cannot run (the audio process died, the hardware failed to come up)."""


# -- nets and training, as the control loop sees them -------------------------------------------

class Nets:
    """The nets in ``nets/``, sessions ready, answering the state machine's :class:`RunNet`."""

    def __init__(self, data: DataDir) -> None:
        from .ml.netbank import load_net_bank

        def refuse(error: BreakageError, corrupt: bool) -> None:
            if corrupt and Path(getattr(error, "source", "") or "").exists():
                log.error("%s", quarantine(error.source, getattr(error, "message", str(error)))[1])
            else:
                log.error("%s; not played", error)

        self.bank = load_net_bank(data.net_files(), refuse)

    def adopt(self, bank: Any) -> NetsLoaded:
        """Play ``bank`` (a :class:`~breakage_pi.ml.netbank.NetBank`) from now on."""
        self.bank = bank
        return self.loaded()

    def loaded(self) -> NetsLoaded:
        if self.bank is None:
            log.warning("no nets to play: PERFORM plays the pattern as written until you train (SHIFT, hold TRAIN)")
            return NetsLoaded((), ())
        from .ml.train import target_label

        count = len(self.bank)
        labels = tuple(label or target_label(index, count) for index, label in enumerate(self.bank.labels))
        log.info("nets: %s", ", ".join(labels))
        return NetsLoaded(labels, self.bank.roles)

    def check_against(self, bank: Bank) -> None:
        """Say so in the log if the nets were made for other roles or another bank than ``bank``."""
        from .ml.netinfo import mismatch_notes

        if self.bank is not None:
            session = self.bank[0]
            for note in mismatch_notes(session.info, bank, Path(session.source).name or "the nets"):
                log.warning("%s", note)

    def answer(self, request: RunNet) -> NetResult:
        assert self.bank is not None, "the state machine asks for nets only when some are loaded"
        return NetResult(request, self.bank[request.net].apply(request.pattern))


@dataclass
class _Outcome:
    """A finished run made ready off the control loop: the new nets' files and sessions, or why not."""

    detail: str
    files: list[tuple[str, bytes]] = field(default_factory=list)
    bank: Any = None


class Trainer:
    """One training run at a time in its own process; its reports come back as events.

    When the run ends, a worker thread turns the result into net files and
    ready sessions (tens of milliseconds the control loop must not stall
    for); the new nets then replace the old in one step, and their files are
    written by the saver. With ``lockstep_s`` set, that hand-over happens
    exactly ``lockstep_s`` after the start (audio time), waiting if need be,
    so scripted sessions stay deterministic.
    """

    def __init__(self, nets: Nets, saver: Saver, lockstep_s: float | None = None) -> None:
        self._nets, self._saver, self._lockstep_s = nets, saver, lockstep_s
        self._job: Any = None
        self._worker: threading.Thread | None = None
        self._outcome: _Outcome | None = None
        self._started = 0.0
        self.waits = 0
        """How often the lockstep hand-over found the run unfinished and the audio clock had to wait."""

    @staticmethod
    def warm_up() -> None:
        """Start the process that training runs fork from, with the training code loaded, off the
        loop (a spawned interpreter takes ~0.5 s to import numpy and the trainer; a fork of a
        warm one starts in milliseconds)."""
        import multiprocessing
        from multiprocessing import forkserver

        multiprocessing.get_context(TRAINING_CONTEXT).set_forkserver_preload(TRAINING_PRELOAD)
        threading.Thread(target=forkserver.ensure_running, name="training-warm-up", daemon=True).start()

    def start(self, bank: Bank, now: float) -> list[TrainingStarted]:
        from .ml.dataset import bank_training_set
        from .ml.process import TrainingProcess
        from .ml.train import TrainConfig

        self.close()
        config = TrainConfig()
        training_set = bank_training_set(bank)
        self._job = TrainingProcess(training_set, config, context=TRAINING_CONTEXT)
        self._worker, self._outcome, self._started = None, None, now
        self._set = training_set
        return [TrainingStarted(config.targets, now)]

    def abort(self) -> None:
        self.close()

    def poll(self, now: float) -> list[TrainingProgress | TrainingFinished]:
        if self._job is None:
            return []
        events: list[TrainingProgress | TrainingFinished] = []
        due = self._lockstep_s is None or now >= self._started + self._lockstep_s
        if self._worker is None:
            if due and self._lockstep_s is not None and not self._job.finished:
                self.waits += 1
                self._job.result()                  # due now: wait for it (the audio clock waits too)
            events += [TrainingProgress(epoch, error, now) for epoch, error in self._job.progress()]
            if self._job.finished:
                self._worker = threading.Thread(target=self._prepare, args=(self._job, self._set),
                                                name="nets-ready", daemon=True)
                self._worker.start()
        if self._worker is not None and due:
            if self._lockstep_s is not None and self._worker.is_alive():
                self.waits += 1
                self._worker.join()
            if self._outcome is not None:
                events.append(self._hand_over(now))
        return events

    def _prepare(self, job: Any, training_set: Any) -> None:
        from .ml.netbank import NetBank, trained_net_files
        from .ml.netfile import parse_net

        try:
            result = job.result()
        except BreakageError as error:
            self._outcome = _Outcome(f"training failed: {error}; keeping the old nets")
            return
        if result.stopped != "targets":
            self._outcome = _Outcome(f"training stopped ({result.stopped}) with {result.relative_error:.3g} of the "
                                     "variance unexplained; keeping the old nets")
            return
        files = trained_net_files(result, training_set)
        bank = NetBank([parse_net(data, name) for name, data in files])
        self._outcome = _Outcome(f"trained {len(files)} nets in {result.epochs} epochs "
                                 f"({result.relative_error:.3g} of the variance unexplained); now playing them",
                                 files, bank)

    def _hand_over(self, now: float) -> TrainingFinished:
        outcome, self._outcome = self._outcome, None
        assert outcome is not None
        self.close()
        if outcome.bank is None:
            return TrainingFinished(False, outcome.detail, time=now)
        self._saver.replace_nets(outcome.files)
        loaded = self._nets.adopt(outcome.bank)
        return TrainingFinished(True, outcome.detail, loaded.labels, loaded.roles, now)

    def close(self) -> None:
        """Stop the run (an abort keeps the old nets); a result being made ready is dropped."""
        if self._job is not None:
            self._job.close()
            self._job = None
        self._worker = None
        self._outcome = None


class Saver:
    """Writes on a worker thread, never on the audio path: new nets, then the bank and settings (latest
    wins). :meth:`flush` writes what is pending now."""

    def __init__(self, data: DataDir) -> None:
        self._data = data
        self._pending: tuple[Bank, dict[str, Any]] | None = None
        self._nets: list[tuple[str, bytes]] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="saver", daemon=True)
        self._thread.start()

    def save(self, bank: Bank, settings: dict[str, Any]) -> None:
        with self._lock:
            self._pending = (bank, settings)
        self._wake.set()

    def replace_nets(self, files: list[tuple[str, bytes]]) -> None:
        with self._lock:
            self._nets = files
        self._wake.set()

    def flush(self, bank: Bank, settings: dict[str, Any]) -> None:
        """Stop the worker and write ``bank`` and ``settings`` now (on SIGTERM and at the end)."""
        self._closing = True
        self._wake.set()
        self._thread.join()
        self.save(bank, settings)
        self._write_pending()

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait()
            self._wake.clear()
            if not self._closing:
                self._write_pending()

    def _write_pending(self) -> None:
        with self._lock:
            nets, self._nets = self._nets, None
            pending, self._pending = self._pending, None
        try:
            if nets is not None:
                self._data.replace_nets(nets)
                log.info("saved %d new nets in %s", len(nets), self._data.nets)
            if pending is not None:
                self._data.save(*pending)
                log.info("saved %s", self._data.root)
        except BreakageError as error:
            log.error("saving failed: %s", error)


# -- the control loop --------------------------------------------------------------------------

class Controller:
    """The state machine and everything its effects touch; one :meth:`iterate` per loop pass."""

    def __init__(self, state: Instrument, nets: Nets, trainer: Trainer, saver: Saver,
                 send: Callable[[PlayState], Any], show: Callable[[np.ndarray], Any]) -> None:
        self.state = state
        self.nets, self.trainer, self.saver = nets, trainer, saver
        self._send, self._show = send, show
        self._inbox: queue.SimpleQueue[InputEvent] = queue.SimpleQueue()
        self._waiting: deque[InputEvent] = deque()     # taken off the inbox by wait(), handled first
        self._sources: list[Callable[[float], Iterable[Any]]] = []
        self._play: PlayState | None = None
        self._frame: np.ndarray | None = None
        self._now = 0.0
        self.alive: Callable[[], None] = lambda: None
        """Called once per loop pass (a hook for a keep-alive; the systemd watchdog watches ``iterations``)."""
        self.iterations = 0
        self.on_kit: Callable[[str | None], None] = lambda name: None
        self.on_take: Callable[[], None] = lambda: None
        """Called when the take pad asks for a take to start or stop (:class:`~breakage_pi.daemon.takes.Takes`)."""
        self.on_input: Callable[[InputEvent], None] = lambda event: None
        """Called with each hardware event before it is handled (a take records it)."""
        """Called with the kit the player chose (a folder of ``kits/``, None for the built-in one)."""

    def post(self, event: InputEvent) -> None:
        """The hardware's event sink (thread-safe)."""
        self._inbox.put(event)

    def add_source(self, source: Callable[[float], Iterable[Any]]) -> None:
        """Poll ``source(now)`` every pass; the events it returns go to the state machine."""
        self._sources.append(source)

    def wait(self, timeout: float) -> None:
        """Sleep until a hardware event arrives or ``timeout`` seconds pass (live loop)."""
        if self._waiting:
            return
        try:
            self._waiting.append(self._inbox.get(timeout=timeout))
        except queue.Empty:
            pass

    def iterate(self, now: float, step_column: int, switched: int) -> None:
        """One pass at time ``now``: inputs, the engine's playhead, training, sources; then hand over."""
        self._now = now
        while self._waiting:
            waited = self._waiting.popleft()
            self.on_input(waited)
            self.handle(waited)
        while True:
            try:
                event = self._inbox.get_nowait()
            except queue.Empty:
                break
            self.on_input(event)
            self.handle(event)
        self.handle(Tick(now, step_column, switched))
        for report in self.trainer.poll(now):
            self.handle(report)
        for source in self._sources:
            for event in source(now):
                self.handle(event)
        self.iterations += 1
        self.alive()
        self.flush()

    def flush(self) -> None:
        if self._frame is not None:
            frame, self._frame = self._frame, None
            self._show(frame)

    def handle(self, event: Any) -> None:
        """Step the state machine through ``event`` and what its effects answer (the net's outputs),
        then hand the engine the resulting snapshot at once."""
        pending = deque([event])
        while pending:
            current = pending.popleft()
            try:
                self.state, effects = step(self.state, current)
                for effect in effects:
                    pending.extend(self._carry_out(effect))
            except Exception:  # an instrument on stage outlives a surprise: drop the event, log it, play on
                log.exception("the control loop could not handle %r; carrying on", current)
        if self._play is not None:
            play, self._play = self._play, None
            self._send(play)

    def _carry_out(self, effect: Any) -> Sequence[Any]:
        if isinstance(effect, Play):
            self._play = effect.state
        elif isinstance(effect, Leds):
            self._frame = effect.frame
        elif isinstance(effect, RunNet):
            return [self.nets.answer(effect)]
        elif isinstance(effect, StartTraining):
            return self.trainer.start(effect.bank, self._now)
        elif isinstance(effect, AbortTraining):
            self.trainer.abort()
        elif isinstance(effect, Save):
            log.info("saving: %s", effect.reason)
            self.saver.save(self.state.bank, saved_to_data(self.state))
        elif isinstance(effect, SelectKit):
            self.on_kit(effect.name)
        elif isinstance(effect, ToggleTake):
            self.on_take()
        elif isinstance(effect, Log):
            log.info("%s", effect.message)
        return ()

    def shutdown(self) -> None:
        """Save everything now and stop training (SIGTERM, --seconds, the end)."""
        self.trainer.close()
        self.saver.flush(self.state.bank, saved_to_data(self.state))


# -- starting up -------------------------------------------------------------------------------

@dataclass
class RunOptions:
    """How to run: the config, the data directory and, for the simulator, what replaces what."""

    config: Config
    data_dir: Path
    sim: bool = False
    script: Sequence[ScriptEvent] = ()
    seconds: float | None = None
    device: str | None = None
    pace: bool = False
    frame_every_ms: float | None = None
    on_frame: Callable[[float, np.ndarray], None] | None = None
    ui: Callable[[Any, Callable[[], str], Callable[[], None]], Any] | None = None
    replaying_take: bool = False
    """A take is being replayed (``run --take``): the take pad records nothing."""
    """Builds the simulator's UI from (rig, describe, quit): an object with ``poll(now)`` and ``close()``."""


def open_instrument(options: RunOptions, lockstep: bool, send: Callable[[PlayState], Any],
                    show: Callable[[np.ndarray], Any]) -> tuple[Controller, DataDir]:
    """Prepare the data directory, load the bank, nets and settings, and build the controller."""
    data = DataDir(options.data_dir)
    data.prepare()
    bank = data.load_bank()
    nets = Nets(data)
    settings = options.config.instrument
    kits = _playable_kits(data, bank)
    state = Instrument(bank, kits=kits, playing=settings.autoplay, kit=settings.kit if settings.kit in kits else None)
    if settings.kit and settings.kit not in kits:
        log.error("[instrument] kit %r is not a playable folder of %s; playing the built-in kit", settings.kit,
                  data.kits)
    state, _ = step(state, nets.loaded())
    nets.check_against(bank)
    saved = data.load_state()
    if saved is not None:
        try:
            state = restore(state, saved)
        except FormatError as error:
            data.quarantine_state(str(error.in_source(str(data.state))))
    state = pick_up_all(state)
    log.info("bank %s: %d slot(s), slot %d, mode %s, net %s, %g BPM", data.bank, len(bank.slots), state.slot + 1,
             state.mode, state.net_label, bank.tempo)
    saver = Saver(data)
    Trainer.warm_up()
    controller = Controller(state, nets, Trainer(nets, saver, LOCKSTEP_TRAIN_S if lockstep else None), saver,
                            send, show)
    return controller, data


def session_takes(options: RunOptions, data: DataDir, controller: Controller, shared: bool) -> Any:
    """The session's takes (:mod:`breakage_pi.daemon.takes`), wired to the take pad, the hardware's events
    (live) and the take pad's light."""
    from .daemon.takes import Takes

    from .audio.period import CHOICES

    audio = options.config.audio
    period = audio.period if isinstance(audio.period, int) else CHOICES[0]     # lockstep's; live: the granted one
    takes = Takes(options.config.takes, data.root, audio.rate, period, shared,
                  enabled=not options.replaying_take)
    controller.on_take = lambda: takes.toggle(controller.state)
    if shared:
        controller.on_input = lambda event: takes.input(event, controller.state)
    controller.add_source(takes.poll)
    return takes


def serve_sync(options: RunOptions, controller: Controller, data: DataDir) -> Any:
    """USB sync beside playing (``[sync] port``), what it changes a source of the control loop; None when off."""
    from .sync_link import SyncLink, sync_port

    port = sync_port(options.config.sync)
    if port is None:
        return None
    link = SyncLink(port, data, lambda: Nets(data).bank, controller.nets.adopt, lambda bank: _playable_kits(data, bank),
                    lambda: controller.state, lambda name: controller.on_kit(name)).start()
    controller.add_source(link.poll)
    return link


def follow_clock(options: RunOptions, controller: Controller) -> Any:
    """Incoming MIDI clock as the tempo and transport (``[midi] follow_clock``, live only); None when off."""
    from .midi_link import ClockIn, clock_in_path

    path = clock_in_path(options.config.midi)
    if path is None:
        if options.config.midi.follow_clock:
            log.info("MIDI clock: no USB gadget MIDI port; not following")
        return None
    clock = ClockIn(path)
    controller.add_source(clock.poll)
    return clock


class _Stop:
    """SIGTERM/SIGINT/SIGHUP set this; the loops look at it once per pass."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> Callable[[], None]:
        """Take SIGTERM, SIGINT and SIGHUP (the simulator's terminal closing) from the main thread; returns
        what puts the old handlers back."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {signum: signal.signal(signum, self._handler) for signum in (signal.SIGTERM, signal.SIGINT,
                                                                                   signal.SIGHUP)}

        def restore() -> None:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return restore

    def _handler(self, signum: int, _frame: object) -> None:
        log.info("%s: saving and stopping", signal.Signals(signum).name)
        self.requested = True

    def request(self) -> None:
        """Stop as on SIGTERM (the simulator's quit key)."""
        log.info("quit: saving and stopping")
        self.requested = True


def _playable_kits(data: DataDir, bank: Bank) -> tuple[str, ...]:
    """The kits in ``kits/`` that load (a bad one is named in the log and left off the grid)."""
    from .audio.kit import load_kit

    playable = []
    for name in data.kit_names():
        try:
            load_kit(data.kits / name, bank.channels)
        except BreakageError as error:
            log.error("kit %s cannot be played: %s", name, error)
        else:
            playable.append(name)
    return tuple(playable)


class _LiveEngine:
    """The audio process. Choosing a kit starts it again with the new kit (loading samples is disk
    work the running engine must never do): a short gap, then the slot from step 1."""

    def __init__(self, options: RunOptions, data: DataDir) -> None:
        self._options, self._data = options, data
        self._frames = _frames(options)
        self._done = 0
        self.process: Any = None
        self.settings: Any = None
        from .midi_link import midi_out_path

        self._midi_path = midi_out_path(options.config.midi)
        self.midi: Any = None
        """Live MIDI out (:class:`~breakage_pi.midi_link.LiveMidiFeed`), None when off."""
        self.takes: Any = None
        """The session's :class:`~breakage_pi.daemon.takes.Takes` (its ring goes to every audio process)."""

    def start(self, state: Instrument) -> None:
        from .audio.process import AudioProcess
        from .midi_link import LiveMidiFeed, MidiOut

        frames = None if self._frames is None else max(1, self._frames - self._done)
        self.settings = engine_settings(self._options, frames, _kit(state, self._data)[0])
        initial = state.play_state()
        self.process = AudioProcess(self.settings, initial, tap=self.takes.tap if self.takes else None).start()
        if self.takes is not None:
            self.takes.restarted(self._done)
        if self.midi is not None:
            self.midi.restart(initial, self._done)
        elif self._midi_path is not None:
            self.midi = LiveMidiFeed(MidiOut(self._midi_path, self.settings.rate, initial, self._done))

    def send(self, play: PlayState) -> bool:
        sent = self.process is not None and self.process.send(play)
        if self.midi is not None and sent:
            self.midi.sent(self.process.serial, play)
        if self.takes is not None and sent:
            self.takes.sent(self.process.serial, play)
        return sent

    def close_midi(self, report: dict[str, Any]) -> None:
        """End live MIDI at the last frame played (``report``: the audio process's final one)."""
        if self.midi is not None:
            self.midi.out.close(self._done + report.get("frames", 0))

    def switch_kit(self, state: Instrument) -> None:
        log.info("kit %s: restarting the audio engine with it", state.kit or "built-in")
        self._done += self.process.stop().get("frames", 0)
        self.start(state)

    @property
    def offset(self) -> int:
        """Frames played by earlier audio processes (before kit changes) in this session."""
        return self._done

    def finished(self, frame: int) -> bool:
        """Whether ``--seconds`` of audio have been played (``frame``: the running process's count)."""
        return self._frames is not None and self._done + frame >= self._frames


def _kit(state: Instrument, data: DataDir) -> tuple[str | None, tuple[str, ...]]:
    """The kit folder to play (None: built-in) and the channel names to load from it."""
    if state.kit is None:
        from .core.pattern import DEFAULT_CHANNEL_NAMES

        return None, DEFAULT_CHANNEL_NAMES
    return str(data.kits / state.kit), state.bank.channels


def engine_settings(options: RunOptions, frames: int | None, kit_dir: str | None) -> Any:
    from .audio.process import EngineSettings

    audio = options.config.audio
    return EngineSettings(device=options.device or audio.device, rate=audio.rate, period=audio.period,
                          periods=audio.periods, kit_dir=kit_dir, pace=options.pace, frames=frames,
                          wait_for_device=True)


def _frames(options: RunOptions) -> int | None:
    return None if options.seconds is None else round(options.seconds * options.config.audio.rate)


def sim_hardware(options: RunOptions, state: Instrument, sink: Callable[[InputEvent], None],
                  clock: Callable[[], float], frequency: int | None) -> tuple[Any, Any, Callable[[], None]]:
    """The emulated rig and the real hardware classes over it, and what puts gpiozero's pin factory
    back afterwards; the emulated pots are where ``state.json`` says they were left."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    from .hw import Hardware
    from .hw.sim import SimRig
    from .hw.sim.pins import SimPinFactory

    previous = Device.pin_factory
    ours = not isinstance(previous, MockFactory)
    if ours:
        Device.pin_factory = SimPinFactory()          # pins that forget old states: the simulator runs for hours

    def restore() -> None:
        if ours:
            Device.pin_factory.reset()
            Device.pin_factory = previous

    rig = SimRig(options.config, frequency=frequency)
    rig.start()
    for name, knob in state.knobs.items():
        if knob.position is not None and rig.knob_position(name) is not None:
            rig.knob(name, knob.position)
    return rig, Hardware(options.config, sink, bus=rig.bus, clock=clock), restore


def run_live(options: RunOptions) -> int:
    """The daemon on stage (or the interactive simulator): real time, the engine in its own process.

    Under systemd it reports ``READY=1`` once the first block is out, then a
    watchdog heartbeat while both the audio blocks and the control loop move
    (:mod:`breakage_pi.systemd`), and ``STOPPING=1`` on the way out.
    """
    from .systemd import Heartbeat, notify_ready, notify_stopping

    quick_thread_switches()
    stop = _Stop()
    restore_signals = stop.install()
    hardware_box: list[Any] = []
    engine_box: list[_LiveEngine] = []
    controller, data = open_instrument(options, False, lambda play: engine_box[0].send(play),
                                       lambda frame: hardware_box[0].show(frame) if hardware_box else None)
    engine = _LiveEngine(options, data)
    engine_box.append(engine)
    takes = engine.takes = session_takes(options, data, controller, shared=True)
    engine.start(controller.state)
    controller.on_kit = lambda name: engine.switch_kit(controller.state)
    rig = None
    restore_pins: Callable[[], None] = lambda: None
    ui_box: list[Any] = []
    # The audio side proves it is alive by updating its board: every block, and every reopening attempt while
    # a USB DAC is unplugged (counting blocks alone would make systemd restart a daemon waiting for its DAC).
    heartbeat = Heartbeat({"audio process": lambda: engine.process.status().updated_ns,
                           "control loop": lambda: controller.iterations})
    sync = clock_in = None
    try:
        sync = serve_sync(options, controller, data)
        clock_in = follow_clock(options, controller)
        if options.sim:
            rig, hardware, restore_pins = sim_hardware(options, controller.state, controller.post, time.monotonic,
                                                        options.config.grid.frequency)
        else:
            from .hw import Hardware

            hardware = Hardware(options.config, controller.post)
        hardware_box.append(hardware)
        _show_now(hardware, controller.state)
        hardware.start()
        log.info("instrument running on %s%s", engine.settings.device, " (simulated panel)" if options.sim else "")
        if options.ui is not None:
            ui = options.ui(rig, lambda: controller.state.summary(), stop.request)
            ui_box.append(ui)
            controller.add_source(ui.poll)
        ready = False
        while not stop.requested:
            status = engine.process.status()
            if not ready and status.blocks > 0:      # the PCM is open and taking blocks
                ready = True
                log.info("audio running on %s, %d frames a block (%s)", engine.settings.device, status.period,
                         status.period_why)
                notify_ready(f"playing on {engine.settings.device}, {status.period} frames")
                heartbeat.start()
            if engine.midi is not None:
                engine.midi.update(status)
            takes.at(engine.offset + status.frame, status.xruns, engine.offset, status.period)
            takes.update(status.state_serial, status.state_frame)
            controller.iterate(time.monotonic(), status.step, status.switched)
            takes.passed(status.step, controller.state)
            if engine.finished(status.frame):
                break
            if not engine.process.is_alive():
                report = engine.process.wait(1.0)
                if not engine.finished(report.get("frames", 0)):
                    raise AppError(f"the audio process ended: {report.get('error') or 'no report'}")
                break
            controller.wait(LOOP_WAKE_S)
    finally:
        if ui_box:
            ui_box[0].close()
        heartbeat.stop()
        notify_stopping()
        if sync is not None:
            sync.close()
        if clock_in is not None:
            clock_in.close()
        controller.shutdown()
        takes.close()
        report = engine.process.stop()
        engine.close_midi(report)
        if hardware_box:
            hardware_box[0].close()
        if rig is not None:
            rig.close()
        restore_pins()
        restore_signals()
        if report:
            log.info("audio: %d blocks, %d xruns, worst block %.2f ms", report.get("blocks", 0),
                     report.get("xruns", 0), report.get("worst_block_ms", 0.0))
    return 0


def run_lockstep(options: RunOptions) -> dict[str, Any]:
    """A headless simulated session, the control loop stepped before every audio block (deterministic).

    Returns the engine's figures (blocks, xruns, frames) and how often the audio clock waited for a
    training run (``training_waits``).
    """
    from .audio.engine import Engine
    from .audio.process import make_sink

    stop = _Stop()
    restore_signals = stop.install()
    loop = _Lockstep(options, stop)
    engine = Engine(loop.player, lambda: make_sink(engine_settings(options, None, None)), loop, tap=loop.takes.ring)
    loop.status = engine.status
    frames = _frames(options)
    if frames is None and options.script:          # a script with no --seconds: until 1 s after its last action
        frames = math.ceil((options.script[-1].time_ms / 1000 + 1.0) * options.config.audio.rate)
    try:
        engine.run(frames, wait_for_device=False)
    finally:
        loop.close()
        restore_signals()
    return {"blocks": engine.blocks, "xruns": engine.xruns, "frames": loop.player.frame,
            "training_waits": loop.controller.trainer.waits}


class _Lockstep:
    """The control loop of a scripted session, run by the in-process engine before each block (it is
    the engine's command source: :meth:`take`), at that block's audio time: the script's actions due
    by then go through the emulated bus and pins, one grid pass, the knobs, the state machine and the
    nets; the newest snapshot goes back to the engine for that very block."""

    serial = 0          # the engine's command source numbers no states

    def __init__(self, options: RunOptions, stop: _Stop) -> None:
        from .audio.kit import load_kit
        from .audio.player import Player

        self.options, self.stop = options, stop
        config = options.config
        self.rate = config.audio.rate
        self.now = 0.0
        self.handed: list[PlayState] = []
        self.controller, data = open_instrument(options, True, self.handed.append, lambda frame: self.show(frame))
        self.rig, self.hardware, self._restore_pins = sim_hardware(options, self.controller.state,
                                                                    self.controller.post, lambda: self.now, None)
        _show_now(self.hardware, self.controller.state)
        _bring_up(self.hardware.grid)

        def kit() -> Any:
            return load_kit(*_kit(self.controller.state, data), rate=self.rate)

        self.player = Player(kit(), self.controller.state.play_state(), max_block=1024)
        from .midi_link import MidiOut, midi_out_path

        midi_path = midi_out_path(config.midi)
        self.midi = None if midi_path is None else MidiOut(midi_path, self.rate, self.player.state)
        self.sync = serve_sync(options, self.controller, data)
        self.takes = session_takes(options, data, self.controller, shared=False)
        self.controller.on_kit = lambda name: self.player.use_kit(kit())
        self.script = deque(options.script)
        self.status: Any = None
        self._knob_period = config.knob_poll_ms / 1000
        self._button_settle = config.buttons.debounce_ms / 1000 + self._knob_period
        self._next_knob_poll = self._busy_until = self._next_print = 0.0
        self._last_block = -1

    def show(self, frame: np.ndarray) -> None:
        self.hardware.show(frame)

    def take(self) -> object:
        """None, or the snapshot (or STOP) for the block about to render."""
        from .audio.handover import STOP

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
        if self.options.on_frame is not None and self.options.frame_every_ms and now >= self._next_print:
            self._next_print = now + self.options.frame_every_ms / 1000
            self.options.on_frame(now, self.rig.pixels())
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
            delivered = self.hardware.grid.stats.events + 1
            self.rig.apply(event)
            self.takes.action(event, self.controller.state)
            if event.kind == "pad":
                _wait_for_the_scan(self.hardware.grid, delivered)
                continue
            # the knobs are read at once, then every knob_poll_ms while the pots' smoothing settles
            # or a button's debounce window closes
            settle = LOCKSTEP_SETTLE_S if event.kind == "knob" else self._button_settle
            self._busy_until = max(self._busy_until, self.now + settle)
            self._next_knob_poll = self.now

    def close(self) -> None:
        if self.sync is not None:
            self.sync.close()
        if self.midi is not None:
            self.midi.close(self.player.frame)
        self.controller.shutdown()
        self.takes.close()
        self.hardware.close()
        self.rig.close()
        self._restore_pins()


def _wait_for_the_scan(grid: Any, events: int, timeout: float = 5.0) -> None:
    """Step the grid until it has posted ``events`` pad events: the emulated boards' firmware scans its
    keys every 10 ms of real time, so a scripted press is delivered at the audio time it was scripted
    however long that takes (the audio clock waits for it: lockstep)."""
    deadline = time.monotonic() + timeout
    while grid.stats.events < events:
        if time.monotonic() > deadline:
            raise AppError("the emulated grid did not deliver a scripted press")
        grid.step()
        time.sleep(0.0005)


def _show_now(hardware: Any, state: Instrument) -> None:
    """Give a new grid the frame the state machine already drew (it only sends changes)."""
    if state.frame is not None:
        hardware.show(state.frame)


def _bring_up(grid: Any, timeout: float = 10.0) -> None:
    """Step the grid until every board has come up (the library resets each for 0.5 s, in parallel)."""
    deadline = time.monotonic() + timeout
    while not all(grid.online):
        if time.monotonic() > deadline:
            raise AppError("the emulated grid did not come up")
        grid.step()
        time.sleep(0.01)
