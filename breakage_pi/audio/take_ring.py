"""A ring of audio frames from the engine to a take's writer: one producer, one consumer, no one waits.

The engine (producer, real time) copies each rendered block in with
:meth:`FrameRing.write`: no lock, no system call, no array allocated, bounded
work. When the writer (consumer, the control process, at normal priority)
has fallen so far behind that a block does not fit, the whole block is
dropped and counted, never waited for. The ring lives in any writable buffer
(a ``multiprocessing`` ``RawArray`` shared by the two processes).

Int64 header words, each with a single writer:

- ``wanted`` (consumer): the take number to record, 0 for none;
- ``session`` (producer): the take number it now records, adopted at its next block;
- ``written`` (producer) / ``read`` (consumer): frames ever written / read, counting on for ever;
- ``start`` / ``first_frame`` / ``dropped`` (producer): where the take began in the ring and on the
  engine's clock, and the frames dropped from it.

Both sides put a full memory barrier (:func:`~.seqlock.full_fence`) between
the frames and the counter that publishes them, so the pair is correct on a
weakly ordered CPU.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .seqlock import full_fence

WANTED, SESSION, WRITTEN, READ, START, FIRST_FRAME, DROPPED = range(7)
HEADER_WORDS = 8
CHANNELS = 2


def ring_bytes(capacity: int) -> int:
    """The bytes a ring of ``capacity`` stereo frames needs."""
    return 8 * HEADER_WORDS + 2 * CHANNELS * capacity


class FrameRing:
    """``capacity`` stereo int16 frames over ``buffer`` (at least :func:`ring_bytes` bytes).

    >>> ring = FrameRing(None, capacity=4)
    >>> take = ring.open()
    >>> ring.write(np.ones((3, 2), dtype=np.int16), frame=640)     # the engine, each block
    >>> ring.write(np.ones((3, 2), dtype=np.int16), frame=643)     # does not fit: dropped, counted
    >>> ring.recording(take), ring.first_frame, ring.dropped
    (True, 640, 3)
    >>> ring.drain(lambda frames: None)                           # the writer, off the real-time path
    3
    """

    def __init__(self, buffer: object | None, capacity: int) -> None:
        storage = buffer if buffer is not None else bytearray(ring_bytes(capacity))
        self.capacity = capacity
        self._words = np.frombuffer(storage, dtype=np.int64, count=HEADER_WORDS)
        self._frames = np.frombuffer(storage, dtype=np.int16, count=CHANNELS * capacity,
                                     offset=8 * HEADER_WORDS).reshape(capacity, CHANNELS)
        self._session = int(self._words[SESSION])   # producer: the take it records (a new audio process after
                                                    # a kit change carries on with the take under way)
        self._taken = 0            # consumer: the last take number it opened

    # -- the engine (one producer) --

    def write(self, block: np.ndarray, frame: int) -> None:
        """Copy ``block`` ((n, 2) int16, whose first frame is engine frame ``frame``) in, or drop it if full.

        Does nothing while no take is wanted. Never waits, never allocates an array.
        """
        words = self._words
        wanted = int(words[WANTED])
        if wanted != self._session:
            self._session = wanted
            if wanted:
                words[START] = words[WRITTEN]
                words[FIRST_FRAME] = frame
                words[DROPPED] = 0
            full_fence()
            words[SESSION] = wanted
        if not wanted:
            return
        size = len(block)
        written = int(words[WRITTEN])
        oldest = max(int(words[READ]), int(words[START]))
        if written + size - oldest > self.capacity:
            words[DROPPED] += size
            return
        full_fence()                        # the reader's ``read`` is seen before its frames are overwritten
        at = written % self.capacity
        first = min(size, self.capacity - at)
        self._frames[at:at + first] = block[:first]
        if first < size:
            self._frames[:size - first] = block[first:]
        full_fence()                        # the frames land before the count that publishes them
        words[WRITTEN] = written + size

    # -- the take's writer (one consumer) --

    def open(self) -> int:
        """Start a new take from the engine's next block; its number (for :meth:`recording`)."""
        self._taken = max(self._taken, int(self._words[SESSION])) + 1
        self._words[WANTED] = self._taken
        return self._taken

    def close(self) -> None:
        """Stop recording from the engine's next block (what it wrote before is still drained)."""
        self._words[WANTED] = 0

    def recording(self, take: int) -> bool:
        """Whether the engine has begun take ``take`` (its first block is in, or about to be)."""
        return int(self._words[SESSION]) == take

    @property
    def first_frame(self) -> int:
        """The engine frame of the take's first frame (valid once :meth:`recording`)."""
        full_fence()
        return int(self._words[FIRST_FRAME])

    @property
    def dropped(self) -> int:
        """Frames dropped from the take because the ring was full."""
        return int(self._words[DROPPED])

    @property
    def backlog(self) -> int:
        """Frames written but not yet drained."""
        return int(self._words[WRITTEN]) - max(int(self._words[READ]), int(self._words[START]))

    def drain(self, sink: Callable[[np.ndarray], object], limit: int | None = None) -> int:
        """Hand the waiting frames to ``sink`` (one or two views of the ring, oldest first), then free them.

        ``sink`` must have consumed a view when it returns (a file write has).
        Returns the frames drained (at most ``limit``).
        """
        words = self._words
        written = int(words[WRITTEN])
        full_fence()                        # the count is seen before the frames it publishes are read
        read = max(int(words[READ]), int(words[START]))
        count = written - read if limit is None else min(written - read, limit)
        if count <= 0:
            return 0
        at = read % self.capacity
        first = min(count, self.capacity - at)
        sink(self._frames[at:at + first])
        if first < count:
            sink(self._frames[:count - first])
        full_fence()                        # the frames are copied out before the producer may overwrite them
        words[READ] = read + count
        return count
