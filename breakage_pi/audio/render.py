"""Offline rendering: a pattern to a WAV, through the same player the engine uses."""

from __future__ import annotations

import io
import os
from typing import Callable, Iterator, Union

import numpy as np
import soundfile

from ..core.clock import StepClock
from ..core.errors import FormatError, StoreError
from ..core.pattern import STEPS, Pattern
from .kit import Kit
from ..core.playstate import PlayState
from .player import Player
from .sinks import WavSink

MAX_SECONDS = 3600

Bars = Union[Pattern, Callable[[int], Pattern]]
"""One pattern for every bar, or a function giving bar ``n``'s pattern (a net with chance differs per bar)."""


def render_pattern(kit: Kit, pattern: Bars, bars: int, tempo: float, swing: float = 0.5,
                   block: int = 256) -> np.ndarray:
    """``bars`` bars of ``pattern`` as (frames, 2) int16, rendered in blocks of ``block`` frames.

    The length is exactly the bars' duration (so the file loops); step 0
    starts at frame 0. The result does not depend on ``block``.
    """
    out = np.empty((_length(kit, bars, tempo, swing), 2), dtype=np.int16)
    for start, block_pcm in _blocks(kit, pattern, tempo, swing, len(out), block):
        out[start:start + len(block_pcm)] = block_pcm
    return out


def render_to_wav(kit: Kit, pattern: Bars, bars: int, tempo: float, swing: float,
                  path: str | os.PathLike[str], block: int = 256) -> int:
    """Stream ``bars`` bars to a 16-bit WAV at ``path`` (atomically, in constant memory); returns the frames."""
    frames = _length(kit, bars, tempo, swing)
    sink = WavSink(path, kit.rate, block)
    try:
        sink.open()
    except OSError as error:
        raise StoreError(f"{path}: cannot write: {error.strerror or error}") from None
    try:
        for _, block_pcm in _blocks(kit, pattern, tempo, swing, frames, block):
            sink.write(block_pcm)
    except BaseException:
        sink.discard()
        raise
    sink.close()
    return frames


def _length(kit: Kit, bars: int, tempo: float, swing: float) -> int:
    if bars < 1:
        raise FormatError(f"must be at least 1, got {bars}", "bars")
    frames = StepClock(tempo, swing, kit.rate).step_start(bars * STEPS)
    if frames > MAX_SECONDS * kit.rate:
        raise FormatError(f"{bars} bars at {tempo:g} BPM last {frames / kit.rate / 60:.0f} minutes; "
                          f"render at most {MAX_SECONDS // 60} minutes", "bars")
    return frames


def _blocks(kit: Kit, pattern: Bars, tempo: float, swing: float, frames: int,
            block: int) -> Iterator[tuple[int, np.ndarray]]:
    if isinstance(pattern, Pattern):
        player = Player(kit, PlayState(pattern, tempo, swing), max_block=block)
        for start in range(0, frames, block):
            yield start, player.render(min(block, frames - start))
        return
    # A new pattern at each bar line: blocks end there, and the next bar's state applies from the next block.
    clock = StepClock(tempo, swing, kit.rate)
    player = Player(kit, PlayState(pattern(0), tempo, swing), max_block=block)
    start, bar = 0, 0
    while start < frames:
        bar_end = min(clock.step_start((bar + 1) * STEPS), frames)
        while start < bar_end:
            pcm = player.render(min(block, bar_end - start))
            yield start, pcm
            start += len(pcm)
        bar += 1
        if start < frames:
            player.set_state(PlayState(pattern(bar), tempo, swing))


def encode_wav(pcm: np.ndarray, rate: int) -> bytes:
    """Interleaved int16 frames as the bytes of a 16-bit PCM WAV file."""
    buffer = io.BytesIO()
    soundfile.write(buffer, pcm, rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()
