"""The engine's status board: counters the control side reads without a lock and without waiting.

A few int64 words in any writable buffer (a ``multiprocessing`` ``RawArray``
shared between the audio and control processes) under a :class:`SeqLock`:
the audio side is the only writer. A read retries a bounded number of times;
if the writer never leaves a consistent copy (it died mid-update) the read
returns the last good reading marked ``stale``. ``updated_ns`` (the
system's monotonic clock, the same in every process) says how old a reading
is, so a control side can tell a silent engine from a busy one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from .seqlock import SeqLock

FIELDS = ("frame", "step", "blocks", "xruns", "worst_block_ns", "device_lost", "latency_frames", "period",
          "running", "state_serial", "frames_written", "failing", "updated_ns", "switched",
          "state_frame", "period_reason", "block_cost_ns", "period_steps")
ERROR_BYTES = 256
WORDS = 1 + len(FIELDS) + ERROR_BYTES // 8
READ_TRIES = 1000          # about 0.2 ms of retrying at most, then the reading is marked stale

# Why the period in force is what it is (``period_reason``); see :mod:`.period`.
PINNED, MEASURED, STEPPED_UP, NONE_FITS = 1, 2, 3, 4
PERIOD_REASONS = {
    0: "not yet known",
    PINNED: "pinned by the config or the command line",
    MEASURED: "auto: the smallest period whose measured p99 block cost leaves half of it free",
    STEPPED_UP: "auto: stepped up after repeated deadline misses caused by the engine's own blocks",
    NONE_FITS: "auto: no period left half of it free, so the largest was taken",
}


@dataclass(frozen=True)
class EngineStatus:
    """One reading of the board.

    ``frame``: frames rendered (the engine's clock); ``step``: the pattern
    column playing (-1 when stopped); ``state_serial``: the serial of the
    newest state the engine has taken (see :class:`~.handover.StateSlot`);
    ``frames_written``: frames the device accepted; ``failing``: device
    failures in a row (0 when it plays), ``error`` the last one's message;
    ``updated_ns``: ``time.monotonic_ns()`` of the engine's last update;
    ``switched``: the queue token of the last bar-line pattern switch (see
    :class:`~breakage_pi.core.playstate.PlayState`); ``state_frame``: the
    frame at which the state ``state_serial`` names was adopted (the start
    of the block it first played in), so the control side knows exactly
    from which sample it plays (live MIDI out is timed by it).
    ``period_reason`` says why ``period`` is what it is (see
    :attr:`period_why`), ``block_cost_ns`` is the p99 block cost the engine
    measured at start (0 when the period was pinned), ``period_steps`` how
    often it has stepped the period up since.
    ``stale`` is True when no consistent copy could be read (the values are
    the previous reading's); ``alive`` is None unless the reader knows.
    """

    frame: int = 0
    step: int = -1
    blocks: int = 0
    xruns: int = 0
    worst_block_ns: int = 0
    device_lost: int = 0
    latency_frames: int = 0
    period: int = 0
    running: bool = False
    state_serial: int = 0
    frames_written: int = 0
    failing: int = 0
    updated_ns: int = 0
    switched: int = 0
    state_frame: int = 0
    period_reason: int = 0
    block_cost_ns: int = 0
    period_steps: int = 0
    error: str = ""
    stale: bool = False
    alive: bool | None = None

    @property
    def worst_block_ms(self) -> float:
        return self.worst_block_ns / 1e6

    @property
    def period_why(self) -> str:
        """Why the period in force is what it is, in words."""
        return PERIOD_REASONS.get(self.period_reason, "unknown")

    def age(self, now_ns: int) -> float:
        """Seconds since the engine last updated the board (``now_ns`` from ``time.monotonic_ns()``)."""
        return (now_ns - self.updated_ns) / 1e9


class StatusBoard:
    """Single-writer, many-reader status over ``buffer`` (at least ``8 * WORDS`` bytes).

    >>> board = StatusBoard()
    >>> board.publish(frame=640, blocks=10)
    >>> board.read().frame, board.read().blocks
    (640, 10)
    """

    def __init__(self, buffer: object | None = None) -> None:
        storage = buffer if buffer is not None else bytearray(8 * WORDS)
        self._lock = SeqLock(np.frombuffer(storage, dtype=np.int64, count=WORDS))
        self._index = {name: i for i, name in enumerate(FIELDS)}
        self._error = self._lock.data[len(FIELDS):].view(np.uint8)
        self._copy = np.zeros(WORDS - 1, dtype=np.int64)
        self._last = EngineStatus()

    def publish(self, error: str | None = None, **values: int) -> None:
        """Write fields (audio side only); ``error`` replaces the message (UTF-8, cut to 256 bytes)."""
        data, index = self._lock.data, self._index
        self._lock.begin()
        for name, value in values.items():
            data[index[name]] = value
        data[index["updated_ns"]] = time.monotonic_ns()
        if error is not None:
            encoded = error.encode("utf-8", "replace")[:ERROR_BYTES]
            self._error[:] = 0
            self._error[:len(encoded)] = np.frombuffer(encoded, dtype=np.uint8)
        self._lock.end()

    def read(self, tries: int = READ_TRIES) -> EngineStatus:
        """A consistent reading, or the previous one marked ``stale`` after ``tries`` failed tries."""
        if self._lock.read_into(self._copy, tries) is None:
            return replace(self._last, stale=True)
        values = self._copy[:len(FIELDS)].tolist()
        fields = dict(zip(FIELDS, values))
        fields["running"] = bool(fields["running"])
        error = self._copy[len(FIELDS):].view(np.uint8).tobytes().rstrip(b"\0").decode("utf-8", "replace")
        self._last = EngineStatus(**fields, error=error)
        return self._last
