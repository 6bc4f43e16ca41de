"""A peak limiter on the master mix, so hits landing together never clip.

Each kit sample peaks at -1 dBFS at full velocity, so a kick and a snare on
the same step sum past full scale (the demo clipped 88 samples). The limiter
follows the mix's peak level with an instant attack and an exponential
release and scales the mix by ``min(1, ceiling / level)``: a mix that stays
under the ceiling (-1 dBFS) passes through bit for bit; a louder one peaks
at the ceiling and recovers over the release time.

The level of frame ``n`` is ``max(peak[n], decay * level[n - 1])``: a
running maximum, computed per block with one cumulative maximum over
``peak[k] * decay**-k`` (no Python loop per frame), from buffers allocated
once. Blocks are independent of their size up to rounding in the last bit.
"""

from __future__ import annotations

import math

import numpy as np

CEILING = 10 ** (-1 / 20)
"""-1 dBFS: the highest peak the limiter lets through."""
RELEASE_SECONDS = 0.08
"""Time for the gain reduction to fall to 1/e of itself once the peaks are gone."""


class Limiter:
    """Limits (frames, 2) float32 blocks in place to :data:`CEILING`; blocks of 1 to ``max_block`` frames."""

    def __init__(self, rate: int, max_block: int, ceiling: float = CEILING,
                 release_seconds: float = RELEASE_SECONDS) -> None:
        self.ceiling = ceiling
        self._decay = math.exp(-1.0 / (release_seconds * rate))
        exponents = np.arange(max_block, dtype=np.float64)
        self._rising = self._decay ** -exponents          # decay**-k
        self._falling = self._decay ** exponents          # decay**n
        self._magnitudes = np.zeros((max_block, 2), dtype=np.float32)
        self._peaks = np.zeros(max_block, dtype=np.float32)
        self._level = np.zeros(max_block, dtype=np.float64)
        self._carried = np.zeros(max_block, dtype=np.float64)
        self._gain = np.zeros(max_block, dtype=np.float32)
        self._carry = 0.0   # the level at the last frame, when above the ceiling (else it cannot matter)

    def process(self, block: np.ndarray) -> np.ndarray:
        """Limit ``block`` in place and return it."""
        frames = len(block)
        if self._carry * self._decay <= self.ceiling and -self.ceiling <= block.min() and block.max() <= self.ceiling:
            self._carry = 0.0
            return block
        magnitudes, peaks = self._magnitudes[:frames], self._peaks[:frames]
        np.abs(block, out=magnitudes)
        np.maximum(magnitudes[:, 0], magnitudes[:, 1], out=peaks)
        level = self._level[:frames]
        np.multiply(peaks, self._rising[:frames], out=level)
        np.maximum.accumulate(level, out=level)
        np.multiply(level, self._falling[:frames], out=level)
        carried = self._carried[:frames]
        np.multiply(self._falling[:frames], self._carry * self._decay, out=carried)
        np.maximum(level, carried, out=level)
        last = float(level[-1])
        self._carry = last if last > self.ceiling else 0.0
        np.maximum(level, self.ceiling, out=level)
        gain = self._gain[:frames]
        np.divide(self.ceiling, level, out=gain, casting="same_kind")
        block *= gain[:, None]
        return block
