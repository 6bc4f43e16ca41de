"""The mixer: voices started at exact sample offsets, rendered in one vectorised pass.

Voice state lives in fixed numpy arrays rather than Python objects, the
sounding voices packed at the front. A block is one gather of every voice's
window from the kit, one multiply by the voices' gains and one sum voice by
voice (a BLAS product would sum in an order that depends on the block size,
and rendering must not). Its cost hardly grows with the voice count (DESIGN
§3: a Python loop over voices is over budget on a Pi 4), and in steady state
a block allocates nothing: every numpy call writes into buffers made ahead.

Why the gather is fast: a gather by element costs per element, a gather of
whole rows is a row of ``memcpy``. So the kit is laid out ``ROW_FRAMES``
times, each copy shifted by one more frame and cut into rows of
``ROW_FRAMES`` frames: whatever frame a voice is at, its window is a run of
whole rows of one copy, and a block gathers ``frames / ROW_FRAMES`` rows per
voice. The row indices of every voice are kept from block to block (a block
adds the same number to all of them) and rebuilt from the voices' positions
only when voices retire or the block size changes. The cost is memory: the
kit is held ``ROW_FRAMES`` times (the default kit: 2.3 MB).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .kit import Kit

CLOSED_HAT_CHOKES_OPEN_HAT = {3: (2,)}
CHOKE_SECONDS = 0.004
ROW_FRAMES = 4                      # frames per gathered row (a power of two)
_ROW_SHIFT = ROW_FRAMES.bit_length() - 1


def velocity_gain(velocity: int) -> float:
    """Linear gain for a velocity 0-255: ``(v / 255) ** 2``.

    A square law: 255 is full scale (0 dB), 128 is about -12 dB, 64 about
    -24 dB, 0 is silence, so equal velocity steps sound roughly even.
    """
    return (velocity / 255.0) ** 2


def _row_table(frames: np.ndarray) -> tuple[np.ndarray, int]:
    """``ROW_FRAMES`` copies of interleaved stereo ``frames``, copy ``r`` shifted by ``r`` frames, in rows of
    ``ROW_FRAMES`` frames: frame ``p`` starts row ``(p % ROW_FRAMES) * rows_per_copy + p // ROW_FRAMES``."""
    rows_per_copy = -(-len(frames) // ROW_FRAMES) + 1
    padded = np.zeros(((rows_per_copy + 1) * ROW_FRAMES, 2), dtype=np.float32)
    padded[:len(frames)] = frames
    table = np.empty((ROW_FRAMES * rows_per_copy, 2 * ROW_FRAMES), dtype=np.float32)
    for shift in range(ROW_FRAMES):
        table[shift * rows_per_copy:(shift + 1) * rows_per_copy] = \
            padded[shift:shift + rows_per_copy * ROW_FRAMES].reshape(rows_per_copy, 2 * ROW_FRAMES)
    return table, rows_per_copy


class _BlockBuffers:
    """Everything a block of one size needs, made ahead (one row per voice)."""

    def __init__(self, voices: int, frames: int) -> None:
        rows = -(-frames // ROW_FRAMES)
        self.ramp = np.tile(np.arange(rows, dtype=np.int64), (voices, 1))         # 0 .. rows-1 on every voice
        self.rows = np.zeros((voices, rows), dtype=np.int64)                      # each voice's window, in rows
        self.envelope_rows = np.zeros((voices, rows), dtype=np.int64)
        self.gathered = np.zeros((voices, rows, 2 * ROW_FRAMES), dtype=np.float32)
        self.scales = np.zeros((voices, rows, 2 * ROW_FRAMES), dtype=np.float32)
        self.gains = np.zeros((voices, rows * 2 * ROW_FRAMES), dtype=np.float32)  # each voice's gain, repeated
        self.flat_gathered = self.gathered.reshape(voices, -1)
        self.flat_scales = self.scales.reshape(voices, -1)
        self.advance = rows if frames % ROW_FRAMES == 0 else 0   # rows a block moves every voice by (0: it
                                                                  # moves them to other copies: lay out again)


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
        silence, tail = np.zeros((max_block, 2), dtype=np.float32), np.zeros((max_block + ROW_FRAMES, 2), np.float32)
        pieces, starts, ends, length = [silence], [], [], max_block
        for sample in kit.samples:
            starts.append(length)
            length += len(sample)
            ends.append(length)
            pieces += [sample, tail]
            length += len(tail)
        self._table, self._rows_per_copy = _row_table(np.concatenate(pieces))
        self._sample_start = starts
        self._sample_end = ends
        fade = max(1, round(CHOKE_SECONDS * kit.rate))
        self._fade_end = max_block + fade
        envelope = np.concatenate([np.ones(max_block), np.linspace(1.0, 0.0, fade + 1)[1:], np.zeros(max_block)])
        self._envelope, self._envelope_rows_per_copy = _row_table(np.repeat(envelope[:, None], 2, axis=1))
        self._block_buffers: dict[int, _BlockBuffers] = {}
        self._outputs: dict[int, tuple[np.ndarray, np.ndarray]] = {}   # per block size: the sum, the block
        self._layout = 0        # the block size the buffers' rows and gains are up to date for (0: none)
        # Voices 0 .. count-1 sound; each array holds one value per voice.
        self.count = 0
        self._clock = 0                                         # frames rendered so far
        self._origin = np.zeros(max_voices, dtype=np.int64)     # frame in the kit's layout, minus the clock
        self._deadline = np.zeros(max_voices, dtype=np.int64)   # clock at which the voice is done
        self._gain = np.zeros(max_voices, dtype=np.float32)
        self._fade = np.zeros(max_voices, dtype=np.int64)       # 0 = sounding, else envelope frame
        self._channel = np.zeros(max_voices, dtype=np.int64)
        self._started = np.zeros(max_voices, dtype=np.int64)
        self._triggers = 0
        self._fading = 0
        self._frames_to_next_end = 0
        self._out = np.zeros(2 * (max_block + ROW_FRAMES), dtype=np.float32)
        # Scratch for the hot path, so a block allocates nothing (all numpy work uses out= into these).
        self._mask = np.zeros(max_voices, dtype=bool)
        self._other_mask = np.zeros(max_voices, dtype=bool)
        self._scratch = np.zeros(max_voices, dtype=np.int64)
        self._position_scratch = np.zeros(max_voices, dtype=np.int64)
        self._other_scratch = np.zeros(max_voices, dtype=np.int64)
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
        self._origin[voice] = position - self._clock
        self._deadline[voice] = self._sample_end[channel] - position + self._clock
        self._gain[voice] = velocity_gain(velocity)
        self._fade[voice] = 0
        self._channel[voice] = channel
        self._started[voice] = self._triggers
        self._note_end(self._sample_end[channel] - position)
        if self._layout:
            buffers = self._block_buffers[self._layout]
            first_row = (position % ROW_FRAMES) * self._rows_per_copy + (position >> _ROW_SHIFT)
            np.add(buffers.ramp[voice], first_row, out=buffers.rows[voice])
            buffers.gains[voice] = self._gain[voice]

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
        np.copyto(scratch, self._clock + self._fade_end - start)
        np.minimum(self._deadline[:count], scratch, out=self._deadline[:count], where=chosen)
        self._fading += fading
        self._note_end(self._fade_end - start)

    def render(self, frames: int) -> np.ndarray:
        """Mix the next ``frames`` frames; returns a (frames, 2) view of a reused buffer (allocates nothing)."""
        # Method calls with positional arguments: np.take's Python wrapper costs as much as its work here.
        count = self.count
        summed, block = self._outputs.get(frames) or self._output(frames)
        if count == 0:
            summed.fill(0.0)
            return block
        buffers = self._block_buffers[frames]
        if self._layout != frames:
            self._lay_out(frames, buffers)
        gathered = buffers.flat_gathered[:count]                            # (voices, 2 * frames) interleaved
        rows = buffers.rows[:count]
        self._table.take(rows, 0, buffers.gathered[:count], "clip")
        if self._fading:
            fades = self._fade[:count]
            self._first_rows(fades, self._envelope_rows_per_copy, buffers.envelope_rows[:count], buffers.ramp[:count])
            self._envelope.take(buffers.envelope_rows[:count], 0, buffers.scales[:count], "clip")
            np.multiply(gathered, buffers.flat_scales[:count], gathered)
            sounding = self._mask[:count]
            np.greater(fades, 0, sounding)
            np.add(fades, frames, out=fades, where=sounding)
        np.multiply(gathered, buffers.gains[:count], gathered)
        np.add.reduce(gathered, 0, None, summed)     # voice by voice: the same sums whatever the block size
        self._clock += frames
        if buffers.advance:
            np.add(rows, buffers.advance, rows)
        else:
            self._layout = 0
        self._frames_to_next_end -= frames
        if self._frames_to_next_end <= 0:
            self._retire()
        return block

    def _note_end(self, frames_left: int) -> None:
        self._frames_to_next_end = min(self._frames_to_next_end, frames_left) if self.count > 1 else frames_left

    def prepare(self, frames: int) -> None:
        """Build the buffers for ``frames``-frame blocks ahead of time, off the real-time path."""
        self._output(frames)

    def _output(self, frames: int) -> tuple[np.ndarray, np.ndarray]:
        """The sum of a ``frames``-frame block (whole rows: may run a few frames over) and the block itself."""
        if frames not in self._outputs:
            self._buffers(frames)
            summed = self._out[:self._block_buffers[frames].gathered[0].size]
            self._outputs[frames] = summed, self._out[:2 * frames].reshape(frames, 2)
        return self._outputs[frames]

    def _lay_out(self, frames: int, buffers: _BlockBuffers) -> None:
        """Bring ``buffers``' rows and gains up to date with the voices (after a retirement or a new block size)."""
        count = self.count
        positions = self._position_scratch[:count]
        np.add(self._origin[:count], self._clock, out=positions)
        self._first_rows(positions, self._rows_per_copy, buffers.rows[:count], buffers.ramp[:count])
        np.copyto(buffers.gains[:count], self._gain[:count, None])
        self._layout = frames

    def _first_rows(self, frames: np.ndarray, rows_per_copy: int, out: np.ndarray, ramp: np.ndarray) -> None:
        """``out[v]``: the rows of a row table that hold the window starting at frame ``frames[v]``."""
        first, quotient = self._scratch[:len(frames)], self._other_scratch[:len(frames)]
        np.bitwise_and(frames, ROW_FRAMES - 1, out=first)
        np.multiply(first, rows_per_copy, out=first)
        np.right_shift(frames, _ROW_SHIFT, out=quotient)
        np.add(first, quotient, out=first)
        np.copyto(out, first[:, None])
        np.add(out, ramp, out=out)

    def _buffers(self, frames: int) -> _BlockBuffers:
        if frames not in self._block_buffers:
            if not 0 < frames <= self.max_block:
                raise ValueError(f"block of {frames} frames; this mixer renders 1-{self.max_block}")
            self._block_buffers[frames] = _BlockBuffers(self.max_voices, frames)
        return self._block_buffers[frames]

    def _retire(self) -> None:
        """Drop finished voices, keeping the sounding ones packed at the front in their order.

        A stable compaction with no allocation: each voice gets the key
        ``finished * max_voices + index``, the keys are sorted in place, and
        the first ``kept`` of them index the voices that stay.
        """
        count = self.count
        finished, order = self._mask[:count], self._order[:count]
        np.less_equal(self._deadline[:count], self._clock, out=finished)
        kept = count - int(np.count_nonzero(finished))
        if kept < count:
            np.multiply(finished, self.max_voices, out=order)
            np.add(order, self._voice_index[:count], out=order)
            order.sort()
            np.remainder(order, self.max_voices, out=order)
            survivors = order[:kept]
            for array in (self._origin, self._deadline, self._fade, self._channel, self._started):
                np.take(array[:count], survivors, out=self._scratch[:kept], mode="clip")
                array[:kept] = self._scratch[:kept]
            np.take(self._gain[:count], survivors, out=self._gain_scratch[:kept], mode="clip")
            self._gain[:kept] = self._gain_scratch[:kept]
            self._layout = 0
        self.count = kept
        self._fading = int(np.count_nonzero(self._fade[:kept]))
        if kept:
            self._frames_to_next_end = int(self._deadline[:kept].min()) - self._clock
        else:
            self._frames_to_next_end = 0
