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
