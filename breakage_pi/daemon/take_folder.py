"""A take on disk: ``takes/<name>/`` in the data directory, and reading one back.

``<name>`` is the take's start time, ``YYYY-MM-DD_HHMMSS`` (UTC; ``-2``, ``-3``
... if that second already has one). The folder holds:

- ``take.wav``: the engine's own output, 16-bit stereo, growing while it records
  (:mod:`.take_wav`);
- ``performance.txt``: every pad, button and knob action of the take and every
  drum note MIDI in took (``note`` lines, as the note arrived) with its audio
  time, in the ``--script`` format (ms from the take's first sample);
- ``bank.json``, ``state.json`` and ``*.onnx``: the bank, settings (slot, mode,
  net, knob positions, kit...) and nets it started from (the folder is flat, so
  ``breakage-pi sync`` moves it as one item);
- ``take.mid``: what played, for a DAW (:mod:`breakage_pi.midi.take_midi`);
- ``take.json``: start time, length, tempo, slots and nets used, xruns and drops,
  the player's changes to the bank's corrections (``corrections``: made, removed,
  undone, and how many the bank held at the start and end) and the MIDI in
  settings the notes were taken with (``midi_in``: ``input`` and ``channel`` of
  ``[midi]``; the note map is General MIDI's, fixed) and how corrections retrained
  the nets (``learn``, ``[nets] learn``) (:data:`TAKE_FORMAT` version 1).

Everything but the growing WAV is written atomically; ``take.json`` is
written when the take starts (``"ended": "recording"``) and again when it
ends, so a take cut short by a power cut still says what it is.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mido

from ..core.bank import Bank, bank_to_data
from ..core.errors import FormatError, VersionError
from ..core.instrument import NOTE_MODES
from ..core.script import ScriptEvent, format_script, parse_script
from ..core.settings import LEARN_MODES, MidiConfig
from ..store import atomic_write_bytes, atomic_writer, fsync_directory, load_bank, read_json, read_text, write_json

TAKES = "takes"
WAV, PERFORMANCE, MIDI, INFO = "take.wav", "performance.txt", "take.mid", "take.json"
BANK, STATE = "bank.json", "state.json"
TAKE_FORMAT = "breakage-pi/take"
TAKE_VERSION = 1
CORRECTION_COUNTS = ("made", "removed", "undone", "at_start", "at_end")
"""``take.json``'s ``corrections``: the player's changes to them during the take, the bank's count at its ends."""
RECORDING = "recording"
"""``take.json``'s ``ended`` while the take is being recorded (or was cut off by a crash or power cut)."""


class TakeError(FormatError):
    """A take folder that cannot be read (missing or malformed files); the message names the file."""


def take_name(started: datetime.datetime) -> str:
    """A take's folder name from its start time (UTC)."""
    return started.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d_%H%M%S")


