"""What each pad of the grid's SHIFT page does (DESIGN §2): one table, with the words for it.

The state machine (what a press means), the LED renderer (what is lit), the
simulator (what it writes on each pad) and the printed overlay
(:mod:`breakage_pi.core.overlay`) all read :data:`SHIFT_PAGE`, so they
cannot disagree. The row and column constants below are looked up in it.

>>> describe(3, 15)
'TRAIN: hold 1 s to train the nets on the marked slots'
>>> [area.short[0] for area in SHIFT_PAGE if area.row == 2]
['K', 'xK', 'k1']
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import GRID_COLUMNS, GRID_ROWS


@dataclass(frozen=True)
class Area:
    """A run of pads on one row of the SHIFT page that do one kind of thing.

    ``short`` is a label of at most 2 characters per pad (the simulator's
    cells, the overlay's keys); ``name`` a label per pad in words; ``action``
    what a press does, in the player's terms.
    """

    key: str
    row: int
    columns: range
    short: tuple[str, ...]
    name: tuple[str, ...]
    action: str

    def __post_init__(self) -> None:
        if not (len(self.short) == len(self.name) == len(self.columns)):
            raise ValueError(f"area {self.key}: one label per pad")
        if any(len(label) > 2 for label in self.short):
            raise ValueError(f"area {self.key}: short labels are at most 2 characters")


_SLOTS = range(GRID_COLUMNS)
_CHANNELS = ("kick", "snare", "open hat", "closed hat")
_CHANNEL_SHORT = ("K", "S", "O", "C")

SHIFT_PAGE: tuple[Area, ...] = (
    Area("slots", 0, range(0, 16), tuple(str(s + 1) for s in _SLOTS), tuple(f"slot {s + 1}" for s in _SLOTS),
         "tap: play this slot from the next bar line; hold one and tap another: chain the range"),
    Area("marks", 1, range(0, 16), tuple(f"m{s + 1}" if s < 9 else f"{s + 1}" for s in _SLOTS),
         tuple(f"train on slot {s + 1}" for s in _SLOTS), "tap: mark or unmark the slot for training"),
    Area("roles", 2, range(0, 4), _CHANNEL_SHORT, tuple(f"{name}: yours or the net's" for name in _CHANNELS),
         "tap: the channel is yours (an input) or the net's (an output), from the next training"),
    Area("mutes", 2, range(4, 8), tuple(f"x{c}" for c in _CHANNEL_SHORT), tuple(f"mute {n}" for n in _CHANNELS),
         "tap: mute or unmute the channel"),
    Area("kits", 2, range(8, 16), tuple(f"k{k + 1}" for k in range(8)), tuple(f"kit {k + 1}" for k in range(8)),
         "tap: play the kit (the folders of kits/, in name order); again: the built-in kit"),
    Area("nets", 3, range(0, 3), ("Lo", "Me", "Ti"), ("net loose", "net medium", "net tight"),
         "tap: turn the NET knob to this net's detent (loose surprises, tight repeats what you taught)"),
    Area("chance", 3, range(4, 5), ("Ch",), ("chance",), "tap: chance on or off (uncertain net hits play sometimes)"),
    Area("edit", 3, range(6, 7), ("Ed",), ("EDIT",), "tap: EDIT mode (every row is yours)"),
    Area("perform", 3, range(7, 8), ("Pf",), ("PERFORM",), "tap: PERFORM mode (the net plays its rows)"),
    Area("corrections", 3, range(8, 9), ("Co",), ("corrections",),
         "tap: list your corrections on row 1 (tap one there to remove it); again or SHIFT up: back"),
    Area("undo", 3, range(9, 10), ("Un",), ("UNDO",), "tap: undo the last change to the corrections"),
    Area("take", 3, range(11, 12), ("Tk",), ("take",),
         "tap: start or stop a take (its audio, the performance and its MIDI, kept in takes/)"),
    Area("copy", 3, range(13, 14), ("Cp",), ("copy",), "tap: copy the playing slot to the next empty one"),
    Area("save", 3, range(14, 15), ("Sv",), ("save",), "tap: save now (it saves by itself 2 s after an edit)"),
    Area("train", 3, range(15, 16), ("TR",), ("TRAIN",), "hold 1 s to train the nets on the marked slots"),
)
"""The SHIFT page, row by row, left to right; pads not listed do nothing."""

ROW_TITLES = ("slots", "training marks", "roles · mutes · kits", "nets · mode · TRAIN")
"""What each row of the SHIFT page holds, in a few words."""


def area(key: str) -> Area:
    """The area called ``key``."""
    for candidate in SHIFT_PAGE:
        if candidate.key == key:
            return candidate
    raise KeyError(key)


def area_at(row: int, column: int) -> Area | None:
    """The area pad (``row``, ``column``) belongs to on the SHIFT page, or None (a pad that does nothing)."""
    for candidate in SHIFT_PAGE:
        if candidate.row == row and column in candidate.columns:
            return candidate
    return None


def short_label(row: int, column: int) -> str:
    """The pad's label of at most 2 characters ("" for a pad that does nothing)."""
    found = area_at(row, column)
    return "" if found is None else found.short[column - found.columns.start]


def describe(row: int, column: int) -> str:
    """The pad's name and what a press does, in words."""
    found = area_at(row, column)
    if found is None:
        return "nothing here"
    return f"{found.name[column - found.columns.start]}: {found.action.removeprefix('tap: ')}"


def overlaps() -> list[str]:
    """Areas that are off the grid or share a pad with an earlier one (a test keeps this empty)."""
    taken: set[tuple[int, int]] = set()
    wrong = []
    for entry in SHIFT_PAGE:
        pads = {(entry.row, column) for column in entry.columns}
        if not 0 <= entry.row < GRID_ROWS or entry.columns.stop > GRID_COLUMNS or pads & taken:
            wrong.append(entry.key)
        taken |= pads
    return wrong


ROW_SLOTS, ROW_MARKS, ROW_CHANNELS, ROW_SYSTEM = area("slots").row, area("marks").row, area("roles").row, \
    area("nets").row
ROLE_COLUMNS, MUTE_COLUMNS, KIT_COLUMNS = area("roles").columns, area("mutes").columns, area("kits").columns
NET_COLUMNS = area("nets").columns
CHANCE_COLUMN, EDIT_COLUMN, PERFORM_COLUMN = area("chance").columns[0], area("edit").columns[0], \
    area("perform").columns[0]
COPY_COLUMN, SAVE_COLUMN, TRAIN_COLUMN = area("copy").columns[0], area("save").columns[0], area("train").columns[0]
TAKE_COLUMN = area("take").columns[0]
CORRECTIONS_COLUMN, UNDO_COLUMN = area("corrections").columns[0], area("undo").columns[0]
"""Row 3: CORRECTIONS lists the corrections on row 0 (tap one there to remove it) until tapped again or SHIFT is
let go; UNDO undoes their last change."""
NET_LABELS = ("loose", "medium", "tight")
