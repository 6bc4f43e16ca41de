"""A sequence lock over shared memory: one writer, any readers, and no one ever waits.

Word 0 of an int64 buffer counts writes: the writer makes it odd, writes,
makes it even again; a reader copies the words and keeps the copy only if
the count was even and unchanged around it. Both sides put a full memory
barrier between the count and the data, so the pair is correct on a weakly
ordered CPU (the Pi's ARM) and not only on x86. A reader retries a bounded
number of times and then says it failed, so a writer that died mid-write
(its count left odd) can never make a reader spin.

CPython has no fence of its own; releasing then re-acquiring a private
``threading.Lock`` is one: the release is a store-release and the acquire a
load-acquire (``sem_post``/``sem_trywait`` on glibc, atomic exchanges in
CPython 3.13+), and a release followed by an acquire is not reordered, so no
load or store crosses the pair. It costs about 0.1 us here.
"""

from __future__ import annotations

import threading

import numpy as np

_fences = threading.local()


def full_fence() -> None:
    """A full memory barrier for this thread (see the module docstring)."""
    lock = getattr(_fences, "lock", None)
    if lock is None:
        lock = _fences.lock = threading.Lock()
        lock.acquire()
    lock.release()
    lock.acquire(False)


class SeqLock:
    """Word 0 of ``words`` (int64) is the count; words 1.. are the protected data.

    >>> lock = SeqLock(np.zeros(3, dtype=np.int64))
    >>> lock.write(np.array([7, 8]))
    >>> copy = np.zeros(2, dtype=np.int64)
    >>> lock.read_into(copy), copy.tolist(), lock.writes
    (2, [7, 8], 1)
    """

    def __init__(self, words: np.ndarray) -> None:
        self.words = words
        self.data = words[1:]

    @property
    def writes(self) -> int:
        """Completed writes so far (the count halved)."""
        return int(self.words[0]) // 2

    def begin(self) -> None:
        """Writer: the data is about to change (readers now retry)."""
        self.words[0] += 1
        full_fence()

    def end(self) -> None:
        """Writer: the data is consistent again."""
        full_fence()
        self.words[0] += 1

    def write(self, data: np.ndarray) -> None:
        """Writer: replace the data's first ``len(data)`` words."""
        self.begin()
        self.data[:len(data)] = data
        self.end()

    def read_into(self, out: np.ndarray, tries: int = 4) -> int | None:
        """Copy the data's first ``len(out)`` words into ``out``; the count they were read at,
        or None if no try saw a consistent copy."""
        words, data, size = self.words, self.data, len(out)
        for _ in range(tries):
            before = int(words[0])
            if before & 1:
                continue
            full_fence()
            out[:] = data[:size]
            full_fence()
            if int(words[0]) == before:
                return before
        return None
