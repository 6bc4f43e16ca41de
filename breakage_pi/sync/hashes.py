"""The SHA-256 of the data dir's files, each read once and kept while the file stays the same; the big ones
computed by a thread of their own, so that no answer to the host waits for them.

A listing and a pull's answer state every file's SHA-256, and reading a 500 MB
take on a Pi takes many seconds (an SD card reads 20-40 MB/s): longer than a
host waits for an answer. So:

- a digest is kept with its file's **identity**: inode, size, modification and
  change times (ns). Every write to a file changes its change time, which no
  program can set back, and a file replaced atomically is a new inode: a kept
  digest whose identity still matches is the file's digest. What the clock's
  granularity could still hide (a file rewritten in place, to the same size,
  within a tick of being hashed: only a take's WAV is written in place, and
  no take being recorded is hashed) is caught by the pull itself, which hashes
  what it sends and drops a digest that no longer matches (:meth:`FileHashes.forget`);
- a small file (at most :data:`INLINE_BYTES`) is hashed when asked, and so is
  every file of a bank, a net or a kit (64 MiB at most, as it always was); a
  take's bigger files are queued for the hasher thread. What a pull waits for
  goes first, and at any time; the rest waits while a take records
  (``quiet()``): the SD card's bandwidth is the take's, and background work
  under way makes way (to start again later) for either;
- the big files' digests are also kept on disk (:data:`CACHE_NAME` in the data
  dir, written atomically, entries of files gone or changed dropped), so a
  restart does not read every take again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..core.errors import BreakageError
from ..store import read_json, write_json

INLINE_BYTES = 4 * 1024 * 1024
"""Files up to this size are hashed when asked (~0.2 s on a Pi Zero 2 W's SD card); bigger ones in the background."""
READ_BYTES = 1024 * 1024
CACHE_NAME = ".sha256.json"
CACHE_FORMAT = "breakage-pi/sha256"
IDLE_CHECK_S = 2.0
"""While background work waits for a take to end, the hasher looks again this often."""
YIELD_CHECK_READS = 16
"""Background hashing looks this often (in reads of :data:`READ_BYTES`) whether it must make way."""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    """What changes whenever a file's bytes may have: inode, size, modification and change times (ns)."""

    inode: int
    size: int
    modified_ns: int
    changed_ns: int

    @classmethod
    def of(cls, stat: os.stat_result) -> Identity:
        return cls(stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


class FileChanged(BreakageError, OSError):
    """The file changed (or vanished) while it was read: its digest is not known."""


class _MakeWay(Exception):
    """Background hashing stops for a file a pull waits for, a take that started, or the server stopping."""


def file_sha256(path: Path, identity: Identity, progress: Callable[[int], None] = lambda done: None) -> str:
    """The SHA-256 of the file at ``path``, read in 1 MiB pieces (the GIL is let go for each read and update),
    never through a link; :class:`FileChanged` if it is not (or no longer) the file ``identity`` describes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise FileChanged(f"{path.name}: gone") from None
    with os.fdopen(fd, "rb", buffering=0) as handle:
        if Identity.of(os.fstat(fd)) != identity:
            raise FileChanged(f"{path.name}: changed")
        hasher, buffer, done = hashlib.sha256(), bytearray(READ_BYTES), 0
        view = memoryview(buffer)
        while count := handle.readinto(view):
            hasher.update(view[:count])
            done += count
            progress(done)
        if done != identity.size or Identity.of(os.stat(path, follow_symlinks=False)) != identity:
            raise FileChanged(f"{path.name}: changed while it was read")
    return hasher.hexdigest()


class FileHashes:
    """The digests of the files under ``root``, by path relative to it. Thread-safe.

    ``quiet()`` says whether background work may read the disk now (no take
    recording). :meth:`start` runs the hasher thread; :meth:`work` does one
    queued job in the calling thread (tests step it so).
    """

    def __init__(self, root: Path, quiet: Callable[[], bool] = lambda: True) -> None:
        self.root = Path(root)
        self.quiet = quiet
        self.computed = 0
        """Files hashed so far (inline or in the background)."""
        self._lock = threading.Lock()
        self._known: dict[str, tuple[Identity, str]] = self._load()
        self._queue: dict[str, tuple[Identity, bool]] = {}      # in order of asking; True: a pull waits
        self._current: tuple[str, Identity | None, bool] = ("", None, False)     # being hashed; urgent
        self._current_done = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def known(self, relative: str, identity: Identity) -> str | None:
        with self._lock:
            kept = self._known.get(relative)
        return kept[1] if kept is not None and kept[0] == identity else None

    def now(self, relative: str, identity: Identity) -> str:
        """Hash a file in the calling thread (a small one); raises :class:`FileChanged`."""
        digest = file_sha256(self.root / relative, identity)
        self._keep(relative, identity, digest)
        return digest

    def want(self, relative: str, identity: Identity, urgent: bool) -> None:
        """Queue a file for the hasher; ``urgent``: a pull waits for it (it goes first, and even while a take
        records)."""
        with self._lock:
            if self._current[:2] == (relative, identity):         # at work on it already
                self._current = (relative, identity, urgent or self._current[2])
                return
            queued = self._queue.get(relative)
            self._queue[relative] = (identity, urgent or (queued is not None and queued[0] == identity and queued[1]))
        self._wake.set()

    def done(self, relative: str) -> int:
        """Bytes of ``relative`` hashed so far by the hasher (0 unless it is at work on that file)."""
        with self._lock:
            return self._current_done if self._current[0] == relative else 0

    def forget(self, relative: str) -> None:
        with self._lock:
            self._known.pop(relative, None)

    def start(self) -> FileHashes:
        thread = threading.Thread(target=self._run, name="sync-sha256", daemon=True)
        thread.start()
        self._thread = thread       # only once started: stop() from another thread may come at any moment
        return self

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def work(self) -> bool:
        """Hash the next queued file that may be hashed now; whether there was one. Background work makes way
        (and is queued again) for a file a pull waits for, a take that starts recording, or :meth:`stop`."""
        job = self._next()
        if job is None:
            return False
        relative, identity = job
        try:
            digest = file_sha256(self.root / relative, identity, self._progress)
        except _MakeWay:
            with self._lock:
                self._queue.setdefault(relative, (identity, False))
        except OSError as error:    # changed or gone: whoever wants it again asks again
            log.info("sync: not hashing %s: %s", relative, error)
        else:
            self._keep(relative, identity, digest)
        finally:
            with self._lock:
                self._current, self._current_done = ("", None, False), 0
        return True

    def _next(self) -> tuple[str, Identity] | None:
        with self._lock:
            queued = list(self._queue.items())
        jobs = [job for job in queued if job[1][1]] or (queued if queued and self.quiet() else [])
        if not jobs:
            return None
        relative, (identity, urgent) = jobs[0]
        with self._lock:
            self._queue.pop(relative, None)
            self._current, self._current_done = (relative, identity, urgent), 0
        return relative, identity

    def _progress(self, done: int) -> None:
        with self._lock:
            self._current_done = done
            urgent = self._current[2]
            others_urgent = any(wanted for _, wanted in self._queue.values())
        if self._stop.is_set() or (not urgent and (others_urgent or (
                done // READ_BYTES % YIELD_CHECK_READS == 0 and not self.quiet()))):
            raise _MakeWay

    def _run(self) -> None:
        try:    # on Linux a thread has its own nice value: the hasher yields the CPU to everything else
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except (OSError, AttributeError):
            pass
        while not self._stop.is_set():
            if not self.work():
                with self._lock:
                    waiting = bool(self._queue)
                self._wake.wait(IDLE_CHECK_S if waiting else None)
                self._wake.clear()

    def _keep(self, relative: str, identity: Identity, digest: str) -> None:
        with self._lock:
            self._known[relative] = (identity, digest)
            self.computed += 1
        if identity.size > INLINE_BYTES:
            self._save()

    def _load(self) -> dict[str, tuple[Identity, str]]:
        """The kept digests of big files (a missing or unreadable cache is only a cache: start without it)."""
        try:
            data = read_json(self.root / CACHE_NAME)
        except (BreakageError, OSError):
            return {}
        if not isinstance(data, dict) or (data.get("format"), data.get("version")) != (CACHE_FORMAT, 1) \
                or not isinstance(data.get("files"), dict):
            return {}
        return {relative: (Identity(*entry[:4]), entry[4]) for relative, entry in data["files"].items()
                if _valid_entry(relative, entry)}

    def _save(self) -> None:
        """Keep the big files' digests on disk, for the files still there as they were."""
        with self._lock:
            kept = dict(self._known)
        files = {}
        for relative, (identity, digest) in sorted(kept.items()):
            if identity.size <= INLINE_BYTES:
                continue
            try:
                still = Identity.of(os.stat(self.root / relative, follow_symlinks=False)) == identity
            except OSError:
                still = False
            if still:
                files[relative] = [identity.inode, identity.size, identity.modified_ns, identity.changed_ns, digest]
        target = self.root / CACHE_NAME
        try:
            if target.is_symlink():
                raise OSError("it is a link; not writing through it")
            write_json(target, {"format": CACHE_FORMAT, "version": 1, "files": files})
        except (BreakageError, OSError) as error:
            log.warning("sync: cannot keep the files' SHA-256 in %s: %s", CACHE_NAME, error)


def _valid_entry(relative: Any, entry: Any) -> bool:
    return (isinstance(relative, str) and not relative.startswith("/") and ".." not in relative.split("/")
            and isinstance(entry, list) and len(entry) == 5
            and all(isinstance(n, int) and not isinstance(n, bool) for n in entry[:4])
            and isinstance(entry[4], str) and len(entry[4]) == 64)
