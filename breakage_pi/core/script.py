"""Scripted sessions: a timed list of panel actions, parsed from text (pure; the file is the CLI's).

One event a line, ``#`` starts a comment, times ``T`` in milliseconds of
audio time from the engine's first rendered sample:

- ``T press ROW COL`` / ``T release ROW COL``: a pad (rows 0-3, columns 0-15)
- ``T button NAME down`` / ``T button NAME up``: NAME is play, shift or mode
- ``T knob NAME VALUE``: NAME is velocity, tempo, swing, volume or net; VALUE 0.0-1.0 (a pot's position)
- ``T turn NAME DETENTS``: an encoder knob turned DETENTS detents (a whole number, ``+`` clockwise, ``-``
  counter-clockwise, at most :data:`MAX_DETENTS` either way)
- ``T push NAME down`` / ``T push NAME up``: an encoder knob's push button
- ``T note NOTE VELOCITY [CHANNEL]``: a note-on arriving on MIDI in (NOTE 0-127, VELOCITY 0-127,
  CHANNEL 1-16, 10 when left out), as a DAW or a pad controller sends it

>>> event = parse_script("0 button play down  # go\\n20 button play up")[0]
>>> event.time_ms, event.kind, event.name, event.down
(0.0, 'button', 'play', True)
>>> parse_script("1300 note 36 100")[0].note
36
>>> parse_script("40 turn tempo -3")[0].detents
-3
>>> parse_script("5 knob tempo 2", "s.txt")
Traceback (most recent call last):
...
breakage_pi.core.script.ScriptError: s.txt:1: knob value must be 0.0-1.0, got '2'
>>> parse_script("100 press 0 1\\n50 release 0 1", "s.txt")
Traceback (most recent call last):
...
breakage_pi.core.script.ScriptError: s.txt:2: pad 0 1 released while not held (at 50 ms, in time order)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .errors import FormatError
from .events import BUTTONS, GRID_COLUMNS, GRID_ROWS, KNOBS

MAX_DETENTS = 1000
"""A ``turn`` line moves an encoder at most this many detents (a turn of a few revolutions)."""
MAX_SESSION_MS = 3_600_000
"""A scripted session lasts at most an hour of audio (as ``render``): unpaced, it writes ~1 MB of WAV a second."""


class ScriptError(FormatError):
    """A malformed script line; the message gives the file and line number."""


@dataclass(frozen=True)
class ScriptEvent:
    """One timed action: a pad (``row``, ``column``, ``down``), a button (``name``, ``down``), a pot knob
    (``name``, ``value``), an encoder knob turned (``"turn"``: ``name``, ``detents``) or pushed (``"push"``:
    ``name``, ``down``), or a MIDI note-on (``note``, ``velocity``, ``channel`` 1-16)."""

    time_ms: float
    kind: str
    name: str = ""
    row: int = 0
    column: int = 0
    down: bool = False
    value: float = 0.0
    note: int = 0
    velocity: int = 0
    channel: int = 10
    detents: int = 0


def parse_script(text: str, source: str = "<script>") -> list[ScriptEvent]:
    """The events of a script, in time order (a stable sort: same-time lines keep their order)."""
    numbered = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].split()
        if not line:
            continue
        try:
            numbered.append((_parse_line(line), number))
        except ValueError as error:
            raise ScriptError(f"{source}:{number}: {error}") from None
    numbered.sort(key=lambda pair: pair[0].time_ms)
    _check_pads_pair_up(numbered, source)
    return [event for event, _ in numbered]


def format_event(event: ScriptEvent) -> str:
    """``event`` as one script line, which :func:`parse_script` reads back as the same event.

    >>> format_event(ScriptEvent(1.333, "pad", row=3, column=11, down=True))
    '1.333 press 3 11'
    >>> format_event(ScriptEvent(20.0, "knob", name="tempo", value=0.25))
    '20 knob tempo 0.25'
    >>> format_event(ScriptEvent(1300.5, "note", note=38, velocity=90, channel=10))
    '1300.5 note 38 90 10'
    >>> parse_script(format_event(ScriptEvent(7.0, "note", note=36, velocity=1, channel=3)))[0].channel
    3
    >>> format_event(ScriptEvent(9.0, "turn", name="net", detents=2))
    '9 turn net +2'
    """
    time = f"{event.time_ms:.3f}".rstrip("0").rstrip(".")
    if event.kind == "pad":
        return f"{time} {'press' if event.down else 'release'} {event.row} {event.column}"
    if event.kind == "button":
        return f"{time} button {event.name} {'down' if event.down else 'up'}"
    if event.kind == "note":
        return f"{time} note {event.note} {event.velocity} {event.channel}"
    if event.kind == "knob":
        return f"{time} knob {event.name} {event.value!r}"
    if event.kind == "turn":
        return f"{time} turn {event.name} {event.detents:+d}"
    if event.kind == "push":
        return f"{time} push {event.name} {'down' if event.down else 'up'}"
    raise ValueError(f"no script line for an event of kind {event.kind!r}")


def format_script(events: list[ScriptEvent], comment: str = "") -> str:
    """A whole script, one event a line in the given order, after ``comment`` lines (each given a ``#``)."""
    head = "".join(f"# {line}\n" for line in comment.splitlines())
    return head + "".join(format_event(event) + "\n" for event in events)


def _check_pads_pair_up(numbered: list[tuple[ScriptEvent, int]], source: str) -> None:
    """A pad's presses and releases must alternate in time order: the emulated key scan sees no edge in
    a second press of a held pad or a release of a free one, and the session would wait for it."""
    held: set[tuple[int, int]] = set()
    for event, number in numbered:
        if event.kind != "pad":
            continue
        pad = (event.row, event.column)
        if event.down == (pad in held):
            what = "pressed while already held" if event.down else "released while not held"
            raise ScriptError(f"{source}:{number}: pad {event.row} {event.column} {what} "
                              f"(at {event.time_ms:g} ms, in time order)")
        (held.add if event.down else held.discard)(pad)


def _parse_line(words: list[str]) -> ScriptEvent:
    usage = ("expected 'T press ROW COL', 'T release ROW COL', 'T button NAME down|up', "
             "'T knob NAME VALUE', 'T turn NAME DETENTS', 'T push NAME down|up' or 'T note NOTE VELOCITY [CHANNEL]'")
    if len(words) < 2:
        raise ValueError(f"{usage}, got {' '.join(words)!r}")
    time_ms = _time(words[0])
    kind, args = words[1], words[2:]
    if kind in ("press", "release"):
        if len(args) != 2:
            raise ValueError(f"expected 'T {kind} ROW COL', got {' '.join(words)!r}")
        row = _index(args[0], GRID_ROWS, "row")
        column = _index(args[1], GRID_COLUMNS, "column")
        return ScriptEvent(time_ms, "pad", row=row, column=column, down=kind == "press")
    if kind == "button":
        if len(args) != 2 or args[1] not in ("down", "up"):
            raise ValueError(f"expected 'T button NAME down|up', got {' '.join(words)!r}")
        if args[0] not in BUTTONS:
            raise ValueError(f"unknown button {args[0]!r} (buttons: {', '.join(BUTTONS)})")
        return ScriptEvent(time_ms, "button", name=args[0], down=args[1] == "down")
    if kind == "knob":
        if len(args) != 2:
            raise ValueError(f"expected 'T knob NAME VALUE', got {' '.join(words)!r}")
        if args[0] not in KNOBS:
            raise ValueError(f"unknown knob {args[0]!r} (knobs: {', '.join(KNOBS)})")
        return ScriptEvent(time_ms, "knob", name=args[0], value=_value(args[1]))
    if kind in ("turn", "push"):
        form = "T turn NAME DETENTS" if kind == "turn" else "T push NAME down|up"
        if len(args) != 2 or (kind == "push" and args[1] not in ("down", "up")):
            raise ValueError(f"expected '{form}', got {' '.join(words)!r}")
        if args[0] not in KNOBS:
            raise ValueError(f"unknown knob {args[0]!r} (knobs: {', '.join(KNOBS)})")
        if kind == "push":
            return ScriptEvent(time_ms, "push", name=args[0], down=args[1] == "down")
        return ScriptEvent(time_ms, "turn", name=args[0], detents=_detents(args[1]))
    if kind == "note":
        if len(args) not in (2, 3):
            raise ValueError(f"expected 'T note NOTE VELOCITY [CHANNEL]', got {' '.join(words)!r}")
        channel = 10
        if len(args) == 3:
            if not (args[2].isascii() and args[2].isdigit()) or not 1 <= int(args[2]) <= 16:
                raise ValueError(f"channel must be 1-16, got {_shown(args[2])}")
            channel = int(args[2])
        return ScriptEvent(time_ms, "note", note=_index(args[0], 128, "note"),
                           velocity=_index(args[1], 128, "velocity"), channel=channel)
    raise ValueError(f"unknown event {kind!r}: {usage}")


_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
"""A number as a script writes it: ASCII digits only (``float`` and ``int`` also take '١٢' or '1_0')."""


def _decimal(word: str) -> float:
    """``word`` as a number, or NaN when it is not one written in ASCII digits."""
    return float(word) if _DECIMAL.fullmatch(word) else math.nan


def _shown(word: str) -> str:
    return f"{word!r}" if word.isascii() else f"{word!r} (write numbers with the digits 0-9)"


def _time(word: str) -> float:
    value = _decimal(word)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"time must be milliseconds (a number >= 0), got {_shown(word)}")
    if value > MAX_SESSION_MS:
        raise ValueError(f"time must be at most {MAX_SESSION_MS} ms (a session lasts at most an hour), got {word!r}")
    return value


def _index(word: str, limit: int, name: str) -> int:
    if not (word.isascii() and word.isdigit()) or not 0 <= int(word) < limit:
        raise ValueError(f"{name} must be 0-{limit - 1}, got {_shown(word)}")
    return int(word)


def _detents(word: str) -> int:
    digits = word[1:] if word[:1] in "+-" else word
    if not (digits.isascii() and digits.isdigit()) or not 1 <= int(digits) <= MAX_DETENTS:
        raise ValueError(f"detents must be a whole number 1-{MAX_DETENTS} or -1 to -{MAX_DETENTS} "
                         f"(+ clockwise), got {_shown(word)}")
    return int(word)


def _value(word: str) -> float:
    value = _decimal(word)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"knob value must be 0.0-1.0, got {_shown(word)}")
    return value
