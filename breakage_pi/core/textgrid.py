"""Patterns and the panel as text, for the terminal: one row per channel, a glyph per step."""

from __future__ import annotations

import math
from typing import Sequence

from .errors import printable
from .leds import Shown
from .pages import short_label
from .pattern import CHANNELS, STEPS, Pattern

LEVELS = "▁▂▃▄▅▆▇█"
REST = "·"


def velocity_glyph(velocity: int) -> str:
    """``·`` for no hit, else one of eight bars rising with velocity (1-255)."""
    if velocity == 0:
        return REST
    return LEVELS[min(len(LEVELS) - 1, (velocity - 1) * len(LEVELS) // 255)]


def format_pattern(pattern: Pattern, names: Sequence[str], marks: Sequence[str] = ()) -> str:
    """A small text grid of ``pattern``; ``marks[c]`` is appended to row ``c`` (e.g. a role).

    >>> print(format_pattern(Pattern().with_velocity(0, 0, 255), ["kick", "snare", "oh", "ch"]))
    kick   █··· ···· ···· ····
    snare  ···· ···· ···· ····
    oh     ···· ···· ···· ····
    ch     ···· ···· ···· ····
    """
    names = [printable(name, 24) for name in names]       # names come from files: no terminal codes
    width = max(len(name) for name in names) + 2
    lines = []
    for channel, name in enumerate(names):
        glyphs = [velocity_glyph(int(v)) for v in pattern.velocities[channel]]
        beats = " ".join("".join(glyphs[i:i + 4]) for i in range(0, STEPS, 4))
        mark = f"  {marks[channel]}" if channel < len(marks) else ""
        lines.append(f"{name:<{width}}{beats}{mark}")
    return "\n".join(lines)


def format_frame(frame: Sequence[Sequence[Sequence[int]]], boost: float = 2.0) -> str:
    """An LED frame (4, 16, 3) as lines of 24-bit ANSI colour blocks (``·`` for an unlit pad).

    ``boost`` brightens the colours for a screen (the grid's LEDs are scaled
    down by its ``brightness``). Beats are separated as in :func:`format_pattern`.
    """
    lines = []
    for row in frame:
        cells = []
        for red, green, blue in row:
            if not (red or green or blue):
                cells.append(" " + REST)
                continue
            r, g, b = (min(255, round(int(value) * boost)) for value in (red, green, blue))
            cells.append(f"\x1b[38;2;{r};{g};{b}m██\x1b[0m")
        lines.append(" ".join("".join(cells[i:i + 4]) for i in range(0, len(cells), 4)))
    return "\n".join(lines)


BEAT_REST = "::"
ROW_NAMES = ("kick", "snare", "o-hat", "c-hat")
SHIFT_ROW_NAMES = ("slots", "marks", "chans", "nets")


def step_glyph(velocity: int, beat: bool, chance: bool = False) -> str:
    """Two characters for a step: a bar as high as the velocity (eight heights; ``?`` after it for a
    chance step), or a rest: ``··``, ``::`` on a beat (steps 1, 5, 9, 13).

    >>> step_glyph(200, False), step_glyph(230, False), step_glyph(0, True), step_glyph(90, False, True)
    ('▇▇', '██', '::', '▃?')
    """
    if not velocity:
        return BEAT_REST if beat else REST * 2
    bar = velocity_glyph(velocity)
    return bar + ("?" if chance else bar)


def panel_cells(state: Shown) -> list[list[str]]:
    """Two characters per pad saying without colour what the LEDs say with it: velocities and rests on
    the steps, the labels of :data:`~breakage_pi.core.pages.SHIFT_PAGE` with SHIFT held, bars while
    training."""
    if state.training is not None:
        filled = [round(state.training.progress * STEPS)] + \
            [math.ceil(state.training.remaining(index) * STEPS) for index in range(3)]
        return [["██" if column < count else REST * 2 for column in range(STEPS)] for count in filled]
    if state.shift:
        return [[f"{short_label(row, column):<2}" if short_label(row, column) else REST * 2
                 for column in range(STEPS)] for row in range(CHANNELS)]
    pattern, chancy = state.played(state.slot)
    return [[step_glyph(int(pattern.velocity(row, column)), column % 4 == 0, bool(chancy[row, column]))
             for column in range(STEPS)] for row in range(CHANNELS)]


def format_panel(frame: Sequence[Sequence[Sequence[int]]], cells: Sequence[Sequence[str]], names: Sequence[str],
                 boost: float = 2.0) -> str:
    """Labelled rows of ``cells`` (see :func:`panel_cells`), each coloured as its LED in ``frame`` with
    24-bit ANSI codes (unlit: plain); beats separated as in :func:`format_pattern`."""
    lines = []
    for name, row, texts in zip(names, frame, cells):
        shown = []
        for (red, green, blue), text in zip(row, texts):
            if not (red or green or blue):
                shown.append(text)
                continue
            r, g, b = (min(255, round(int(value) * boost)) for value in (red, green, blue))
            shown.append(f"\x1b[38;2;{r};{g};{b}m{text}\x1b[0m")
        lines.append(f"{name:<6}" + "  ".join(" ".join(shown[i:i + 4]) for i in range(0, len(shown), 4)))
    return "\n".join(lines)