def new_take_folder(data_root: Path, started: datetime.datetime) -> Path:
    """Create ``takes/<name>/`` (durably) and return it; a second take in the same second gets ``-2``."""
    takes = data_root / TAKES
    takes.mkdir(exist_ok=True)
    base = take_name(started)
    for number in range(1, 1000):
        folder = takes / (base if number == 1 else f"{base}-{number}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        fsync_directory(takes)
        return folder
    raise FileExistsError(f"{takes}: too many takes started at {base}")


def midi_in_settings(midi: MidiConfig = MidiConfig()) -> dict[str, Any]:
    """``take.json``'s ``midi_in``: what a drum note on MIDI in did in the take (``input``) and which MIDI
    channel it was taken on; a take without it (none had notes) reads as ``[midi]``'s defaults.

    >>> midi_in_settings(MidiConfig(input="play", channel=3))
    {'input': 'play', 'channel': 3}
    """
    return {"input": midi.input, "channel": midi.channel}


def write_start(folder: Path, bank: Bank, settings: dict[str, Any], nets: list[tuple[str, bytes]]) -> None:
    """What the take starts from: the bank, the settings (``state.json``'s content) and the nets' files."""
    write_json(folder / BANK, bank_to_data(bank))
    write_json(folder / STATE, settings)
    for name, data in nets:
        atomic_write_bytes(folder / name, data)
    fsync_directory(folder)


def write_info(folder: Path, info: dict[str, Any]) -> None:
    write_json(folder / INFO, {"format": TAKE_FORMAT, "version": TAKE_VERSION, **info})


def write_performance(folder: Path, events: list[ScriptEvent], comment: str) -> None:
    atomic_write_bytes(folder / PERFORMANCE, format_script(events, comment).encode("utf-8"))


def write_midi(folder: Path, midi: mido.MidiFile) -> None:
    with atomic_writer(folder / MIDI) as handle:
        midi.save(file=handle)


@dataclass(frozen=True)
class Take:
    """A take read back: its folder, ``take.json``, the bank and settings it started from and its script."""

    folder: Path
    info: dict[str, Any]
    bank: Bank
    settings: dict[str, Any]
    script: list[ScriptEvent]

    @property
    def nets(self) -> list[Path]:
        return sorted(self.folder.glob("*.onnx"))

    @property
    def wav(self) -> Path:
        return self.folder / WAV

    @property
    def corrections(self) -> dict[str, int] | None:
        """``take.json``'s ``corrections`` (checked when read); None in a take recorded before takes counted them."""
        return self.info.get("corrections")

    @property
    def learn(self) -> str:
        """``[nets] learn`` in the session the take was recorded in (checked when read)."""
        return self.info.get("learn", "auto")

    @property
    def midi_in(self) -> dict[str, Any]:
        """The MIDI in settings the take's notes were taken with (checked when read)."""
        return self.info.get("midi_in", midi_in_settings())


def read_take(folder: str | Path) -> Take:
    """Read a take folder; a missing or malformed file is a :class:`TakeError` naming it."""
    root = Path(folder)
    if not root.is_dir():
        raise TakeError(f"{root}: not a take folder (no such directory)")
    for name in (INFO, BANK, STATE, PERFORMANCE):
        if not (root / name).is_file():
            raise TakeError(f"{root / name}: missing; not a complete take folder")
    try:
        info = read_json(root / INFO)
        _check_info(info)
        settings = read_json(root / STATE)
        bank = load_bank(root / BANK)
        script = parse_script(read_text(root / PERFORMANCE), str(root / PERFORMANCE))
    except FormatError as error:
        raise TakeError(str(error) if error.source else str(error.in_source(str(root / INFO)))) from None
    return Take(root, info, bank, settings, script)


def _check_info(info: Any) -> None:
    if not isinstance(info, dict) or info.get("format") != TAKE_FORMAT:
        raise FormatError(f"expected {TAKE_FORMAT!r}", "format")
    version = info.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise VersionError(f"expected a positive integer version, got {version!r}", "version")
    if version > TAKE_VERSION:
        raise VersionError(f"version {version} is newer than this program understands ({TAKE_VERSION})", "version")
    for key in ("rate", "period", "frames"):
        value = info.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise FormatError(f"expected a whole number >= 0, got {value!r}", key)
    if "corrections" in info:
        corrections = info["corrections"]
        if not isinstance(corrections, dict) or set(corrections) != set(CORRECTION_COUNTS):
            raise FormatError(f"expected an object of {', '.join(CORRECTION_COUNTS)}, got {corrections!r}",
                              "corrections")
        for key, value in corrections.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise FormatError(f"expected a whole number >= 0, got {value!r}", f"corrections.{key}")
    if info.get("learn", "auto") not in LEARN_MODES:
        raise FormatError(f"expected one of {', '.join(LEARN_MODES)}, got {info.get('learn')!r}", "learn")
    midi_in = info.get("midi_in", midi_in_settings())
    if not isinstance(midi_in, dict):
        raise FormatError(f"expected an object, got {midi_in!r}", "midi_in")
    if midi_in.get("input") not in NOTE_MODES:
        raise FormatError(f"expected one of {', '.join(NOTE_MODES)}, got {midi_in.get('input')!r}", "midi_in.input")
    channel = midi_in.get("channel")
    if not isinstance(channel, int) or isinstance(channel, bool) or not 1 <= channel <= 16:
        raise FormatError(f"expected a MIDI channel 1-16, got {channel!r}", "midi_in.channel")


def inexact_reason(info: dict[str, Any]) -> str | None:
    """Why a replay of the take ``info`` (its ``take.json``) cannot match its WAV byte for byte, or None."""
    if info.get("replays_exactly"):
        return None
    if info.get("dropped_frames"):
        return "audio was dropped"
    if info.get("session") == "live":
        return ("it was played live: each action replays in the block the control loop took it in, a block "
                "or two from the one the engine first played it in")
    return "it started while playing"
