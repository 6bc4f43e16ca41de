"""Offline rendering: a pattern to a WAV, through the same player the engine uses."""

from __future__ import annotations

import io

import numpy as np
import soundfile

from ..core.clock import StepClock
from ..core.pattern import STEPS, Pattern
from .kit import Kit
from .player import PlayState, Player


def render_pattern(kit: Kit, pattern: Pattern, bars: int, tempo: float, swing: float = 0.5,
                   block: int = 256) -> np.ndarray:
    """``bars`` bars of ``pattern`` as (frames, 2) int16, rendered in blocks of ``block`` frames.

    The length is exactly the bars' duration (so the file loops); step 0
    starts at frame 0. The result does not depend on ``block``.
    """
    if bars < 1:
        raise ValueError(f"bars must be at least 1, got {bars}")
    frames = StepClock(tempo, swing, kit.rate).step_start(bars * STEPS)
    player = Player(kit, PlayState(pattern, tempo, swing), max_block=block)
    out = np.empty((frames, 2), dtype=np.int16)
    for start in range(0, frames, block):
        size = min(block, frames - start)
        out[start:start + size] = player.render(size)
    return out


def encode_wav(pcm: np.ndarray, rate: int) -> bytes:
    """Interleaved int16 frames as the bytes of a 16-bit PCM WAV file."""
    buffer = io.BytesIO()
    soundfile.write(buffer, pcm, rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()
