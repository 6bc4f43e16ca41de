"""The handover of play states: a latest-value slot in shared memory, never a queue.

The control side may send a state on every edit, thousands a second; the
engine only ever needs the newest. So :meth:`StateSlot.send` overwrites one
slot under a :class:`SeqLock` (a copy of ~100 bytes, never a wait, whatever
the audio process is doing, even if it is stopped or gone), and the engine's
:meth:`StateSlot.take` at each block start costs one load when nothing
changed, and one copy plus one decode when something did. A flood of edits
therefore costs the engine at most one decode per block, and the state
playing is always the newest one sent (states between two blocks are
skipped, as a knob's intermediate positions are). Each state gets a serial,
so the control side can see on the status board which one is playing.

Stopping is a separate word, so no later state can overwrite a stop.
"""

from __future__ import annotations

import numpy as np

from ..core.pattern import CHANNELS, STEPS, Pattern
from ..core.playstate import MAX_HITS, Hit, PlayState
from .seqlock import SeqLock

STOP = "stop"
LAYOUT = np.dtype([("serial", "<i8"), ("tempo", "<f8"), ("swing", "<f8"), ("volume", "<f8"),
                   ("queue_token", "<i8"), ("hits", "<i8", (MAX_HITS, 4)),
                   ("velocities", "u1", (CHANNELS, STEPS)),
                   ("queued", "u1", (CHANNELS, STEPS)), ("mutes", "u1", (CHANNELS,)), ("playing", "u1"),
                   ("has_queued", "u1"), ("hit_count", "u1")],
                  align=True)
STATE_WORDS = -(-LAYOUT.itemsize // 8)
WORDS = 2 + STATE_WORDS        # the stop word, the sequence, the state
TAKE_TRIES = 3                 # a torn copy is retried at most this often per block, then left to the next block


class StateSlot:
    """One shared slot holding the newest :class:`PlayState`, over ``buffer`` (``8 * WORDS`` bytes).

    >>> slot = StateSlot()
    >>> slot.send(PlayState(Pattern(), tempo=100.0))
    1
    >>> slot.take().tempo, slot.serial, slot.take()
    (100.0, 1, None)
    """

    def __init__(self, buffer: object | None = None) -> None:
        storage = buffer if buffer is not None else bytearray(8 * WORDS)
        words = np.frombuffer(storage, dtype=np.int64, count=WORDS)
        self._stop = words[:1]
        self._lock = SeqLock(words[1:])
        self._outgoing = np.zeros(STATE_WORDS, dtype=np.int64)
        self._incoming = np.zeros(STATE_WORDS, dtype=np.int64)
        self._out_record = self._outgoing.view(LAYOUT)[0]
        self._in_record = self._incoming.view(LAYOUT)[0]
        self._seen = 0
        self.serial = 0            # reader: the serial of the last state taken
        self._sent = 0

    # -- the control side (one writer) --

    def send(self, state: PlayState) -> int:
        """Make ``state`` the newest; returns its serial (1, 2, ...). Never waits."""
        self._sent += 1
        record = self._out_record
        record["serial"] = self._sent
        record["tempo"] = state.tempo
        record["swing"] = state.swing
        record["volume"] = state.volume
        record["velocities"] = state.pattern.velocities
        record["mutes"] = state.mutes
        record["playing"] = state.playing
        record["has_queued"] = state.queued is not None
        record["queued"] = 0 if state.queued is None else state.queued.velocities
        record["queue_token"] = state.queue_token
        record["hit_count"] = len(state.hits)
        for index, hit in enumerate(state.hits):
            record["hits"][index] = (hit.serial, hit.channel, hit.velocity, hit.swallow)
        self._lock.write(self._outgoing)
        return self._sent

    def request_stop(self) -> None:
        """Ask the engine to stop (fade out, close the device, report)."""
        self._stop[0] = 1

    # -- the audio side (one reader) --

    def take(self) -> PlayState | str | None:
        """``STOP``, the newest state if it changed since the last call, or None; bounded work, never waits."""
        if self._stop[0]:
            return STOP
        if int(self._lock.words[0]) == self._seen:
            return None
        sequence = self._lock.read_into(self._incoming, TAKE_TRIES)
        if sequence is None:
            return None
        self._seen = sequence
        record = self._in_record
        self.serial = int(record["serial"])
        queued = Pattern(record["queued"].copy()) if record["has_queued"] else None
        hits = tuple(Hit(*map(int, row)) for row in record["hits"][:int(record["hit_count"])])
        return PlayState(Pattern(record["velocities"].copy()), float(record["tempo"]), float(record["swing"]),
                         tuple(bool(m) for m in record["mutes"]), float(record["volume"]), bool(record["playing"]),
                         queued=queued, queue_token=int(record["queue_token"]), hits=hits)