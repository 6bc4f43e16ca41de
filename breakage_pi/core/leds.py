"""The LED language: the instrument's state as a (4, 16, 3) RGB frame, pure.

- Each channel has its own hue; a step's brightness follows its velocity.
- Rows the net writes (PERFORM) are drawn in a cooler hue of their own, on a
  faint bed whose colour names the net (loose green, medium blue, tight
  violet), so the player always sees what is theirs and what is the machine's.
  Between the NET knob's detents the bed is the two nets' colours mixed in
  the knob's proportion, as the sound is.
- Chance steps shimmer; muted rows are dim; the playhead is a bright column;
  held pads are white.
- SHIFT page: slots (dim = has hits, bright = playing, blinking = queued,
  amber = in the chain), training marks (green), roles (your hue / the net's
  hue), mutes (red), kits, nets (each lit by its share of the NET knob's
  blend), chance, mode, the corrections (teal, brighter the more there are;
  blinking while the nets learn them; tapped: row 0 lists them) and their
  undo (yellow when there is something to undo), copy, save (amber while
  unsaved), TRAIN.
- Training (TRAIN's): row 0 fills with progress, rows 1-3 show each net's
  error as a bar shrinking to its target. A background run learning
  corrections leaves the grid as it is.

Colours are full-scale here; the grid's ``brightness`` setting scales them.
"""

from __future__ import annotations

from typing import Mapping, Protocol

import numpy as np

from .bank import MAX_CORRECTIONS, Bank
from .events import FRAME_SHAPE
from .pages import (CHANCE_COLUMN, COPY_COLUMN, CORRECTIONS_COLUMN, EDIT_COLUMN, KIT_COLUMNS, MUTE_COLUMNS,
                    NET_COLUMNS, PERFORM_COLUMN, ROLE_COLUMNS, ROW_CHANNELS, ROW_MARKS, ROW_SLOTS, ROW_SYSTEM,
                    SAVE_COLUMN, TAKE_COLUMN, TRAIN_COLUMN, UNDO_COLUMN)
from .pattern import MAX_VELOCITY, Pattern


class TrainingShown(Protocol):
    """What the LEDs read of a training run in progress (the instrument's ``Training``)."""

    @property
    def progress(self) -> float: ...
    @property
    def background(self) -> bool: ...

    def remaining(self, index: int) -> float: ...


class Shown(Protocol):
    """What the LEDs read of the instrument's state (``breakage_pi.core.instrument.Instrument``).

    Named here, not imported, so the state machine and its picture depend
    on each other in one direction only: the state machine asks for a frame.
    """

    @property
    def bank(self) -> Bank: ...
    @property
    def slot(self) -> int: ...
    @property
    def queued(self) -> int | None: ...
    @property
    def chain(self) -> tuple[int, ...]: ...
    @property
    def mode(self) -> str: ...
    @property
    def shift(self) -> bool: ...
    @property
    def playing(self) -> bool: ...
    @property
    def playhead(self) -> int: ...
    @property
    def mutes(self) -> tuple[bool, ...]: ...
    @property
    def weights(self) -> tuple[tuple[int, float], ...]: ...
    @property
    def listing(self) -> bool: ...
    @property
    def undo(self) -> tuple[object, ...]: ...
    @property
    def nets(self) -> tuple[str, ...]: ...
    @property
    def kits(self) -> tuple[str, ...]: ...
    @property
    def kit(self) -> str | None: ...
    @property
    def held(self) -> tuple[tuple[int, int], ...]: ...
    @property
    def flashes(self) -> Mapping[int, float]: ...
    @property
    def train_pressed_at(self) -> float | None: ...
    @property
    def training(self) -> TrainingShown | None: ...
    @property
    def recording(self) -> bool: ...
    @property
    def dirty_at(self) -> float | None: ...
    @property
    def now(self) -> float: ...
    @property
    def output_rows(self) -> tuple[int, ...]: ...
    @property
    def net_roles(self) -> tuple[str, ...]: ...

    def played(self, slot: int, bar: int | None = None) -> tuple[Pattern, np.ndarray]: ...


