"""The composition root: the daemon's parts built from the parsed config and put together. Wiring only.

The parts, each a module of this package: the one control loop
(:mod:`.controller`) over the state machine, the nets it plays (:mod:`.nets`),
training in its own process (:mod:`.trainer`), saving on a worker thread
(:mod:`.saver`), the data directory (:mod:`.datadir`), the audio engine live
in its own process (:mod:`.live`) or in lockstep with a script
(:mod:`.lockstep`), the emulated panel (:mod:`.sim`), USB sync and MIDI
(:mod:`.sync_link`, :mod:`.midi_link`), systemd's readiness and watchdog
(:mod:`.systemd`) and the stop signals (:mod:`.stop`). Each is handed the
typed section of the config it needs (:class:`~breakage_pi.core.settings.Config`);
nothing below this module sees :class:`RunOptions`.

Two ways to run:

- **live** (:func:`run_live`): the engine keeps real time in its process;
  the loop wakes on hardware events or every few milliseconds.
- **lockstep** (:func:`run_lockstep`, headless scripted sessions): the
  engine runs in this process and the loop is stepped before each block at
  that block's audio time, so the same script gives the same audio byte for
  byte, paced or not.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..core.instrument import Instrument
from ..core.script import ScriptEvent
from ..core.settings import Config
from .controller import quick_thread_switches
from .live import LiveEngine, live_engine_settings, play_live, session_frames
from .midi_link import listen_midi
from .sim import show_now, sim_hardware
from .startup import open_instrument
from .stop import StopSignals
from .sync_link import serve_sync
from .takes import wire_takes

log = logging.getLogger("breakage_pi")

SAVE_FAILED_STATUS = 3
"""``run``'s exit status when the final save failed: the edits since the last good save are lost."""


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
    on_frame: Callable[[float, np.ndarray, Instrument], None] | None = None
    ui: Callable[[Any, Callable[[], Instrument], Callable[[], None]], Any] | None = None
    """Builds the simulator's UI from (rig, state, quit): an object with ``poll(now)`` and ``close()``."""
    replaying_take: bool = False
    """A take is being replayed (``run --take``): the take pad records nothing."""


def run_live(options: RunOptions, stop: StopSignals | None = None) -> int:
    """The daemon on stage (or the interactive simulator): real time, the engine in its own process.

    Under systemd it reports ``READY=1`` once the first block is out, then a
    watchdog heartbeat while both the audio blocks and the control loop move
    (:mod:`.systemd`), and ``STOPPING=1`` on the way out. ``stop``: signal
    handlers the caller installed (None: installed here). Returns the exit
    status: 0, or :data:`SAVE_FAILED_STATUS`.
    """
    from .systemd import Heartbeat, notify_stopping

    quick_thread_switches()
    stop, restore_signals = _stop_signals(stop)
    if stop.requested:
        restore_signals()
        log.info("stopped before start-up: nothing opened, nothing to save")
        return 0
    config = options.config
    hardware_box: list[Any] = []
    engine_box: list[LiveEngine] = []
    controller, data = open_instrument(options.data_dir, config.instrument, lambda play: engine_box[0].send(play),
                                       lambda frame: hardware_box[0].show(frame) if hardware_box else None,
                                       nets_config=config.nets, notes=config.midi.input)
    engine = LiveEngine(live_engine_settings(config.audio, options.device, options.pace),
                        session_frames(options.seconds, config.audio.rate), config.midi, data)
    engine_box.append(engine)
    engine.takes = wire_takes(config.takes, config.audio, data.root, controller, shared=True,
                              enabled=not options.replaying_take, midi=config.midi,
                              learn=config.nets.learn)
    engine.start(controller.state)
    controller.on_kit = lambda name: engine.switch_kit(controller.state)
    rig = None
    restore_pins: Callable[[], None] = lambda: None
    ui = None
    # The audio side proves it is alive by updating its board: every block, and every reopening attempt while
    # a USB DAC is unplugged (counting blocks alone would make systemd restart a daemon waiting for its DAC).
    heartbeat = Heartbeat({"audio process": lambda: engine.process.status().updated_ns,
                           "control loop": lambda: controller.iterations})
    sync = None
    midi_in: list[Any] = []
    save_failure: str | None = None
    try:
        sync = serve_sync(config.sync, controller, data, engine.takes)
        midi_in = listen_midi(config.midi, controller, engine.position, engine.takes.note)
        if options.sim:
            rig, hardware, restore_pins = sim_hardware(config, controller.state, controller.post, time.monotonic,
                                                        config.grid.frequency)
        else:
            from ..hw import Hardware

            hardware = Hardware(config, controller.post)
        hardware_box.append(hardware)
        show_now(hardware, controller.state)
        hardware.start()
        log.info("instrument running %s%s", "silently" if engine.settings.device == "none" else
                 f"on {engine.settings.device}", " (simulated panel)" if options.sim else "")
        if options.ui is not None:
            ui = options.ui(rig, lambda: controller.state, stop.request)
            controller.add_source(ui.poll)
        play_live(engine, controller, stop, heartbeat)
    finally:
        if ui is not None:
            ui.close()
        heartbeat.stop()
        notify_stopping()
        for link in (sync, *midi_in):
            if link is not None:
                link.close()
        save_failure = controller.shutdown()
        engine.takes.close()
        report = engine.process.stop()
        engine.close_midi(report)
        if hardware_box:
            hardware_box[0].close()
        if rig is not None:
            rig.close()
        restore_pins()
        restore_signals()
        if report:                       # the run's summary (docs/host.md, exit statuses)
            log.info("audio: %d blocks, %d xruns, worst block %.2f ms", report.get("blocks", 0),
                     report.get("xruns", 0), report.get("worst_block_ms", 0.0))
    return exit_status(save_failure)


def run_lockstep(options: RunOptions, stop: StopSignals | None = None) -> dict[str, Any]:
    """A headless simulated session of ``options.script``, the control loop stepped before every audio block
    (deterministic; see :mod:`.lockstep`).

    Returns the engine's figures (blocks, xruns, frames), how often the audio clock waited for a training
    run (``training_waits``), the emulated boards' key scans waited for (``scans_waited``) and the exit
    status (``status``: 0, or :data:`SAVE_FAILED_STATUS`). ``stop`` as for :func:`run_live`.
    """
    from .lockstep import run_script

    stop, restore_signals = _stop_signals(stop)
    try:
        if stop.requested:
            log.info("stopped before start-up: nothing opened, nothing to save")
            return {"blocks": 0, "xruns": 0, "frames": 0, "training_waits": 0, "scans_waited": 0, "status": 0}
        figures = run_script(options.config, options.data_dir, options.script, stop, seconds=options.seconds,
                             device=options.device, pace=options.pace, on_frame=options.on_frame,
                             frame_every_ms=options.frame_every_ms, replaying_take=options.replaying_take)
    finally:
        restore_signals()
    status = exit_status(figures.pop("save_failure"))
    return {**figures, "status": status}


def exit_status(save_failure: str | None) -> int:
    """0, or :data:`SAVE_FAILED_STATUS` with the reason in the log (stderr, the journal) when the final save
    failed."""
    if save_failure is None:
        return 0
    log.error("error: the final save failed, the edits since the last save are lost: %s", save_failure)
    return SAVE_FAILED_STATUS


def _stop_signals(stop: StopSignals | None) -> tuple[StopSignals, Callable[[], None]]:
    """``stop`` as the caller installed it, or new handlers installed here (and what removes them)."""
    if stop is not None:
        return stop, lambda: None
    stop = StopSignals()
    return stop, stop.install()
