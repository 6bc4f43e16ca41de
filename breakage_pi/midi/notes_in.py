"""MIDI in: one rawmidi node read by one parser, its clock to a :class:`ClockFollower`, its drum notes to
the instrument (``[midi] input``), as the state machine's events.

A node the clock and the notes share (the USB gadget's port, by default) is
read once: a second reader would steal bytes from the first. A note is
placed where the engine stands when the control loop takes it
(``position``: the column sounding, frames into that step, the step's
length), so the state machine can put it on the nearest step.

Polled (scripted sessions), what a poll reads is timed at that poll. With
``wake`` (live), a thread of its own blocks on the node, times bytes as they
arrive and wakes the control loop, so a note does not wait for the loop's
next heartbeat; the loop still does all the deciding.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

import mido

from ..core.instrument import ExternalClock, NoteIn
from .follow import ClockFollower, RawMidiReader
from .gm import drum_hit

log = logging.getLogger(__name__)

LISTEN_TIMEOUT_S = 0.2
"""The reading thread looks up from the node this often (to end, or to retry an absent node)."""
Position = Callable[[], tuple[int, int, int]]
"""Where the engine stands now: (column sounding or -1, frames into that step, the step's length in frames)."""
NoteHook = Callable[[int, int, int], None]
"""Hears each drum note taken, as it arrived: (MIDI note 0-127, MIDI velocity 1-127, MIDI channel 1-16)."""


class MidiInput:
    """Reads ``path`` without waiting: clock and transport when ``follower`` is given, drum notes on MIDI
    channel ``notes_channel`` (1-16) when it is not None.

    ``notes`` and ``ignored`` count the drum notes taken and the other note-ons passed over; ``on_note``
    hears each note taken, as it came in (a take records it), on the thread that polls. With
    ``wake``, a thread reads the node and calls ``wake()`` when bytes arrive (times from ``clock``).

    >>> midi_in = MidiInput("/dev/snd/midiC1D0", notes_channel=10, position=lambda: (-1, 0, 0))
    >>> midi_in.poll(0.0)
    []
    """

    def __init__(self, path: str, follower: ClockFollower | None = None, notes_channel: int | None = None,
                 position: Position = lambda: (-1, 0, 0), wake: Callable[[], None] | None = None,
                 clock: Callable[[], float] = time.monotonic, on_note: NoteHook | None = None) -> None:
        self.reader = RawMidiReader(path)
        self.follower = follower
        self.channel = None if notes_channel is None else notes_channel - 1
        self.position = position
        self.on_note: NoteHook = on_note or (lambda note, velocity, channel: None)
        self.notes = self.ignored = 0
        what = [name for name, on in (("clock", follower is not None), ("notes", notes_channel is not None)) if on]
        channel = f" on channel {notes_channel}" if notes_channel is not None else ""
        log.info("MIDI in on %s: %s%s", path, " and ".join(what), channel)
        self._arrived: queue.SimpleQueue[tuple[list[mido.Message], float]] = queue.SimpleQueue()
        self._closing = threading.Event()
        self._listener: threading.Thread | None = None
        if wake is not None:
            self._listener = threading.Thread(target=self._listen, args=(wake, clock), name="midi-in", daemon=True)
            self._listener.start()

    def _listen(self, wake: Callable[[], None], clock: Callable[[], float]) -> None:
        """The reading thread: block on the node, hand what arrived to the loop with its time, wake it."""
        while not self._closing.is_set():
            if not self.reader.wait(LISTEN_TIMEOUT_S):
                continue
            messages = self.reader.poll()
            if messages:
                self._arrived.put((messages, clock()))
                wake()
            elif self.reader.ended:                # a FIFO with no writer reads as ready forever: rest
                self._closing.wait(LISTEN_TIMEOUT_S)

    def _batches(self, now: float) -> list[tuple[list[mido.Message], float]]:
        if self._listener is None:
            return [(self.reader.poll(), now)]
        batches = []
        while True:
            try:
                batches.append(self._arrived.get_nowait())
            except queue.Empty:
                return batches

    def poll(self, now: float) -> list[ExternalClock | NoteIn]:
        """What arrived since the last poll, as events, in the order it arrived (``now``: seconds)."""
        follower = self.follower
        tempo = follower.tempo if follower is not None else None
        transport = None
        events: list[ExternalClock | NoteIn] = []
        for message, at in ((m, at) for messages, at in self._batches(now) for m in messages):
            if follower is not None:
                transport = follower.feed(message, at) or transport
            if self.channel is None or message.type != "note_on":
                continue
            hit = drum_hit(message, self.channel)
            if hit is None:
                self.ignored += bool(message.velocity)
                continue
            self.notes += 1
            self.on_note(message.note, message.velocity, message.channel + 1)
            step, into_step, step_frames = self.position()
            events.append(NoteIn(hit[0], hit[1], at, step, into_step, step_frames))
        if follower is not None:
            follower.check(now)
            changed = follower.tempo if follower.tempo is not None and follower.tempo != tempo else None
            if changed is not None or transport is not None:
                events.insert(0, ExternalClock(changed, transport, now))
        return events

    def close(self) -> None:
        self._closing.set()
        if self._listener is not None:
            self._listener.join()
        self.reader.close()
