"""A take's MIDI file: what played, note for note, as the live MIDI out would have sent it.

The states the engine adopted during the take, each at its frame, go
through the same :class:`~.live.MidiScheduler` as live MIDI out (the notes
after the gate and chance, mutes applied, the GM drum map of
``export-midi``, note-off half a step later); its note messages are kept
with their frames and written as a type-0 file with a tempo event wherever
the tempo changed, so a DAW places each note where it sounded. Frames map to
ticks through that same tempo map, so decoding the file (mido's
``tick2second``) gives every note's time to within a tick (~0.5 ms at 120 BPM).
The hits are also counted per channel, split into the net's and the player's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mido

from ..core.pattern import CHANNELS
from ..core.playstate import PlayState
from .gm import CHANNEL_NOTES
from .live import MidiScheduler
from .smf import one_track

TICKS_PER_BEAT = 960
_CHANNEL_OF = {note: channel for channel, note in enumerate(CHANNEL_NOTES)}


@dataclass
class HitCounts:
    """Hits per channel that the net played (its output rows in PERFORM) and that the player did."""

    net: list[int] = field(default_factory=lambda: [0] * CHANNELS)
    player: list[int] = field(default_factory=lambda: [0] * CHANNELS)


class TakeMidi:
    """Collects a take's notes; frames count from the take's first frame.

    >>> from breakage_pi.core import Pattern
    >>> midi = TakeMidi(48_000)
    >>> midi.adopted(PlayState(Pattern().with_velocity(0, 0, 255)), frame=0, net_rows=())
    >>> midi.advance(96_000)                        # a bar at 120 BPM: one kick
    >>> [(m.type, m.note) for m in midi.to_midi(96_000).tracks[0] if m.type.startswith("note")]
    [('note_on', 36), ('note_off', 36)]
    >>> midi.hits.player
    [1, 0, 0, 0]
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._scheduler = MidiScheduler(rate)
        self._notes: list[tuple[int, mido.Message]] = []
        self._tempos: list[tuple[int, float]] = []
        self._net_rows: tuple[int, ...] = ()
        self.hits = HitCounts()

    def adopted(self, state: PlayState, frame: int, net_rows: tuple[int, ...]) -> None:
        """``state`` plays from ``frame`` on; ``net_rows``: the channels the net wrote in it."""
        self._take(self._scheduler.window(frame))
        self._net_rows = net_rows
        if not self._tempos or self._tempos[-1][1] != state.tempo:
            self._tempos.append((frame, state.tempo))
        self._scheduler.apply(state, frame)

    def advance(self, frame: int) -> None:
        """The audio has reached ``frame``: collect what played before it."""
        self._take(self._scheduler.window(frame))

    def _take(self, timed: list) -> None:
        for item in timed:
            message = item.message
            if message.type not in ("note_on", "note_off"):
                continue
            self._notes.append((item.frame, message))
            if message.type == "note_on":
                channel = _CHANNEL_OF[message.note]
                counts = self.hits.net if channel in self._net_rows else self.hits.player
                counts[channel] += 1

    def to_midi(self, end_frame: int) -> mido.MidiFile:
        """The take as a type-0 MIDI file lasting ``end_frame`` frames (notes still sounding end there)."""
        self.advance(end_frame)
        tempos = self._tempos or [(0, 120.0)]
        events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [
            (0, 0, mido.MetaMessage("track_name", name="Breakage Pi take")),
            (0, 0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
        ]
        for frame, tempo in tempos:
            events.append((self._tick(frame, tempos), 1, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo))))
        sounding: set[int] = set()
        for frame, message in self._notes:
            if frame >= end_frame:
                continue
            (sounding.add if message.type == "note_on" else sounding.discard)(message.note)
            events.append((self._tick(frame, tempos), 2 if message.type == "note_off" else 3, message))
        end = self._tick(end_frame, tempos)
        for note in sorted(sounding):
            events.append((end, 2, mido.Message("note_off", channel=9, note=note)))
        return one_track(events, end, TICKS_PER_BEAT)

    def _tick(self, frame: int, tempos: list[tuple[int, float]]) -> int:
        """The tick of ``frame`` under the tempo map ``tempos`` ((frame, BPM) from frame 0)."""
        ticks = 0.0
        for index, (start, tempo) in enumerate(tempos):
            stop = tempos[index + 1][0] if index + 1 < len(tempos) else None
            if stop is not None and frame >= stop:
                ticks += (stop - start) * tempo / 60 * TICKS_PER_BEAT / self.rate
                continue
            return round(ticks + (frame - start) * tempo / 60 * TICKS_PER_BEAT / self.rate)
        return round(ticks)
