"""A strict, streaming reader of standard MIDI files: bytes in, events out, nothing built that the caller drops.

A MIDI file comes from anyone, so every length, status byte and meta event
is checked against the SMF 1.0 spec before it is trusted; anything malformed
raises :class:`MidiFileError` with the track and byte where it was found.
Events are yielded one at a time (system-exclusive messages are skipped), so
a caller that keeps only what it needs uses memory bounded by what it keeps,
not by the file. Lenient where every reader is: unknown chunks and unknown
meta events are skipped, running status survives a meta or sysex event, a
track may end without an end-of-track event, and bytes after the last
announced track are ignored.

>>> data = (b"MThd\\0\\0\\0\\6\\0\\0\\0\\1\\1\\xe0" + b"MTrk\\0\\0\\0\\x08"
...         + b"\\x00\\x99\\x24\\x64" + b"\\x00\\xff\\x2f\\x00")
>>> header = read_header(data)
>>> header.ticks_per_beat, [(event.tick, event.status, event.data1) for event in events(data, header)]
(480, [(0, 153, 36), (0, 255, 47)])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, NamedTuple

from ..core.errors import FormatError

META = 0xFF
END_OF_TRACK = 0x2F
SET_TEMPO = 0x51
MARKER = 0x06
TEXT = 0x01

_META_LENGTHS = {0x20: (1,), 0x21: (1,), END_OF_TRACK: (0,), SET_TEMPO: (3,), 0x54: (5,), 0x58: (4,), 0x59: (2,),
                 0x00: (0, 2)}
"""Meta events whose length the spec fixes: channel prefix, port, end of track, tempo, SMPTE offset, time and key
signature, sequence number."""
_META_NAMES = {0x20: "channel prefix", 0x21: "port", END_OF_TRACK: "end of track", SET_TEMPO: "set tempo",
               0x54: "SMPTE offset", 0x58: "time signature", 0x59: "key signature", 0x00: "sequence number"}
_HEADER = b"MThd"
_TRACK = b"MTrk"


class MidiFileError(FormatError):
    """A MIDI file breaks the SMF spec; the message says where (track, byte) and how."""


@dataclass(frozen=True)
class MidiHeader:
    """The MThd chunk: format 0, 1 or 2, the number of tracks, ticks per quarter note; ``end`` is its last byte + 1."""

    format: int
    tracks: int
    ticks_per_beat: int
    end: int


class MidiEvent(NamedTuple):
    """One event: its absolute tick in its track; a channel message's status and data bytes (``data2`` 0 when
    it has one), or ``status`` 0xFF with the meta type in ``data1`` and its bytes in ``payload``."""

    track: int
    tick: int
    status: int
    data1: int
    data2: int
    payload: bytes


def read_header(data: bytes) -> MidiHeader:
    """The checked header of a MIDI file held in ``data``."""
    if len(data) < 8 and _HEADER.startswith(data[:4]):
        raise _unreadable("it ends too soon: empty or truncated")
    if data[:4] != _HEADER:
        raise _unreadable("it does not start with 'MThd'")
    length = int.from_bytes(data[4:8], "big")
    if length < 6:
        raise _unreadable(f"its header chunk is {length} bytes long, at least 6 expected")
    if len(data) < 8 + length:
        raise _unreadable(f"it ends inside its header: {length} bytes announced, {len(data) - 8} there")
    midi_format, tracks, division = (int.from_bytes(data[offset:offset + 2], "big") for offset in (8, 10, 12))
    if midi_format > 2:
        raise _unreadable(f"unknown format {midi_format} in its header (0, 1 or 2 expected)")
    if division & 0x8000:
        frames = 256 - (division >> 8)
        raise MidiFileError(f"its time base is SMPTE ({frames} frames a second, {division & 0xFF} ticks a frame), "
                            "which is not supported: save it with ticks per quarter note")
    if division == 0:
        raise _unreadable("its header gives 0 ticks per quarter note")
    return MidiHeader(midi_format, tracks, division, 8 + length)


def events(data: bytes, header: MidiHeader) -> Iterator[MidiEvent]:
    """Every channel and meta event of every track, in file order (tracks one after another)."""
    position = header.end
    for track in range(header.tracks):
        while True:
            if len(data) - position < 8:
                raise _unreadable(f"the header announces {header.tracks} track(s), the file ends after {track}")
            kind, length = data[position:position + 4], int.from_bytes(data[position + 4:position + 8], "big")
            start, position = position + 8, position + 8 + length
            if position > len(data):
                raise _unreadable(f"track {track + 1}, byte {start - 8}: a {_chunk_name(kind)} chunk of "
                                    f"{length} bytes, only {len(data) - start} left in the file")
            if kind == _TRACK:
                break
        yield from _track_events(data, start, position, track + 1)


def _track_events(data: bytes, position: int, end: int, track: int) -> Iterator[MidiEvent]:
    tick, running = 0, 0
    while position < end:
        at = position
        delta, position = _variable_length(data, position, end, track)
        tick += delta
        if position >= end:
            raise _error(track, at, "the track ends inside an event")
        status = data[position]
        if status & 0x80:
            position += 1
        elif running:
            status = running
        else:
            raise _error(track, position, f"data byte 0x{status:02x} where a status byte belongs "
                                          "(running status with no status before it)")
        if status == META:
            if position >= end:
                raise _error(track, at, "the track ends inside a meta event")
            kind = data[position]
            length, position = _variable_length(data, position + 1, end, track)
            payload = _payload(data, position, length, end, track, at)
            position += length
            _check_meta(kind, payload, track, at)
            yield MidiEvent(track, tick, META, kind, 0, payload)
            if kind == END_OF_TRACK:
                return
        elif status in (0xF0, 0xF7):
            length, position = _variable_length(data, position, end, track)
            _payload(data, position, length, end, track, at)
            position += length
        elif status > 0xF0:
            raise _error(track, at, f"status byte 0x{status:02x} (a real-time or system message) "
                                    "does not belong in a MIDI file")
        else:
            running = status
            size = 1 if status & 0xF0 in (0xC0, 0xD0) else 2
            if position + size > end:
                raise _error(track, at, "the track ends inside a channel message")
            first = data[position]
            second = data[position + 1] if size == 2 else 0
            if (first | second) & 0x80:
                raise _error(track, at, f"a channel message 0x{status:02x} with a data byte of 0x80 or more")
            position += size
            yield MidiEvent(track, tick, status, first, second, b"")


def _variable_length(data: bytes, position: int, end: int, track: int) -> tuple[int, int]:
    """A variable-length quantity (at most 4 bytes, as the spec allows) and the position after it."""
    value = 0
    for index in range(position, min(position + 4, end)):
        byte = data[index]
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, index + 1
    if end - position < 4:
        raise _error(track, position, "the track ends inside a variable-length number")
    raise _error(track, position, "a variable-length number longer than 4 bytes")


def _payload(data: bytes, position: int, length: int, end: int, track: int, at: int) -> bytes:
    if position + length > end:
        raise _error(track, at, f"an event of {length} bytes, only {end - position} left in the track")
    return data[position:position + length]


def _check_meta(kind: int, payload: bytes, track: int, at: int) -> None:
    lengths = _META_LENGTHS.get(kind)
    if lengths is not None and len(payload) not in lengths:
        expected = " or ".join(str(length) for length in lengths)
        raise _error(track, at, f"a meta event '{_META_NAMES[kind]}' of {len(payload)} byte(s) ({expected} expected)")
    if kind == SET_TEMPO and int.from_bytes(payload, "big") == 0:
        raise _error(track, at, "a tempo of 0 microseconds per quarter note")


def _chunk_name(kind: bytes) -> str:
    return repr(kind.decode("latin-1")) if kind.isascii() and kind.decode().isprintable() else f"0x{kind.hex()}"


def _error(track: int, position: int, reason: str) -> MidiFileError:
    return _unreadable(f"track {track}, byte {position}: {reason}")


def _unreadable(reason: str) -> MidiFileError:
    return MidiFileError(f"not a readable MIDI file ({reason})")
