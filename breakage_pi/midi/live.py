"""Live MIDI out as a pure schedule: what plays and an audio-frame window in, timed MIDI messages out.

The scheduler follows the transport exactly as the audio player does (the
same :class:`StepClock`, started at the frame play starts, retimed at the
next step boundary on a tempo or swing change, stopped at once), so every
note-on carries the frame of the hit it stands for. No I/O, no time read.

- Start: Song Position 0, then Start, at the start frame.
- Clock: 24 pulses per quarter note. Each pair of steps (an 8th note, which
  swing never moves) gets 12 pulses spread evenly, so the clock keeps the
  tempo steady under swing while its beats land exactly on the step clock;
  a tempo change moves the pulses from the next step on.
- Notes: every hit of the pattern it is given (the caller passes what
  really plays: after the gate and chance, mutes applied here), on channel 10
  with the GM drum map, velocity 1-255 as 1-127, note-off half a step later.
- Stop: pending note-offs, then Stop.
- A state's ``queued`` pattern takes over at the next bar line, once per
  ``queue_token``, as in the player (slot queueing, chance's per-bar draws).
- One-shot hits (notes played in on MIDI) go out at the frame the state
  carrying them is adopted, each once, and swallow the pattern's hit they
  stand for, as in the player: MIDI out is what sounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import mido

from ..core.clock import StepClock
from ..core.pattern import CHANNELS, STEPS
from ..core.playstate import PlayState
from .gm import CHANNEL_NOTES, DRUM_CHANNEL, midi_velocity

PULSES_PER_PAIR = 12  # 24 per quarter note, a quarter being two pairs of 16ths
_ORDER = {"note_off": 0, "songpos": 1, "start": 2, "stop": 2, "clock": 3, "note_on": 4}


@dataclass(frozen=True)
class TimedMessage:
    """A MIDI message and the audio frame it belongs to (frames counted as the engine's player counts them)."""

    frame: int
    message: mido.Message


class MidiScheduler:
    """Turns play states and frame windows into timed MIDI messages.

    Call :meth:`apply` with each new :class:`PlayState` and the frame at which
    the player adopts it (the start of its next block), and :meth:`window`
    with the frame the audio has reached; messages come out in order, each
    once.

    >>> from breakage_pi.core import Pattern
    >>> midi = MidiScheduler(48_000)
    >>> midi.apply(PlayState(Pattern().with_velocity(0, 0, 255)), frame=0)
    >>> [m.message.type for m in midi.window(1)]
    ['songpos', 'start', 'clock', 'note_on']
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.frame = 0
        self._state: PlayState | None = None
        self._clock: StepClock | None = None
        self._pulse = 0
        self._last_pulse_frame = 0
        self._note_offs: dict[int, int] = {}
        self._ready: list[TimedMessage] = []
        self.switched = 0
        """The queue token of the last bar-line switch (as :attr:`Player.switched`)."""
        self.last_hit = 0
        self._swallow: dict[int, tuple[int, int]] = {}      # channel -> (column, before frame), as the player
        self._hit_notes: list[TimedMessage] = []             # the hits' notes, out in time order with the rest

    def apply(self, state: PlayState, frame: int) -> None:
        """``state`` plays from ``frame`` on (as :meth:`Player.set_state` applied at that block's start)."""
        self._ready += self._advance(frame)
        if self._state is None:
            self.last_hit = state.last_hit          # as the player: the first snapshot's hits are history
        old, self._state = self._state, state
        if state.playing and self._clock is None:
            self._clock = StepClock(state.tempo, state.swing, self.rate, origin_step=0, origin_sample=frame)
            self._pulse, self._last_pulse_frame = 0, frame
            self._ready += [TimedMessage(frame, mido.Message("songpos", pos=0)),
                            TimedMessage(frame, mido.Message("start"))]
        elif not state.playing and self._clock is not None:
            self._clock = None
            self._ready += self._release(frame) + [TimedMessage(frame, mido.Message("stop"))]
        elif self._clock is not None and old is not None and (state.tempo, state.swing) != (old.tempo, old.swing):
            next_step = self._clock.step_at(frame - 1) + 1
            self._clock = self._clock.retimed(state.tempo, state.swing, next_step)
        self._hit_notes += self._hits(state, frame)

    def _hits(self, state: PlayState, frame: int) -> list[TimedMessage]:
        step = round(StepClock(state.tempo, state.swing, self.rate).samples_per_step)
        out: list[TimedMessage] = []
        for hit in state.hits_after(self.last_hit):
            self.last_hit = hit.serial
            if state.mutes[hit.channel]:
                continue
            out += self._note(hit.channel, hit.velocity, frame, max(1, step // 2), frame + 1)
            if self._clock is not None:
                self._swallow[hit.channel] = (hit.swallow, frame + step)
        return out

    def _note(self, channel: int, velocity: int, at: int, length: int, stop: int) -> list[TimedMessage]:
        """A note-on at ``at`` (ending the same note first if it still sounds) and its note-off ``length``
        later: in the list when before ``stop``, else pending."""
        note = CHANNEL_NOTES[channel]
        out = []
        if note in self._note_offs:
            self._note_offs.pop(note)
            out.append(TimedMessage(at, mido.Message("note_off", channel=DRUM_CHANNEL, note=note)))
        out.append(TimedMessage(at, mido.Message("note_on", channel=DRUM_CHANNEL, note=note,
                                                 velocity=midi_velocity(velocity))))
        if at + length < stop:
            out.append(TimedMessage(at + length, mido.Message("note_off", channel=DRUM_CHANNEL, note=note)))
        else:
            self._note_offs[note] = at + length
        return out

    def _swallowed(self, channel: int, column: int, at: int) -> bool:
        swallow = self._swallow.get(channel)
        if swallow is None or swallow[0] != column:
            return False
        del self._swallow[channel]
        return at < swallow[1]

    def window(self, stop: int) -> list[TimedMessage]:
        """Every message with a frame before ``stop`` not yet returned, in order."""
        ready, self._ready = self._ready + self._advance(stop), []
        return ready

    def _advance(self, stop: int) -> list[TimedMessage]:
        start, clock, state = self.frame, self._clock, self._state
        if stop <= start:
            return []
        self.frame = stop
        out = [timed for timed in self._hit_notes if timed.frame < stop]
        self._hit_notes = [timed for timed in self._hit_notes if timed.frame >= stop]
        for note, at in [(note, at) for note, at in self._note_offs.items() if at < stop]:
            del self._note_offs[note]
            out.append(TimedMessage(at, mido.Message("note_off", channel=DRUM_CHANNEL, note=note)))
        if clock is None or state is None:
            return _sorted(out)
        while (at := max(self._pulse_frame(clock, self._pulse), self._last_pulse_frame, start)) < stop:
            out.append(TimedMessage(at, mido.Message("clock")))
            self._pulse += 1
            self._last_pulse_frame = at
        length = max(1, round(clock.samples_per_step / 2))
        for step, at in clock.steps_in(start, stop):
            if step % STEPS == 0 and step > 0 and state.queued is not None and state.queue_token != self.switched:
                self.switched = state.queue_token
            playing = state.queued if state.queued is not None and state.queue_token == self.switched \
                else state.pattern
            velocities = playing.velocities
            for channel in range(CHANNELS):
                velocity = int(velocities[channel, step % STEPS])
                if not velocity or state.mutes[channel] or self._swallowed(channel, step % STEPS, at):
                    continue
                # a note still sounding (a tempo change shortened the step) is ended first
                out += self._note(channel, velocity, at, length, stop)
        return _sorted(out)

    def _release(self, frame: int) -> list[TimedMessage]:
        notes, self._note_offs = sorted(self._note_offs), {}
        return [TimedMessage(frame, mido.Message("note_off", channel=DRUM_CHANNEL, note=note)) for note in notes]

    @staticmethod
    def _pulse_frame(clock: StepClock, pulse: int) -> int:
        pair, index = divmod(pulse, PULSES_PER_PAIR)
        begin, end = clock.step_start(2 * pair), clock.step_start(2 * pair + 2)
        return begin + round(index * (end - begin) / PULSES_PER_PAIR)


def _sorted(messages: list[TimedMessage]) -> list[TimedMessage]:
    return sorted(messages, key=lambda timed: (timed.frame, _ORDER[timed.message.type]))
