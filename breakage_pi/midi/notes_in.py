"""MIDI in: one rawmidi node read by one parser, its clock to a :class:`ClockFollower`, its drum notes to
the instrument (``[midi] input``), as the state machine's events.

A node the clock and the notes share (the USB gadget's port, by default) is
read once: a second reader would steal bytes from the first. Each poll times
what it read at ``now``, and a note at where the engine stood then
(``position``: the column sounding, frames into that step, the step's
length), so the state machine can put it on the nearest step.
"""

from __future__ import annotations

import logging
from typing import Callable

from ..core.instrument import ExternalClock, NoteIn
from .follow import ClockFollower, RawMidiReader
from .gm import drum_hit

log = logging.getLogger(__name__)

Position = Callable[[], tuple[int, int, int]]
"""Where the engine stands now: (column sounding or -1, frames into that step, the step's length in frames)."""


class MidiInput:
    """Reads ``path`` without waiting: clock and transport when ``follower`` is given, drum notes on MIDI
    channel ``notes_channel`` (1-16) when it is not None.

    ``notes`` and ``ignored`` count the drum notes taken and the other note-ons passed over.

    >>> midi_in = MidiInput("/dev/snd/midiC1D0", notes_channel=10, position=lambda: (-1, 0, 0))
    >>> midi_in.poll(0.0)
    []
    """

    def __init__(self, path: str, follower: ClockFollower | None = None, notes_channel: int | None = None,
                 position: Position = lambda: (-1, 0, 0)) -> None:
        self.reader = RawMidiReader(path)
        self.follower = follower
        self.channel = None if notes_channel is None else notes_channel - 1
        self.position = position
        self.notes = self.ignored = 0
        what = [name for name, on in (("clock", follower is not None), ("notes", notes_channel is not None)) if on]
        channel = f" on channel {notes_channel}" if notes_channel is not None else ""
        log.info("MIDI in on %s: %s%s", path, " and ".join(what), channel)

    def poll(self, now: float) -> list[ExternalClock | NoteIn]:
        """What arrived since the last poll, as events, in the order it arrived (``now``: seconds)."""
        follower = self.follower
        tempo = follower.tempo if follower is not None else None
        transport = None
        events: list[ExternalClock | NoteIn] = []
        for message in self.reader.poll():
            if follower is not None:
                transport = follower.feed(message, now) or transport
            if self.channel is None or message.type != "note_on":
                continue
            hit = drum_hit(message, self.channel)
            if hit is None:
                self.ignored += bool(message.velocity)
                continue
            self.notes += 1
            step, into_step, step_frames = self.position()
            events.append(NoteIn(hit[0], hit[1], now, step, into_step, step_frames))
        if follower is not None:
            follower.check(now)
            changed = follower.tempo if follower.tempo is not None and follower.tempo != tempo else None
            if changed is not None or transport is not None:
                events.insert(0, ExternalClock(changed, transport, now))
        return events

    def close(self) -> None:
        self.reader.close()
