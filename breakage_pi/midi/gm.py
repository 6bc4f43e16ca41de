"""The General MIDI drum map and the velocity scale shared by MIDI files, live MIDI out and notes in."""

from __future__ import annotations

from ..core.errors import FormatError
from ..core.pattern import MAX_VELOCITY

DRUM_CHANNEL = 9
"""MIDI channel 10, counted from 0 as mido does: General MIDI's drum channel."""
CHANNEL_NOTES = (36, 38, 46, 42)
"""The note of each pattern channel (kick, snare, open hat, closed hat) in the GM drum map."""
IMPORT_NOTES = {35: 0, 36: 0, 38: 1, 40: 1, 46: 2, 42: 3, 44: 3}
"""Notes read back into channels: both GM bass drums, both snares, and the pedal hat as a closed hat."""


def midi_velocity(velocity: int) -> int:
    """A hit's velocity 1-255 as MIDI 1-127 (rounded; 1 stays audible as 1)."""
    if not 1 <= velocity <= MAX_VELOCITY:
        raise FormatError(f"a hit's velocity must be 1-{MAX_VELOCITY}, got {velocity}", "velocity")
    return max(1, round(velocity * 127 / MAX_VELOCITY))


def velocity_from_midi(velocity: int) -> int:
    """MIDI velocity 1-127 back to 1-255; ``midi_velocity(velocity_from_midi(m)) == m`` for every m."""
    if not 1 <= velocity <= 127:
        raise FormatError(f"a MIDI note-on velocity must be 1-127, got {velocity}", "velocity")
    return round(velocity * MAX_VELOCITY / 127)


def drum_hit(message: object, channel: int = DRUM_CHANNEL) -> tuple[int, int] | None:
    """A note-on on MIDI ``channel`` (0-15) of a drum in the map as (pattern channel, velocity 1-255); None for
    anything else (note-offs, a note-on at velocity 0, other notes and channels).

    >>> import mido
    >>> drum_hit(mido.Message("note_on", channel=9, note=35, velocity=127))
    (0, 255)
    >>> drum_hit(mido.Message("note_on", channel=9, note=40, velocity=1))
    (1, 2)
    """
    if getattr(message, "type", None) != "note_on" or message.channel != channel or not message.velocity:
        return None
    drum = IMPORT_NOTES.get(message.note)
    return None if drum is None else (drum, velocity_from_midi(message.velocity))