CHANNEL_HUES = np.array([(255, 30, 0), (255, 150, 0), (0, 255, 40), (0, 200, 255)], dtype=np.float32)
"""Your rows: kick red, snare amber, open hat green, closed hat cyan."""
NET_HUES = np.array([(255, 0, 140), (190, 0, 255), (70, 70, 255), (150, 90, 255)], dtype=np.float32)
"""The net's rows: kick magenta, snare purple, open hat indigo, closed hat lavender."""
NET_BEDS = np.array([(0, 8, 3), (0, 3, 10), (6, 0, 10)], dtype=np.float32)
"""The faint background of the net's rows, by net: loose, medium, tight."""
NET_COLOURS = np.array([(0, 220, 80), (0, 90, 255), (170, 0, 255)], dtype=np.float32)
"""The nets on the SHIFT page: loose green, medium blue, tight violet."""
CORRECTIONS = np.array((0, 200, 140), dtype=np.float32)
"""The corrections on the SHIFT page: teal."""
UNDO = (160, 140, 0)
BEAT = (4, 4, 4)
PLAYHEAD = (28, 28, 28)
WHITE = (255, 255, 255)
BLINK_HZ = 4.0
MIN_LEVEL = 16 / 255
"""The faintest lit step (velocity 1), so a quiet hit is still visible."""


def level(velocity: np.ndarray | int) -> np.ndarray:
    """Brightness 0-1 of a velocity: 0 for a rest, rising linearly from :data:`MIN_LEVEL` to 1."""
    velocity = np.asarray(velocity, dtype=np.float32)
    return np.where(velocity > 0, MIN_LEVEL + (1 - MIN_LEVEL) * velocity / MAX_VELOCITY, 0.0)


def blink_on(now: float, rate: float = BLINK_HZ) -> bool:
    """The blink phase at ``now`` (s): on for the first half of each period."""
    return int(now * rate * 2) % 2 == 0


def render_frame(state: Shown) -> np.ndarray:
    """The frame the grid should show for ``state``."""
    if state.training is not None and not state.training.background:
        frame = _training(state)
    elif state.shift:
        frame = _menu(state)
    else:
        frame = _steps(state)
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def _steps(state: Shown) -> np.ndarray:
    pattern, chancy = state.played(state.slot)
    velocities = pattern.velocities
    outputs = list(state.output_rows)
    hues = CHANNEL_HUES.copy()
    hues[outputs] = NET_HUES[outputs]
    frame = hues[:, None, :] * level(velocities)[:, :, None]
    if chancy.any() and not blink_on(state.now):
        frame[chancy] /= 3
    empty = velocities == 0
    beats = np.zeros(empty.shape, dtype=bool)
    beats[:, ::4] = True
    frame[empty & beats] = BEAT
    if outputs:
        bed = blend(NET_BEDS, state.weights)
        rows = np.zeros(empty.shape, dtype=bool)
        rows[outputs] = True
        frame[empty & rows] = bed
    for channel, muted in enumerate(state.mutes):
        if muted:
            frame[channel] /= 4
    if state.playing and 0 <= state.playhead < velocities.shape[1]:
        column = frame[:, state.playhead]
        lit = velocities[:, state.playhead] > 0
        column[lit] = (column[lit] + WHITE) / 2
        column[~lit] = PLAYHEAD
    for row, column in state.held:
        frame[row, column] = np.multiply(WHITE, max(float(level(velocities[row, column])), 0.3))
    for row in state.flashes:
        frame[row] = (120, 120, 120)
    return frame


