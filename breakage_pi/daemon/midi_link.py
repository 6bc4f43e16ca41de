"""MIDI for the daemon: live MIDI out, and MIDI in (a followed clock, drum notes played in).

MIDI out: every state the engine adopts, at the frame it adopts it, as MIDI bytes.

The engine takes a :class:`PlayState` at a block start; the control side
learns which one and at which frame (lockstep: it hands the state over
itself; live: the status board's ``state_serial`` and ``state_frame``).
:class:`MidiOut` feeds those to a :class:`~breakage_pi.midi.MidiScheduler`
and writes the messages due as audio time advances, never ahead of the
audio already rendered (so a message goes out while its block sits in the
device's buffer: a period or two ahead of the sound). The writer never
blocks (a host that does not read loses messages, counted and logged).

MIDI in: the clock and the notes share one reader when they share a node
(:func:`midi_inputs`); live, each reader's thread wakes the control loop
(:func:`listen_midi`) and a note is placed where the engine stands
(:class:`EnginePosition`); scripted sessions send their ``note`` lines in as
bytes through a FIFO of their own (:class:`ScriptedMidi`).
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import replace
from typing import Any, Callable

import mido

from ..core.playstate import PlayState
from ..core.script import ScriptEvent
from ..core.settings import MidiConfig
from ..midi import ClockFollower, MidiInput, MidiScheduler, RawMidiWriter, gadget_midi_node
from ..midi.notes_in import NoteHook, Position

log = logging.getLogger("breakage_pi")


def midi_out_path(config: MidiConfig) -> str | None:
    """Where live MIDI goes: the configured path, the gadget's node for ``"auto"`` (None without a gadget),
    None for ``"none"``."""
    if config.out == "none":
        return None
    if config.out == "auto":
        return gadget_midi_node()
    return config.out


class MidiOut:
    """The schedule and the writer; ``frame`` arguments count the engine's frames since the session began.

    >>> import os, tempfile
    >>> from breakage_pi.core import Pattern
    >>> path = os.path.join(tempfile.mkdtemp(), "midi"); open(path, "wb").close()
    >>> out = MidiOut(path, 48_000, PlayState(Pattern().with_velocity(0, 0, 255)))
    >>> out.advance(64); out.close(64)
    >>> open(path, "rb").read().hex(" ")
    'f2 00 00 fa f8 99 24 7f 89 24 40 fc'
    """

    def __init__(self, path: str, rate: int, initial: PlayState, frame: int = 0) -> None:
        self.writer = RawMidiWriter(path)
        self.scheduler = MidiScheduler(rate)
        self.state = initial
        self.scheduler.apply(initial, frame)
        log.info("MIDI out on %s", path)

    def adopted(self, state: PlayState, frame: int) -> None:
        """The engine plays ``state`` from ``frame`` on."""
        self.state = state
        self.scheduler.apply(state, frame)

    def advance(self, frame: int) -> None:
        """Write every message before ``frame`` (audio rendered up to there)."""
        due = self.scheduler.window(frame)
        if due:
            self.writer.send(timed.message for timed in due)

    def restart(self, state: PlayState, frame: int) -> None:
        """The engine started again at ``frame`` with ``state`` (a new kit): Stop, then Start from step 1."""
        self.advance(frame)
        self.adopted(replace(self.state, playing=False), frame)
        self.adopted(state, frame)

    def close(self, frame: int) -> None:
        """The session ends at ``frame``: what is due, then Stop if playing; close the node."""
        self.advance(frame)
        if self.state.playing:
            self.adopted(replace(self.state, playing=False), frame)
            self.advance(frame + 1)
        self.writer.close()
        if self.writer.dropped:
            log.warning("MIDI out: %d message(s) dropped in all, %d sent", self.writer.dropped, self.writer.sent)


class LiveMidiFeed:
    """Live mode: matches the status board's ``state_serial`` to the states sent, and times them by
    ``state_frame`` (``offset``: the frames played by earlier audio processes, before a kit change)."""

    def __init__(self, out: MidiOut) -> None:
        self.out = out
        self.offset = 0
        self._sent: dict[int, PlayState] = {}
        self._serial = 0

    def sent(self, serial: int, state: PlayState) -> None:
        """The control side handed the engine ``state`` under ``serial``."""
        self._sent[serial] = state

    def update(self, status: Any) -> None:
        """One reading of the status board: a newly adopted state, then what is due up to its ``frame``."""
        serial = status.state_serial
        if serial != self._serial and serial in self._sent:
            self.out.adopted(self._sent[serial], self.offset + status.state_frame)
            self._serial = serial
            self._sent = {number: state for number, state in self._sent.items() if number > serial}
        self.out.advance(self.offset + status.frame)

    def restart(self, state: PlayState, offset: int) -> None:
        """A new audio process starts with ``state`` at session frame ``offset`` (serials start again)."""
        self.offset, self._serial, self._sent = offset, 0, {}
        self.out.restart(state, offset)


def _node(setting: str) -> str | None:
    """A MIDI in node setting as a path: the gadget's node for ``"auto"`` (None without a gadget), None for
    ``"none"``."""
    if setting == "none":
        return None
    return gadget_midi_node() if setting == "auto" else setting


def midi_inputs(config: MidiConfig, position: Position, wake: Callable[[], None] | None = None,
                on_note: NoteHook | None = None) -> list[MidiInput]:
    """The MIDI in readers ``config`` asks for: the followed clock (``follow_clock``, ``clock_in``) and the
    drum notes (``input`` not ``"off"``, ``notes_in``), one reader per node; with ``wake`` each reads on a
    thread of its own and calls it when bytes arrive; ``on_note`` hears each drum note taken (a take)."""
    clock = _node(config.clock_in) if config.follow_clock else None
    notes = _node(config.notes_in) if config.input != "off" else None
    if config.follow_clock and clock is None:
        log.info("MIDI clock: no USB gadget MIDI port; not following")
    return [MidiInput(path, ClockFollower() if path == clock else None, config.channel if path == notes else None,
                      position, wake, on_note=on_note)
            for path in dict.fromkeys(p for p in (clock, notes) if p is not None)]


def listen_midi(config: MidiConfig, controller: Any, position: Position,
                on_note: NoteHook | None = None) -> list[MidiInput]:
    """MIDI in, live: a followed clock and drum notes for ``controller`` (a :class:`~.controller.Controller`),
    each node read on its own thread, which wakes the loop; ``on_note`` hears each drum note taken (the
    session's takes); the readers, to close."""
    readers = midi_inputs(config, position, controller.wake, on_note)
    for reader in readers:
        controller.add_source(reader.poll)
    return readers


class EnginePosition:
    """Where the engine stands, from its newest status reading (live): the column sounding, frames into that
    step at the frame rendered so far (the next block, where a note taken now is heard), and its length."""

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
    """The script's ``note`` lines as MIDI bytes written into a private FIFO that ``reader`` reads with the
    same reader and parser as on stage (lockstep: a note is written when its time comes and read in the
    same control pass, so the session stays deterministic)."""

    def __init__(self, config: MidiConfig, position: Position) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="breakage-pi-midi-in-")
        path = os.path.join(self._folder.name, "notes")
        os.mkfifo(path)
        self.reader = MidiInput(path, None, config.channel if config.input != "off" else None, position)
        self.reader.poll(0.0)                         # opens the reading end first, so the writer can open
        self._writer = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)

    def send(self, event: ScriptEvent) -> None:
        message = mido.Message("note_on", channel=event.channel - 1, note=event.note, velocity=event.velocity)
        os.write(self._writer, bytes(message.bytes()))

    def close(self) -> None:
        os.close(self._writer)
        self.reader.close()
        self._folder.cleanup()
