"""The reference mixer for ``bench mixer``: the mixer of commit 3466e98, kept as it was.

It gathers through a sliding-window view by fancy indexing, which allocates
the gathered buffer every block; the mixer in ``audio/mixer.py`` must stay
at least as fast without allocating, and sample for sample the same (the
tests compare the two). What follows is its original description.


Voice state lives in fixed numpy arrays rather than Python objects, the
sounding voices packed at the front: a block is one gather of every voice's
window from the kit (a sliding-window view of all samples laid end to end,
interleaved stereo, each padded with silence), scaled by the voices' gains
and summed voice by voice (a BLAS product would sum in an order that depends
on the block size, and rendering must not). Its cost hardly grows with the voice count (DESIGN
§3: a Python loop over voices is over budget on a Pi 4), and the only
per-block Python work is integer bookkeeping.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..audio.kit import Kit

CLOSED_HAT_CHOKES_OPEN_HAT = {3: (2,)}
CHOKE_SECONDS = 0.004


def velocity_gain(velocity: int) -> float:
    """Linear gain for a velocity 0-255: ``(v / 255) ** 2``.

    A square law: 255 is full scale (0 dB), 128 is about -12 dB, 64 about
    -24 dB, 0 is silence, so equal velocity steps sound roughly even.
    """
    return (velocity / 255.0) ** 2


def _interleaved_windows(flat: np.ndarray, frames: int) -> np.ndarray:
    """Row ``i`` is frames ``i .. i+frames`` of an interleaved stereo buffer, as a view."""
    return sliding_window_view(flat, 2 * frames)[::2]


class Mixer:
    """Sums up to ``max_voices`` one-shot voices into interleaved stereo float32 blocks.

    Call :meth:`trigger` for each hit in the coming block, in time order,
    then :meth:`render` once. ``chokes`` maps a channel to the channels it
    silences (a closed hat cuts a ringing open hat) with a 4 ms fade.

    >>> from breakage_pi.audio.kit import load_kit
    >>> mixer = Mixer(load_kit(), max_block=64)
    >>> mixer.trigger(channel=0, velocity=255, offset=10)
    >>> block = mixer.render(64)      # (64, 2) float32; the kick starts at frame 10
    """

    def __init__(self, kit: Kit, max_voices: int = 64, max_block: int = 256,
                 chokes: Mapping[int, tuple[int, ...]] = CLOSED_HAT_CHOKES_OPEN_HAT) -> None:
        self.max_voices = max_voices
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
        self._bank = np.concatenate(pieces).reshape(-1)                     # interleaved L R L R ...
        self._sample_start = starts
        self._sample_end = ends
        fade = max(1, round(CHOKE_SECONDS * kit.rate))
        self._fade_end = max_block + fade
        envelope = np.concatenate([np.ones(max_block), np.linspace(1.0, 0.0, fade + 1)[1:], np.zeros(max_block)])
        self._envelope = np.repeat(envelope, 2).astype(np.float32)
        self._windows: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # Voices 0 .. count-1 sound; each array holds one value per voice.
        self.count = 0
        self._position = np.zeros(max_voices, dtype=np.int64)   # window index of the next block
        self._end = np.zeros(max_voices, dtype=np.int64)        # position at which the voice is done
        self._gain = np.zeros(max_voices, dtype=np.float32)
        self._fade = np.zeros(max_voices, dtype=np.int64)       # 0 = sounding, else envelope index
        self._channel = np.zeros(max_voices, dtype=np.int64)
        self._started = np.zeros(max_voices, dtype=np.int64)
        self._triggers = 0
        self._fading = 0
        self._frames_to_next_end = 0
        self._out = np.zeros(2 * max_block, dtype=np.float32)

    def trigger(self, channel: int, velocity: int, offset: int) -> None:
        """Start ``channel``'s sample at frame ``offset`` of the next rendered block."""
        if velocity <= 0:
            return
        for target in self.chokes.get(channel, ()):
            self.fade_out(offset, channel=target)
        if self.count < self.max_voices:
            voice = self.count
            self.count += 1
        else:
            voice = int(np.argmin(self._started))          # steal the oldest
            self._fading -= bool(self._fade[voice])
        self._triggers += 1
        position = self._sample_start[channel] - offset
        self._position[voice] = position
        self._end[voice] = self._sample_end[channel]
        self._gain[voice] = velocity_gain(velocity)
        self._fade[voice] = 0
        self._channel[voice] = channel
        self._started[voice] = self._triggers
        self._note_end(self._sample_end[channel] - position)

    def fade_out(self, offset: int, channel: int | None = None) -> None:
        """Fade the voices of ``channel`` (all when None) to silence from frame ``offset``."""
        count = self.count
        chosen = self._fade[:count] == 0
        if channel is not None:
            chosen &= self._channel[:count] == channel
        voices = np.flatnonzero(chosen)
        if len(voices) == 0:
            return
        start = self.max_block - offset
        self._fade[voices] = start
        self._end[voices] = np.minimum(self._end[voices], self._position[voices] + self._fade_end - start)
        self._fading += len(voices)
        self._note_end(self._fade_end - start)

    def render(self, frames: int) -> np.ndarray:
        """Mix the next ``frames`` frames; returns a (frames, 2) view of a reused buffer."""
        out = self._out[:2 * frames]
        count = self.count
        if count == 0:
            out.fill(0.0)
            return out.reshape(frames, 2)
        sample_windows, envelope_windows = self._window_views(frames)
        gathered = sample_windows[self._position[:count]]                   # (voices, 2 * frames)
        if self._fading:
            fades = self._fade[:count]
            gathered *= envelope_windows[fades]
            np.add(fades, frames, out=fades, where=fades > 0)
        gathered *= self._gain[:count, None]
        np.add.reduce(gathered, axis=0, out=out)     # voice by voice: the same sums whatever the block size
        self._position[:count] += frames
        self._frames_to_next_end -= frames
        if self._frames_to_next_end <= 0:
            self._retire()
        return out.reshape(frames, 2)

    def _note_end(self, frames_left: int) -> None:
        self._frames_to_next_end = min(self._frames_to_next_end, frames_left) if self.count > 1 else frames_left

    def prepare(self, frames: int) -> None:
        """Build the views for ``frames``-frame blocks ahead of time, off the real-time path."""
        self._window_views(frames)

    def _window_views(self, frames: int) -> tuple[np.ndarray, np.ndarray]:
        if frames not in self._windows:
            if not 0 < frames <= self.max_block:
                raise ValueError(f"block of {frames} frames; this mixer renders 1-{self.max_block}")
            self._windows[frames] = (_interleaved_windows(self._bank, frames),
                                     _interleaved_windows(self._envelope, frames))
        return self._windows[frames]

    def _retire(self) -> None:
        """Drop finished voices, keeping the sounding ones packed at the front."""
        count = self.count
        keep = np.flatnonzero(self._position[:count] < self._end[:count])
        kept = len(keep)
        for array in (self._position, self._end, self._gain, self._fade, self._channel, self._started):
            array[:kept] = array[keep]
        self.count = kept
        self._fading = int(np.count_nonzero(self._fade[:kept]))
        self._frames_to_next_end = int((self._end[:kept] - self._position[:kept]).min()) if kept else 0
