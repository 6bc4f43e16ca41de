"""MIDI in for the daemon: which nodes to read (the clock and the notes share one reader when they share a
node), where the engine stands when a note arrives, and, in scripted sessions, the notes of the script sent
in as bytes over a FIFO of their own, read by the same reader and parser as on stage."""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

import mido

from .core.script import ScriptEvent
from .core.settings import MidiConfig
from .midi import ClockFollower, MidiInput, gadget_midi_node

log = logging.getLogger("breakage_pi")


def _node(setting: str) -> str | None:
    if setting == "none":
        return None
    return gadget_midi_node() if setting == "auto" else setting


def midi_inputs(config: MidiConfig, position: Any, wake: Any = None) -> list[MidiInput]:
    """The MIDI in readers ``config`` asks for (live only): the followed clock (``follow_clock``,
    ``clock_in``) and the notes (``input`` not ``"off"``, ``notes_in``), one reader per node; with ``wake``
    each reads on a thread of its own and calls it when bytes arrive."""
    clock = _node(config.clock_in) if config.follow_clock else None
    notes = _node(config.notes_in) if config.input != "off" else None
    if config.follow_clock and clock is None:
        log.info("MIDI clock: no USB gadget MIDI port; not following")
    readers = []
    for path in dict.fromkeys(p for p in (clock, notes) if p is not None):
        readers.append(MidiInput(path, ClockFollower() if path == clock else None,
                                 config.channel if path == notes else None, position, wake))
    return readers


class EnginePosition:
    """Where the engine stands, from its newest status reading (live): the column sounding, frames into
    that step (at the frame rendered so far: the next block, where a note read now is heard), its length."""

    def __init__(self) -> None:
        self.status: Any = None

    def update(self, status: Any) -> None:
        self.status = status

    def __call__(self) -> tuple[int, int, int]:
        status = self.status
        if status is None or status.step < 0 or status.step_frames <= 0:
            return -1, 0, 0
        return status.step, min(max(status.frame - status.step_start, 0), status.step_frames), status.step_frames


class ScriptedMidi:
    """The script's ``note`` lines, written as MIDI bytes into a private FIFO that ``reader`` reads
    (lockstep: a note is written when its time comes and read in the same control pass, deterministic)."""

    def __init__(self, config: MidiConfig, position: Any) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="breakage-pi-midi-in-")
        path = os.path.join(self._folder.name, "notes")
        os.mkfifo(path)
        channel = config.channel if config.input != "off" else None
        self.reader = MidiInput(path, None, channel, position)
        self.reader.poll(0.0)                         # opens the reading end first, so the writer can open
        self._writer = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)

    def send(self, event: ScriptEvent) -> None:
        message = mido.Message("note_on", channel=event.channel - 1, note=event.note, velocity=event.velocity)
        os.write(self._writer, bytes(message.bytes()))

    def close(self) -> None:
        os.close(self._writer)
        self.reader.close()
        self._folder.cleanup()
