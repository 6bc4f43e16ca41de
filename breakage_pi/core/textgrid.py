"""Patterns as text, for the terminal: one row per channel, a bar glyph per step."""

from __future__ import annotations

from typing import Sequence

from .errors import printable
from .pattern import STEPS, Pattern

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