def _menu(state: Shown) -> np.ndarray:
    frame = np.zeros(FRAME_SHAPE, dtype=np.float32)
    blink = blink_on(state.now)
    for index, slot in enumerate(state.bank.slots):
        has_hits = bool(slot.pattern.velocities.any())
        if index == state.slot:
            frame[ROW_SLOTS, index] = (220, 220, 220)
        elif index == state.queued:
            frame[ROW_SLOTS, index] = (220, 220, 220) if blink else (0, 0, 0)
        elif index in state.chain:
            frame[ROW_SLOTS, index] = (90, 50, 0)
        elif has_hits:
            frame[ROW_SLOTS, index] = (20, 20, 20)
        if slot.train:
            frame[ROW_MARKS, index] = (0, 170, 0)
        elif has_hits:
            frame[ROW_MARKS, index] = (6, 2, 0)
    for channel, column in enumerate(ROLE_COLUMNS):
        own = state.bank.roles[channel] == "in"
        frame[ROW_CHANNELS, column] = CHANNEL_HUES[channel] if own else NET_HUES[channel]
    for channel, column in enumerate(MUTE_COLUMNS):
        frame[ROW_CHANNELS, column] = (200, 0, 0) if state.mutes[channel] else CHANNEL_HUES[channel] / 8
    for index, column in enumerate(KIT_COLUMNS):
        if index < len(state.kits):
            frame[ROW_CHANNELS, column] = (0, 200, 200) if state.kits[index] == state.kit else (0, 24, 24)
    shares = dict(state.weights)
    for index, column in enumerate(NET_COLUMNS):
        if index < len(state.nets):
            colour = NET_COLOURS[min(index, len(NET_COLOURS) - 1)]
            frame[ROW_SYSTEM, column] = colour * (1 / 8 + 7 / 8 * shares.get(index, 0.0))
    _corrections(state, frame, blink)
    frame[ROW_SYSTEM, CHANCE_COLUMN] = (200, 160, 0) if state.bank.chance else (10, 8, 0)
    frame[ROW_SYSTEM, EDIT_COLUMN] = (255, 120, 0) if state.mode == "edit" else (12, 6, 0)
    frame[ROW_SYSTEM, PERFORM_COLUMN] = (170, 0, 255) if state.mode == "perform" else (8, 0, 12)
    frame[ROW_SYSTEM, TAKE_COLUMN] = ((255, 0, 40) if blink else (90, 0, 14)) if state.recording else (24, 0, 4)
    frame[ROW_SYSTEM, COPY_COLUMN] = (0, 0, 60)
    frame[ROW_SYSTEM, SAVE_COLUMN] = (120, 60, 0) if state.dirty_at is not None else (0, 40, 0)
    held = state.train_pressed_at is not None
    frame[ROW_SYSTEM, TRAIN_COLUMN] = (255, 0, 0) if held else (50, 0, 0) if state.bank.training_slots else (0, 0, 0)
    return frame


def blend(colours: np.ndarray, weights: tuple[tuple[int, float], ...]) -> np.ndarray:
    """``colours`` (one per net, loose to tight) mixed by the NET knob's ``weights``."""
    mixed = np.zeros(3, dtype=np.float32)
    for index, weight in weights:
        mixed += weight * colours[min(index, len(colours) - 1)]
    return mixed


def _corrections(state: Shown, frame: np.ndarray, blink: bool) -> None:
    """The corrections pad, UNDO, and while listing the corrections on row 0 (the ones made for
    the playing slot's inputs bright)."""
    corrections = state.bank.corrections
    learning = state.training is not None and state.training.background
    if corrections and not (learning and not blink):
        frame[ROW_SYSTEM, CORRECTIONS_COLUMN] = CORRECTIONS * (0.15 + 0.85 * len(corrections) / MAX_CORRECTIONS)
    if state.undo or corrections:
        frame[ROW_SYSTEM, UNDO_COLUMN] = UNDO
    if not state.listing:
        return
    frame[ROW_SLOTS] = 0
    inputs = [c for c, role in enumerate(state.net_roles or state.bank.roles) if role == "in"]
    playing = state.bank.slots[state.slot].pattern.velocities[inputs]
    for index, correction in enumerate(corrections):
        here = np.array_equal(correction.pattern.velocities[inputs], playing)
        frame[ROW_SLOTS, index] = CORRECTIONS if here else CORRECTIONS / 6


def _training(state: Shown) -> np.ndarray:
    training = state.training
    assert training is not None
    frame = np.zeros(FRAME_SHAPE, dtype=np.float32)
    filled = int(round(training.progress * frame.shape[1]))
    frame[0, :filled] = (255, 255, 255)
    frame[0, filled:] = (10, 10, 10)
    for index in range(3):
        colour = NET_COLOURS[index]
        length = int(np.ceil(training.remaining(index) * frame.shape[1]))
        frame[1 + index, :length] = colour
        if length == 0:
            frame[1 + index, :] = colour / 10
    return frame
