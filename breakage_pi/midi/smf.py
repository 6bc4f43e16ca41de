"""Banks as standard MIDI files and back: one 16-step pattern per bar, channel 10, the GM drum map.

Export writes a type-0 file at 480 ticks per quarter note (120 per step): a
track name, the tempo, 4/4, a text event ``breakage-pi tempo=… swing=… roles=…``
(so a round trip keeps what MIDI cannot say exactly), a marker with each
slot's name at its bar (UTF-8; a lone surrogate becomes ``?``), and for every
hit a note-on at its swung tick and a note-off half a step later. Import reads
any drum track: notes on channel 10 (or on every channel when none is there),
quantised to the nearest swung step, bar *n* into slot *n*. Reading is
:mod:`.smf_reader`'s: strict, streaming and bounded, so a hostile file costs
little memory and fails with one line.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import mido
import numpy as np

from ..core.bank import DEFAULT_ROLES, MAX_SLOTS, Bank, Slot
from ..core.clock import SWING_RANGE
from ..core.errors import FormatError
from ..core.pattern import CHANNELS, STEPS, Pattern
from .gm import CHANNEL_NOTES, DRUM_CHANNEL, IMPORT_NOTES, midi_velocity, velocity_from_midi
from .smf_reader import MARKER, META, SET_TEMPO, TEXT, events, read_header

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
    timeline: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("track_name", name="Breakage Pi drums")),
        (0, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bank.tempo))),
        (0, 0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
        (0, 0, mido.MetaMessage("text", text=f"{TAG} tempo={bank.tempo:g} swing={bank.swing:g} "
                                             f"roles={','.join(bank.roles)}")),
    ]
    for bar, number in enumerate(numbers):
        slot = bank.slot(number)
        name = _meta_text(slot.name or f"slot {number}")
        timeline.append((bar * BAR_TICKS, 1, mido.MetaMessage("marker", text=name)))
        velocities = slot.pattern.velocities
        for step in range(STEPS):
            tick = step_tick(bar * STEPS + step, bank.swing)
            for channel in range(CHANNELS):
                velocity = int(velocities[channel, step])
                if velocity:
                    note = CHANNEL_NOTES[channel]
                    timeline.append((tick, 3, mido.Message("note_on", channel=DRUM_CHANNEL, note=note,
                                                           velocity=midi_velocity(velocity))))
                    timeline.append((tick + NOTE_TICKS, 2, mido.Message("note_off", channel=DRUM_CHANNEL, note=note)))
    return one_track(timeline, len(numbers) * BAR_TICKS, TICKS_PER_BEAT)


def one_track(timeline: list[tuple[int, int, mido.Message]], end: int, ticks_per_beat: int) -> mido.MidiFile:
    """A type 0 file of ``timeline``'s (tick, order, message) in tick order (at one tick, lower orders first:
    a note's end before the next note's start), ending at tick ``end``."""
    timeline.sort(key=lambda entry: (entry[0], entry[1]))
    track = mido.MidiTrack()
    now = 0
    for tick, _, message in timeline:
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end - now)))
    return mido.MidiFile(type=0, ticks_per_beat=ticks_per_beat, tracks=[track])


@dataclass(frozen=True)
class Imported:
    """A bank read from a MIDI file, with the count of notes outside the drum map (ignored)."""

    bank: Bank
    ignored_notes: int


MAX_DRUM_NOTES = 16_384
"""Drum-map notes kept from one file: 16 bars of 16 steps by 4 channels is 1024 hits, so sixteen notes to a hit
leaves room for flams and doubled notes while a 4 MB file of notes is refused after a few hundred kilobytes."""
MAX_NAME_CHARACTERS = 128
"""A marker longer than this names its slot by its first 128 characters."""
MAX_TAG_BYTES = 1024
"""A ``breakage-pi`` text event longer than this is not ours (export writes about 60 bytes) and is ignored."""


class _DrumNotes:
    """The drum-map notes of one group of channels, kept only while they can still fit in a bank."""

    def __init__(self, ticks_per_step: float) -> None:
        self.ticks_per_step = ticks_per_step
        self.past_last_bar = MAX_SLOTS * STEPS * ticks_per_step    # a note here is in bar 17 or later
        self.hits: list[tuple[int, int, int]] = []                  # (tick, pattern channel, MIDI velocity)
        self.count = 0                                              # every note-on, in the map or not
        self.unmapped = 0
        self.problem = ""                                           # why these notes cannot make a bank

    def add(self, tick: int, note: int, velocity: int) -> None:
        self.count += 1
        channel = IMPORT_NOTES.get(note)
        if channel is None:
            self.unmapped += 1
        elif self.problem:
            pass
        elif tick >= self.past_last_bar:
            bar = int(tick / self.ticks_per_step) // STEPS + 1
            self._give_up(f"drum notes past bar {MAX_SLOTS} (one in bar {bar}); "
                          f"a bank holds at most {MAX_SLOTS} slots of one bar each")
        elif len(self.hits) == MAX_DRUM_NOTES:
            self._give_up(f"more than {MAX_DRUM_NOTES} drum notes; a bank of {MAX_SLOTS} one-bar slots holds "
                          f"at most {MAX_SLOTS * STEPS * CHANNELS} hits")
        else:
            self.hits.append((tick, channel, velocity))

    def _give_up(self, problem: str) -> None:
        self.problem = problem
        self.hits = []


def bank_from_midi(data: bytes) -> Imported:
    """Quantise the drum track of the MIDI file held in ``data`` into a bank, bar n into slot n (at most 16 bars).

    The file is read as a stream and only the drum-map notes of the first 16
    bars are kept (at most :data:`MAX_DRUM_NOTES`): a file that cannot make a
    bank fails as soon as that is certain, in memory bounded by those caps.
    """
    header = read_header(data)
    if header.format == 2:
        raise FormatError("type 2 (asynchronous) MIDI files are not supported")
    ticks_per_step = header.ticks_per_beat / 4
    drums, others = _DrumNotes(ticks_per_step), _DrumNotes(ticks_per_step)   # channel 10; every other channel
    markers: dict[int, str] = {}
    tempo, swing, roles = None, None, DEFAULT_ROLES
    tag = TAG.encode() + b" "
    for event in events(data, header):
        if event.status & 0xF0 == 0x90 and event.data2:
            if event.status & 0x0F == DRUM_CHANNEL:
                drums.add(event.tick, event.data1, event.data2)
                if drums.problem:
                    raise FormatError(drums.problem)
            else:
                others.add(event.tick, event.data1, event.data2)
        elif event.status != META:
            continue
        elif event.data1 == SET_TEMPO and tempo is None:
            tempo = round(60_000_000 / int.from_bytes(event.payload, "big"), 2)
        elif event.data1 == MARKER:
            bar = round(event.tick / ticks_per_step) // STEPS
            if bar < MAX_SLOTS and bar not in markers:
                markers[bar] = _text(event.payload)[:MAX_NAME_CHARACTERS]
        elif event.data1 == TEXT and event.payload.startswith(tag) and len(event.payload) <= MAX_TAG_BYTES:
            text = _text(event.payload)
            fields = dict(part.split("=", 1) for part in text.split()[1:] if "=" in part)
            tempo, swing = _number(fields.get("tempo"), tempo), _number(fields.get("swing"), swing)
            roles = tuple(fields["roles"].split(",")) if "roles" in fields else roles
    chosen = drums if drums.count else others
    if chosen.problem:
        raise FormatError(chosen.problem)
    mapped = chosen.hits
    if not mapped:
        raise FormatError("no drum notes found (GM kick 35/36, snare 38/40, hats 42/44/46)")
    if swing is None:
        swing = _estimate_swing([tick / ticks_per_step for tick, _, _ in mapped])
    steps = [(_nearest_step(tick / ticks_per_step, swing), channel, velocity) for tick, channel, velocity in mapped]
    bars = max(step for step, _, _ in steps) // STEPS + 1
    if bars > MAX_SLOTS:
        raise FormatError(f"{bars} bars of drums; a bank holds at most {MAX_SLOTS} slots of one bar each")
    grids = np.zeros((bars, CHANNELS, STEPS), dtype=np.uint8)
    for step, channel, velocity in steps:
        bar, column = divmod(step, STEPS)
        grids[bar, channel, column] = max(grids[bar, channel, column], velocity_from_midi(velocity))
    slots = tuple(Slot(markers.get(bar, f"bar {bar + 1}"), False, Pattern(grids[bar])) for bar in range(bars))
    bank = Bank(slots=slots, roles=roles, tempo=120.0 if tempo is None else tempo, swing=swing)
    return Imported(bank, chosen.unmapped)


def _text(payload: bytes) -> str:
    """A text event's bytes as text: UTF-8 (as export writes) or, failing that, Latin-1 (as many tools write)."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("latin-1")


def _meta_text(text: str) -> str:
    """``text`` for a mido meta event so that the file holds its UTF-8 bytes.

    A text event holds bytes; mido encodes its ``text`` as Latin-1, which
    fails on any name beyond Latin-1 and on a lone surrogate (valid in a
    bank's JSON). So encode as UTF-8 here, a lone surrogate becoming ``?``,
    and hand mido the Latin-1 spelling of those bytes.
    """
    return text.encode("utf-8", "replace").decode("latin-1")


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
