"""The mixer: voices started at exact sample offsets, rendered in one vectorised pass.

Voice state lives in fixed numpy arrays rather than Python objects: a block
is one gather of every active voice's window from the kit (through a
sliding-window view of all samples laid end to end, each padded with
silence) and one matrix product with the voices' gains, so its cost hardly
grows with the voice count (DESIGN §3: a Python loop over voices is over
budget on a Pi 4).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .kit import Kit

CLOSED_HAT_CHOKES_OPEN_HAT = {3: (2,)}
CHOKE_SECONDS = 0.004


def velocity_gain(velocity: int) -> float:
    """Linear gain for a velocity 0-255: ``(v / 255) ** 2``.

    A square law: 255 is full scale (0 dB), 128 is about -12 dB, 64 about
    -24 dB, 0 is silence, so equal velocity steps sound roughly even.
    """
    return (velocity / 255.0) ** 2


class Mixer:
    """Sums up to ``max_voices`` one-shot voices into stereo float32 blocks.

    Call :meth:`trigger` for each hit in the coming block, in time order,
    then :meth:`render` once. ``chokes`` maps a channel to the channels it
    silences (a closed hat cuts a ringing open hat) with a short fade.

    >>> from breakage_pi.audio.kit import load_kit
    >>> mixer = Mixer(load_kit(), max_block=64)
    >>> mixer.trigger(channel=0, velocity=255, offset=10)
    >>> block = mixer.render(64)      # (2, 64) float32; the kick starts at frame 10
    """

    def __init__(self, kit: Kit, max_voices: int = 64, max_block: int = 256,
                 chokes: Mapping[int, tuple[int, ...]] = CLOSED_HAT_CHOKES_OPEN_HAT) -> None:
        self.max_block = max_block
        self.chokes = {channel: tuple(targets) for channel, targets in chokes.items()}
        silence = np.zeros((max_block, 2), dtype=np.float32)
        pieces, starts, ends, length = [silence], [], [], max_block
        for sample in kit.samples:
            starts.append(length)
            length += len(sample)
            ends.append(length)
            pieces += [sample, silence]
            length += max_block
        self._bank = np.ascontiguousarray(np.concatenate(pieces).T)          # (2, frames)
        self._sample_start = np.array(starts, dtype=np.int64)
        self._sample_end = np.array(ends, dtype=np.int64)
        fade = max(1, round(CHOKE_SECONDS * kit.rate))
        self._fade_end = max_block + fade
        self._envelope = np.concatenate([np.ones(max_block), np.linspace(1.0, 0.0, fade + 1)[1:],
                                         np.zeros(max_block)]).astype(np.float32)
        self._windows: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._position = np.zeros(max_voices, dtype=np.int64)
        self._end = np.zeros(max_voices, dtype=np.int64)
        self._gain = np.zeros(max_voices, dtype=np.float32)
        self._fade = np.zeros(max_voices, dtype=np.int64)     # 0 = sounding; else envelope index
        self._channel = np.full(max_voices, -1, dtype=np.int64)
        self._started = np.zeros(max_voices, dtype=np.int64)
        self._active = np.zeros(max_voices, dtype=bool)
        self._triggers = 0
        self._out = np.zeros((2, max_block), dtype=np.float32)

    @property
    def active_voices(self) -> int:
        return int(self._active.sum())

    def trigger(self, channel: int, velocity: int, offset: int) -> None:
        """Start ``channel``'s sample at frame ``offset`` of the next rendered block."""
        if velocity <= 0:
            return
        for target in self.chokes.get(channel, ()):
            self.fade_out(offset, channel=target)
        free = np.flatnonzero(~self._active)
        voice = int(free[0]) if len(free) else int(np.argmin(self._started))   # steal the oldest
        self._triggers += 1
        self._position[voice] = self._sample_start[channel] - offset
        self._end[voice] = self._sample_end[channel]
        self._gain[voice] = velocity_gain(velocity)
        self._fade[voice] = 0
        self._channel[voice] = channel
        self._started[voice] = self._triggers
        self._active[voice] = True

    def fade_out(self, offset: int, channel: int | None = None) -> None:
        """Fade the voices of ``channel`` (all when None) to silence from frame ``offset``."""
        chosen = self._active & (self._fade == 0)
        if channel is not None:
            chosen &= self._channel == channel
        self._fade[chosen] = self.max_block - offset

    def render(self, frames: int) -> np.ndarray:
        """Mix the next ``frames`` frames; returns a (2, frames) view of a reused buffer."""
        out = self._out[:, :frames]
        voices = np.flatnonzero(self._active)
        if len(voices) == 0:
            out.fill(0.0)
            return out
        sample_windows, envelope_windows = self._window_views(frames)
        gathered = sample_windows[:, self._position[voices]]                 # (2, voices, frames)
        fading = self._fade[voices]
        if fading.any():
            gathered *= envelope_windows[fading]
        np.matmul(self._gain[voices], gathered, out=out)
        self._advance(voices, frames)
        return out

    def _window_views(self, frames: int) -> tuple[np.ndarray, np.ndarray]:
        if frames not in self._windows:
            if not 0 < frames <= self.max_block:
                raise ValueError(f"block of {frames} frames; this mixer renders 1-{self.max_block}")
            self._windows[frames] = (sliding_window_view(self._bank, frames, axis=1),
                                     sliding_window_view(self._envelope, frames))
        return self._windows[frames]

    def _advance(self, voices: np.ndarray, frames: int) -> None:
        self._position[voices] += frames
        fading = voices[self._fade[voices] > 0]
        self._fade[fading] += frames
        finished = (self._position >= self._end) | (self._fade >= self._fade_end)
        self._active &= ~finished
