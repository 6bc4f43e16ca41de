"""The mixer: voices started at exact sample offsets, rendered in one vectorised pass.

Voice state lives in fixed numpy arrays rather than Python objects, the
sounding voices packed at the front: a block is one gather of every voice's
window from the kit (all samples laid end to end, interleaved stereo, each
padded with silence), scaled by the voices' gains and summed voice by voice
(a BLAS product would sum in an order that depends on the block size, and
rendering must not). Its cost hardly grows with the voice count (DESIGN §3:
a Python loop over voices is over budget on a Pi 4), the only per-block
Python work is integer bookkeeping, and in steady state a block allocates
nothing: every numpy call writes into buffers made ahead (``out=``).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

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
        self._block_buffers: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
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
        # Scratch for the hot path, so a block allocates nothing (all numpy work uses out= into these).
        self._mask = np.zeros(max_voices, dtype=bool)
        self._other_mask = np.zeros(max_voices, dtype=bool)
        self._scratch = np.zeros(max_voices, dtype=np.int64)
        self._order = np.zeros(max_voices, dtype=np.int64)
        self._gain_scratch = np.zeros(max_voices, dtype=np.float32)
        self._voice_index = np.arange(max_voices, dtype=np.int64)

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
        chosen, scratch = self._mask[:count], self._scratch[:count]
        np.equal(self._fade[:count], 0, out=chosen)
        if channel is not None:
            same = self._other_mask[:count]
            np.equal(self._channel[:count], channel, out=same)
            np.logical_and(chosen, same, out=chosen)
        fading = int(np.count_nonzero(chosen))
        if fading == 0:
            return
        start = self.max_block - offset
        np.copyto(self._fade[:count], start, where=chosen)
        np.add(self._position[:count], self._fade_end - start, out=scratch)
        np.minimum(self._end[:count], scratch, out=self._end[:count], where=chosen)
        self._fading += fading
        self._note_end(self._fade_end - start)

    def render(self, frames: int) -> np.ndarray:
        """Mix the next ``frames`` frames; returns a (frames, 2) view of a reused buffer (allocates nothing)."""
        out = self._out[:2 * frames]
        count = self.count
        if count == 0:
            out.fill(0.0)
            return out.reshape(frames, 2)
        # Only same-shape or scalar ufuncs and broadcast copies below: a broadcasting ufunc buffers (allocates).
        ramps, indices, gathered, scales = (buffer[:count] for buffer in self._buffers(frames))
        self._window_indices(self._position[:count], ramps, indices)
        np.take(self._bank, indices, out=gathered, mode="clip")             # (voices, 2 * frames) interleaved
        if self._fading:
            fades = self._fade[:count]
            self._window_indices(fades, ramps, indices)
            np.take(self._envelope, indices, out=scales, mode="clip")
            np.multiply(gathered, scales, out=gathered)
            sounding = self._mask[:count]
            np.greater(fades, 0, out=sounding)
            np.add(fades, frames, out=fades, where=sounding)
        np.copyto(scales, self._gain[:count, None])
        np.multiply(gathered, scales, out=gathered)
        np.add.reduce(gathered, axis=0, out=out)     # voice by voice: the same sums whatever the block size
        np.add(self._position[:count], frames, out=self._position[:count])
        self._frames_to_next_end -= frames
        if self._frames_to_next_end <= 0:
            self._retire()
        return out.reshape(frames, 2)

    def _note_end(self, frames_left: int) -> None:
        self._frames_to_next_end = min(self._frames_to_next_end, frames_left) if self.count > 1 else frames_left

    def prepare(self, frames: int) -> None:
        """Build the buffers for ``frames``-frame blocks ahead of time, off the real-time path."""
        self._buffers(frames)

    @staticmethod
    def _window_indices(starts: np.ndarray, ramps: np.ndarray, out: np.ndarray) -> None:
        """``out[v] = 2 * starts[v] + (0 .. 2*frames-1)``: where voice ``v``'s interleaved window lies."""
        np.copyto(out, starts[:, None])
        np.multiply(out, 2, out=out)
        np.add(out, ramps, out=out)

    def _buffers(self, frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For ``frames``-frame blocks: offsets 0 .. 2*frames-1 on every row, indices, gathered audio, scales."""
        if frames not in self._block_buffers:
            if not 0 < frames <= self.max_block:
                raise ValueError(f"block of {frames} frames; this mixer renders 1-{self.max_block}")
            shape = (self.max_voices, 2 * frames)
            ramps = np.tile(np.arange(2 * frames, dtype=np.int64), (self.max_voices, 1))
            self._block_buffers[frames] = (ramps, np.zeros(shape, dtype=np.int64),
                                           np.zeros(shape, dtype=np.float32), np.zeros(shape, dtype=np.float32))
        return self._block_buffers[frames]

    def _retire(self) -> None:
        """Drop finished voices, keeping the sounding ones packed at the front in their order.

        A stable compaction with no allocation: each voice gets the key
        ``finished * max_voices + index``, the keys are sorted in place, and
        the first ``kept`` of them index the voices that stay.
        """
        count = self.count
        finished, order = self._mask[:count], self._order[:count]
        np.greater_equal(self._position[:count], self._end[:count], out=finished)
        kept = count - int(np.count_nonzero(finished))
        if kept < count:
            np.multiply(finished, self.max_voices, out=order)
            np.add(order, self._voice_index[:count], out=order)
            order.sort()
            np.remainder(order, self.max_voices, out=order)
            survivors = order[:kept]
            for array in (self._position, self._end, self._fade, self._channel, self._started):
                np.take(array[:count], survivors, out=self._scratch[:kept], mode="clip")
                array[:kept] = self._scratch[:kept]
            np.take(self._gain[:count], survivors, out=self._gain_scratch[:kept], mode="clip")
            self._gain[:kept] = self._gain_scratch[:kept]
        self.count = kept
        self._fading = int(np.count_nonzero(self._fade[:kept]))
        if kept:
            remaining = self._scratch[:kept]
            np.subtract(self._end[:kept], self._position[:kept], out=remaining)
            self._frames_to_next_end = int(remaining.min())
        else:
            self._frames_to_next_end = 0
