"""Banks as standard MIDI files and back: one 16-step pattern per bar, channel 10, the GM drum map.

Export writes a type-0 file at 480 ticks per quarter note (120 per step): a
track name, the tempo, 4/4, a text event ``breakage-pi tempo=… swing=… roles=…``
(so a round trip keeps what MIDI cannot say exactly), a marker with each
slot's name at its bar, and for every hit a note-on at its swung tick and a
note-off half a step later. Import reads any drum track: notes on channel 10
(or on every channel when none is there), quantised to the nearest swung
step, bar *n* into slot *n*.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import mido
import numpy as np

from ..core.bank import DEFAULT_ROLES, Bank, Slot
from ..core.clock import SWING_RANGE
from ..core.errors import FormatError
from ..core.pattern import CHANNELS, STEPS, Pattern
from .gm import CHANNEL_NOTES, DRUM_CHANNEL, IMPORT_NOTES, midi_velocity, velocity_from_midi

TICKS_PER_BEAT = 480
TICKS_PER_STEP = TICKS_PER_BEAT // 4
NOTE_TICKS = TICKS_PER_STEP // 2
BAR_TICKS = TICKS_PER_STEP * STEPS
TAG = "breakage-pi"


def step_tick(step: int, swing: float, ticks_per_step: int = TICKS_PER_STEP) -> int:
    """The tick where ``step`` (counted from the file's start) begins; odd steps are delayed by the swing."""
    pair, odd = divmod(step, 2)
    return pair * 2 * ticks_per_step + odd * round(2 * ticks_per_step * swing)


def bank_to_midi(bank: Bank, slots: list[int] | None = None) -> mido.MidiFile:
    """The given 1-based slots (all when None), one bar each in order, as a MIDI file."""
    numbers = list(range(1, len(bank.slots) + 1)) if slots is None else slots
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("track_name", name="Breakage Pi drums")),
        (0, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bank.tempo))),
        (0, 0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
        (0, 0, mido.MetaMessage("text", text=f"{TAG} tempo={bank.tempo:g} swing={bank.swing:g} "
                                             f"roles={','.join(bank.roles)}")),
    ]
    for bar, number in enumerate(numbers):
        slot = bank.slot(number)
        events.append((bar * BAR_TICKS, 1, mido.MetaMessage("marker", text=slot.name or f"slot {number}")))
        velocities = slot.pattern.velocities
        for step in range(STEPS):
            tick = step_tick(bar * STEPS + step, bank.swing)
            for channel in range(CHANNELS):
                velocity = int(velocities[channel, step])
                if velocity:
                    note = CHANNEL_NOTES[channel]
                    events.append((tick, 3, mido.Message("note_on", channel=DRUM_CHANNEL, note=note,
                                                         velocity=midi_velocity(velocity))))
                    events.append((tick + NOTE_TICKS, 2, mido.Message("note_off", channel=DRUM_CHANNEL, note=note)))
    events.sort(key=lambda event: (event[0], event[1]))
    track = mido.MidiTrack()
    now = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=len(numbers) * BAR_TICKS - now))
    return mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_BEAT, tracks=[track])


@dataclass(frozen=True)
class Imported:
    """A bank read from a MIDI file, with the count of notes outside the drum map (ignored)."""

    bank: Bank
    ignored_notes: int


def bank_from_midi(midi: mido.MidiFile) -> Imported:
    """Quantise a drum track into a bank, bar n into slot n (at most 16 bars)."""
    if midi.type == 2:
        raise FormatError("type 2 (asynchronous) MIDI files are not supported")
    ticks_per_step = midi.ticks_per_beat / 4
    hits, markers, tempo, swing, roles = [], {}, None, None, DEFAULT_ROLES
    for track in midi.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "note_on" and message.velocity > 0:
                hits.append((tick, message.channel, message.note, message.velocity))
            elif message.type == "set_tempo" and tempo is None:
                tempo = round(mido.tempo2bpm(message.tempo), 2)
            elif message.type == "marker":
                markers.setdefault(round(tick / ticks_per_step) // STEPS, message.text)
            elif message.type == "text" and message.text.startswith(TAG + " "):
                fields = dict(part.split("=", 1) for part in message.text.split()[1:] if "=" in part)
                tempo, swing = _number(fields.get("tempo"), tempo), _number(fields.get("swing"), swing)
                roles = tuple(fields["roles"].split(",")) if "roles" in fields else roles
    drums = [hit for hit in hits if hit[1] == DRUM_CHANNEL] or hits
    mapped = [(tick, IMPORT_NOTES[note], velocity) for tick, _, note, velocity in drums if note in IMPORT_NOTES]
    if not mapped:
        raise FormatError("no drum notes found (GM kick 35/36, snare 38/40, hats 42/44/46)")
    if swing is None:
        swing = _estimate_swing([tick / ticks_per_step for tick, _, _ in mapped])
    steps = [(_nearest_step(tick / ticks_per_step, swing), channel, velocity) for tick, channel, velocity in mapped]
    bars = max(step for step, _, _ in steps) // STEPS + 1
    if bars > 16:
        raise FormatError(f"{bars} bars of drums; a bank holds at most 16 slots of one bar each")
    grids = np.zeros((bars, CHANNELS, STEPS), dtype=np.uint8)
    for step, channel, velocity in steps:
        bar, column = divmod(step, STEPS)
        grids[bar, channel, column] = max(grids[bar, channel, column], velocity_from_midi(velocity))
    slots = tuple(Slot(markers.get(bar, f"bar {bar + 1}"), False, Pattern(grids[bar])) for bar in range(bars))
    bank = Bank(slots=slots, roles=roles, tempo=120.0 if tempo is None else tempo, swing=swing)
    return Imported(bank, len(drums) - len(mapped))


def _number(text: str | None, default: float | None) -> float | None:
    try:
        return default if text is None else float(text)
    except ValueError:
        return default


def _estimate_swing(positions: list[float]) -> float:
    """The swing that puts the off-beat 16ths where the file has them (0.5 when it has none)."""
    offsets = [position % 2 for position in positions]
    late = [offset / 2 for offset in offsets if 0.75 <= offset <= 1.75]
    if not late:
        return SWING_RANGE[0]
    return min(max(round(statistics.median(late), 3), SWING_RANGE[0]), SWING_RANGE[1])


def _nearest_step(position: float, swing: float) -> int:
    """The step (from the file's start) nearest to ``position`` (in straight steps) under ``swing``."""
    pair = int(position // 2)
    offset = position - 2 * pair
    candidates = ((0.0, 2 * pair), (2 * swing, 2 * pair + 1), (2.0, 2 * pair + 2))
    return min(candidates, key=lambda candidate: abs(offset - candidate[0]))[1]
