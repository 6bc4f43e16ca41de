"""Live MIDI out from the daemon: every state the engine adopts, at the frame it adopts it, as MIDI bytes.

The engine takes a :class:`PlayState` at a block start; the control side
learns which one and at which frame (lockstep: it hands the state over
itself; live: the status board's ``state_serial`` and ``state_frame``).
:class:`MidiOut` feeds those to a :class:`~breakage_pi.midi.MidiScheduler`
and writes the messages due as audio time advances, never ahead of the
audio already rendered (so a message goes out while its block sits in the
device's buffer: a period or two ahead of the sound). The writer never
blocks (a host that does not read loses messages, counted and logged).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from ..core.instrument import ExternalClock
from ..core.playstate import PlayState
from ..core.settings import MidiConfig
from ..midi import ClockFollower, MidiScheduler, RawMidiReader, RawMidiWriter, gadget_midi_node

log = logging.getLogger("breakage_pi")


def midi_out_path(config: MidiConfig) -> str | None:
    """Where live MIDI goes: the configured path, the gadget's node for ``"auto"`` (None without a gadget),
    None for ``"none"``."""
    if config.out == "none":
        return None
    if config.out == "auto":
        return gadget_midi_node()
    return config.out


def clock_in_path(config: MidiConfig) -> str | None:
    """Where a followed MIDI clock arrives (None: not following, or ``"auto"`` without a gadget)."""
    if not config.follow_clock:
        return None
    return gadget_midi_node() if config.clock_in == "auto" else config.clock_in


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


class ClockIn:
    """Incoming MIDI clock as tempo and transport (``[midi] follow_clock``): a control loop source that
    reads the node without waiting; messages read in one pass are timed at that pass (``now``, seconds),
    jitter the follower's fit over two beats averages out."""

    def __init__(self, path: str) -> None:
        self.reader = RawMidiReader(path)
        self.follower = ClockFollower()
        log.info("following MIDI clock on %s", path)

    def poll(self, now: float) -> list[ExternalClock]:
        tempo = self.follower.tempo
        transport = None
        for message in self.reader.poll():
            transport = self.follower.feed(message, now) or transport
        self.follower.check(now)
        changed = self.follower.tempo if self.follower.tempo is not None and self.follower.tempo != tempo else None
        if changed is None and transport is None:
            return []
        return [ExternalClock(changed, transport, now)]

    def close(self) -> None:
        self.reader.close()


def follow_clock(config: MidiConfig, controller: Any) -> ClockIn | None:
    """Incoming MIDI clock as the tempo and transport (``[midi] follow_clock``, live only) for ``controller``
    (a :class:`~.controller.Controller`); None when off."""
    path = clock_in_path(config)
    if path is None:
        if config.follow_clock:
            log.info("MIDI clock: no USB gadget MIDI port; not following")
        return None
    clock = ClockIn(path)
    controller.add_source(clock.poll)
    return clock
