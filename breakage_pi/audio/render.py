"""Offline rendering: a pattern to a WAV, through the same player the engine uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Sequence, Union

import numpy as np
import soundfile

from ..core.clock import StepClock
from ..core.errors import FormatError, printable
from ..core.pattern import STEPS, Pattern
from .kit import Kit
from ..core.playstate import PlayState
from .player import Player

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


@dataclass(frozen=True)
class Take:
    """``bars`` bars of ``pattern`` at ``tempo`` BPM and ``swing``: one stretch of a rendered file."""

    pattern: Bars
    bars: int
    tempo: float
    swing: float = 0.5


def render_to_wav(kit: Kit, takes: Sequence[Take], out: BinaryIO, block: int = 256) -> int:
    """Stream ``takes`` one after the other as a 16-bit WAV into the open file ``out``, in constant memory.

    Returns the frames written. At most :data:`MAX_SECONDS` in all, checked
    before anything is rendered. ``out`` is usually a
    :func:`breakage_pi.store.atomic_writer`, so the file appears whole or
    not at all; a failing write (a full disk) raises :class:`OSError`.
    """
    lengths = planned_frames(kit, takes)
    try:
        with soundfile.SoundFile(out.fileno(), "w", kit.rate, 2, "PCM_16", format="WAV", closefd=False) as wav:
            for take, frames in zip(takes, lengths):
                for _, block_pcm in _blocks(kit, take.pattern, take.tempo, take.swing, frames, block):
                    wav.write(block_pcm)
    except (RuntimeError, soundfile.LibsndfileError) as error:     # libsndfile's word for a failed write
        raise OSError(str(error)) from None
    return sum(lengths)


def planned_frames(kit: Kit, takes: Sequence[Take]) -> list[int]:
    """The frames of each take; raises before any work if they last more than :data:`MAX_SECONDS` in all."""
    lengths = [_length(kit, take.bars, take.tempo, take.swing) for take in takes]
    total = sum(lengths)
    if total > MAX_SECONDS * kit.rate:
        raise FormatError(f"{sum(take.bars for take in takes)} bars last {total / kit.rate / 60:.0f} minutes; "
                          f"render at most {MAX_SECONDS // 60} minutes", "bars")
    return lengths


def _length(kit: Kit, bars: int, tempo: float, swing: float) -> int:
    if bars < 1:
        raise FormatError(f"must be at least 1, got {bars}", "bars")
    if bars > MAX_SECONDS * 5 // 4:        # the shortest bar (300 BPM) lasts 0.8 s: no float of a huge number
        raise FormatError(f"{printable(bars, 20)} bars last more than {MAX_SECONDS // 60} minutes; "
                          f"render at most {MAX_SECONDS // 60} minutes", "bars")
    return StepClock(tempo, swing, kit.rate).step_start(bars * STEPS)


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


def is_wav_file(path: Path) -> bool:
    """Whether ``path`` holds a WAV file (what ``render`` and ``demo`` may replace without ``--force``)."""
    try:
        return soundfile.info(str(path)).format == "WAV"
    except (RuntimeError, soundfile.LibsndfileError):
        return False
