"""The engine's status board: counters the control side reads without a lock.

A few int64 slots in any writable buffer (a ``multiprocessing``
``RawArray`` shared between the audio and control processes). The audio
side is the only writer and publishes with a sequence count (a seqlock):
odd while it writes, so a reader that sees it odd or changed reads again.
Neither side ever waits on the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIELDS = ("sequence", "frame", "step", "blocks", "xruns", "worst_block_ns", "device_lost",
          "latency_frames", "period", "switched", "running")


@dataclass(frozen=True)
class EngineStatus:
    """One consistent reading. ``step`` is the pattern column playing (-1 when stopped);
    ``switched`` is the queue token of the last bar-line pattern switch (see :class:`PlayState`)."""

    frame: int
    step: int
    blocks: int
    xruns: int
    worst_block_ns: int
    device_lost: int
    latency_frames: int
    period: int
    switched: int
    running: bool

    @property
    def worst_block_ms(self) -> float:
        return self.worst_block_ns / 1e6


class StatusBoard:
    """Single-writer, many-reader counters over ``buffer`` (at least ``len(FIELDS)`` int64)."""

    def __init__(self, buffer: object | None = None) -> None:
        storage = buffer if buffer is not None else bytearray(8 * len(FIELDS))
        self._slots = np.frombuffer(storage, dtype=np.int64, count=len(FIELDS))
        self._index = {name: i for i, name in enumerate(FIELDS)}

    def publish(self, **values: int) -> None:
        """Write fields (audio side only)."""
        slots = self._slots
        slots[0] += 1
        for name, value in values.items():
            slots[self._index[name]] = value
        slots[0] += 1

    def read(self) -> EngineStatus:
        """A consistent snapshot; retries while the writer is mid-update."""
        while True:
            before = int(self._slots[0])
            values = self._slots.tolist()
            if before % 2 == 0 and int(self._slots[0]) == before:
                return EngineStatus(*values[1:-1], running=bool(values[-1]))
