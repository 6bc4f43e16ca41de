"""The live engine: the audio process at real time, restarted with a new kit when the player picks one, and
live MIDI out fed the states it adopts."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

from ..core.instrument import Instrument
from ..core.playstate import PlayState
from ..core.settings import AudioConfig, MidiConfig
from .datadir import DataDir
from .errors import AppError
from .kits import kit_to_play

log = logging.getLogger("breakage_pi")

LOOP_WAKE_S = 0.005
"""The live loop's heartbeat when no event arrives: playhead, blinking, training reports."""


def engine_settings(audio: AudioConfig, device: str | None = None, pace: bool = False) -> Any:
    """The audio process's :class:`~breakage_pi.audio.process.EngineSettings` from ``[audio]``, ``device``
    (``--device``) replacing the config's."""
    from ..audio.process import EngineSettings

    return EngineSettings(device=device or audio.device, rate=audio.rate, period=audio.period,
                          periods=audio.periods, pace=pace, wait_for_device=True)


def live_engine_settings(audio: AudioConfig, device: str | None = None, pace: bool = False) -> Any:
    """:func:`engine_settings` for the live daemon, where time is the player's: with no device (``"none"``)
    the engine is always paced, so the beat keeps time for the grid, MIDI out and a take (unpaced it would
    race through minutes of pattern a second).

    >>> live_engine_settings(AudioConfig(), "none").pace
    True
    """
    device = device or audio.device
    return engine_settings(audio, device, pace or device == "none")


def session_frames(seconds: float | None, rate: int) -> int | None:
    """``--seconds`` of audio in frames at ``rate`` (None: until stopped)."""
    return None if seconds is None else round(seconds * rate)


class LiveEngine:
    """The audio process. Choosing a kit starts it again with the new kit (loading samples is disk
    work the running engine must never do): a short gap, then the slot from step 1.

    ``engine``: how to open the device (:func:`engine_settings`); ``frames``: stop after that many
    (None: until stopped); ``midi``: ``[midi]``, for live MIDI out.
    """

    def __init__(self, engine: Any, frames: int | None, midi: MidiConfig, data: DataDir) -> None:
        from .midi_link import EnginePosition, midi_out_path

        self._engine, self._frames, self._data = engine, frames, data
        self._done = 0
        self.process: Any = None
        self.settings: Any = None
        self._midi_path = midi_out_path(midi)
        self.midi: Any = None
        """Live MIDI out (:class:`~breakage_pi.daemon.midi_link.LiveMidiFeed`), None when off."""
        self.position = EnginePosition()
        """Where the engine stands, for notes arriving on MIDI in (the loop updates it every pass)."""
        self.takes: Any = None
        """The session's :class:`~.takes.Takes` (its ring goes to every audio process)."""

    def start(self, state: Instrument) -> None:
        from ..audio.process import AudioProcess
        from .midi_link import LiveMidiFeed, MidiOut

        frames = None if self._frames is None else max(1, self._frames - self._done)
        self.settings = replace(self._engine, frames=frames, kit_dir=kit_to_play(state, self._data)[0])
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


def play_live(engine: LiveEngine, controller: Any, stop: Any, heartbeat: Any) -> None:
    """The live control loop until ``stop`` is requested or ``--seconds`` are played: ``controller`` (a
    :class:`~.controller.Controller`) is stepped at real time, waking on hardware events or every
    :data:`LOOP_WAKE_S`; READY goes to systemd and ``heartbeat`` starts once the first block is out."""
    from ..audio.process import PeriodWatch
    from .systemd import notify_ready

    ready = False
    period_watch = PeriodWatch(log)
    while not stop.requested:
        status = engine.process.status()
        if not ready and status.blocks > 0:      # the PCM is open and taking blocks
            ready = True
            log.info("sound: %s", "none, playing silently (the beat keeps time)" if engine.settings.device == "none"
                     else f"playing through {engine.settings.device}")
            notify_ready(f"playing on {engine.settings.device}, {status.period} frames")
            heartbeat.start()
        if ready:
            period_watch.check(status)           # the period in force and why; each step up, in words
        engine.position.update(status)
        if engine.midi is not None:
            engine.midi.update(status)
        takes = engine.takes
        if takes is not None:
            takes.at(engine.offset + status.frame, status.xruns, engine.offset, status.period)
            takes.update(status.state_serial, status.state_frame)
        controller.iterate(time.monotonic(), status.step, status.switched)
        if takes is not None:
            takes.passed(status.step, controller.state)
        if engine.finished(status.frame):
            break
        if not engine.process.is_alive():
            report = engine.process.wait(1.0)
            if not engine.finished(report.get("frames", 0)):
                raise AppError(f"the audio process ended: {report.get('error') or 'no report'}")
            break
        controller.wait(LOOP_WAKE_S)
