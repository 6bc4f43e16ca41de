"""The host's side of a pull's data: the bytes split into the announced files, each hashed as it arrives, then
kept in memory (:class:`MemorySink`) or written into a folder (:class:`FolderWriter`).

The folder writer is how a take of gigabytes arrives with a frame's worth of
memory: each file goes to a locked temporary file beside its target (the
store's :func:`~breakage_pi.store.atomic_writer`), and only when every file has
arrived whole and matched its SHA-256 are they renamed into place, each
fsynced. Anything else (a lie about a size, a bad digest, a link cut, a full
disk) removes the temporary files and any folder made for them: nothing
half-written is left, nothing is written outside the folder asked for, never
through a link, and a local file that differs is replaced only when forced.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

from ..core.errors import StoreError, printable
from ..store import atomic_writer
from .frames import ProtocolError
from .hashes import Identity, file_sha256
from .messages import FOLDER_KINDS, FileEntry, check_item, check_item_files


class Mismatch(ProtocolError):
    """A file's bytes arrived whole but do not match the SHA-256 announced (noise the CRCs missed, or a lie)."""


class _Abandoned(Exception):
    """Thrown into the temporary files' writers to make them remove themselves (not an OSError: none of them
    turns it into a message of its own)."""


class Sink(Protocol):
    """Where a pull's files go, one after the other: ``begin`` a file, ``write`` its bytes, ``end`` it once they
    matched; ``commit`` when all have."""

    def begin(self, entry: FileEntry) -> None: ...

    def write(self, data: memoryview) -> None: ...

    def end(self, entry: FileEntry) -> None: ...

    def commit(self) -> None: ...


class Incoming:
    """A pull's data as it arrives, in frames of any size and across files' ends, handed to ``sink`` file by file,
    each checked against its size and SHA-256: :class:`Mismatch` for a bad digest, a ``bad-response``
    :class:`ProtocolError` for more bytes than announced."""

    def __init__(self, files: tuple[FileEntry, ...], sink: Sink) -> None:
        self.files, self.sink = files, sink
        self.total = sum(entry.size for entry in files)
        self.received = 0
        self._index = -1
        self._left = 0
        self._hasher = hashlib.sha256()
        self._next_file()

    @property
    def complete(self) -> bool:
        return self.received == self.total

    def feed(self, payload: bytes) -> None:
        if self.received + len(payload) > self.total:
            raise ProtocolError("bad-response", f"more than the {self.total} bytes announced")
        view = memoryview(payload)
        while view:
            piece = view[:self._left]
            self._hasher.update(piece)
            self.sink.write(piece)
            self._left -= len(piece)
            self.received += len(piece)
            view = view[len(piece):]
            if not self._left:
                self._end_file()
                self._next_file()

    def _next_file(self) -> None:
        """Begin the next file; an empty one ends (and is checked) at once."""
        while self._index + 1 < len(self.files):
            self._index += 1
            entry = self.files[self._index]
            self.sink.begin(entry)
            self._hasher, self._left = hashlib.sha256(), entry.size
            if entry.size:
                return
            self._end_file()

    def _end_file(self) -> None:
        entry = self.files[self._index]
        if self._hasher.hexdigest() != entry.sha256:
            raise Mismatch("checksum", f"{entry.path}: SHA-256 mismatch after transfer")
        self.sink.end(entry)


class MemorySink:
    """A pulled item's files kept in memory, as bytes (``contents``, in the files' order)."""

    def __init__(self) -> None:
        self.contents: list[bytes] = []
        self._current = bytearray()

    def begin(self, entry: FileEntry) -> None:
        self._current = bytearray()

    def write(self, data: memoryview) -> None:
        self._current += data

    def end(self, entry: FileEntry) -> None:
        self.contents.append(bytes(self._current))

    def commit(self) -> None:
        pass


class FolderWriter:
    """Writes the files of the item ``kind``/``name`` into ``directory`` (a kit or a take into ``directory/NAME``);
    use it as a context manager and :meth:`commit` once every file has matched.

    Everything that can be refused before a byte arrives is refused when it is
    made: a name the protocol forbids, a link or a non-file in the way, a local
    file of another size (unless ``force``), too little free space. :meth:`commit`
    refuses a local file of the same size whose bytes differ (unless ``force``).
    ``where`` is the folder (a kit, a take) or the file (a bank, a net) written.
    """

    def __init__(self, kind: str, name: str, files: tuple[FileEntry, ...], directory: Path,
                 force: bool = False) -> None:
        check_item(kind, name)
        check_item_files(kind, name, [entry.to_data() for entry in files])
        self.files, self.force = files, force
        self.folder = directory / name if kind in FOLDER_KINDS else directory
        self.targets = {entry.path: self.folder / entry.path for entry in files}
        self.where = self.folder if kind in FOLDER_KINDS else self.targets[files[0].path]
        self._check_targets(sizes=True)
        _check_room(self.folder, sum(entry.size for entry in files))
        self._stack = contextlib.ExitStack()
        self._made: list[Path] = []
        self._handle: BinaryIO | None = None
        self._committed = False

    def __enter__(self) -> FolderWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._committed:
            return
        try:
            with contextlib.suppress(_Abandoned):
                self._stack.__exit__(_Abandoned, _Abandoned(), None)     # every temporary file is removed
        finally:
            for folder in reversed(self._made):
                with contextlib.suppress(OSError):
                    folder.rmdir()

    def begin(self, entry: FileEntry) -> None:
        if not self._made and not self.folder.is_dir():
            self._make_folder()
        self._handle = self._stack.enter_context(atomic_writer(self.targets[entry.path]))

    def write(self, data: memoryview) -> None:
        if self._handle is None:
            raise ValueError("write before begin")
        self._handle.write(data)

    def end(self, entry: FileEntry) -> None:
        self._handle = None

    def commit(self) -> None:
        """Every file has arrived and matched: rename them into place (each fsynced, then its folder)."""
        self._check_targets(sizes=False)
        for entry in self.files:
            path = self.targets[entry.path]
            if not self.force and path.exists() and file_sha256(path, Identity.of(path.lstat())) != entry.sha256:
                raise StoreError(f"{printable(path)}: exists and differs from the device's; pass --force to replace it")
        self._stack.close()
        self._committed = True

    def _check_targets(self, sizes: bool) -> None:
        for path in (self.folder, *self.targets.values()):
            if path.is_symlink():
                raise StoreError(f"{printable(path)}: is a link; refusing to write through it")
        for entry in self.files:
            path = self.targets[entry.path]
            if not path.exists():
                continue
            if not path.is_file():
                raise StoreError(f"{printable(path)}: exists and is not a regular file; refusing to replace it")
            if sizes and not self.force and path.stat().st_size != entry.size:
                raise StoreError(f"{printable(path)}: exists and differs from the device's; pass --force to replace it")

    def _make_folder(self) -> None:
        """Make the folder and its missing parents, remembered so that a failure removes them again."""
        missing = [path for path in (self.folder, *self.folder.parents) if not path.exists()]
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            except OSError as error:
                raise StoreError(f"{printable(folder)}: cannot create: {error.strerror or error}") from None
            self._made.append(folder)


def _check_room(folder: Path, needed: int) -> None:
    """Refuse, before a byte arrives, what the file system under ``folder`` cannot hold."""
    existing = next((path for path in (folder, *folder.parents) if path.exists()), None)
    if existing is None:
        return
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        return
    if free < needed:
        raise StoreError(f"{printable(folder)}: {free / 1e6:.0f} MB free, {needed / 1e6:.0f} MB needed; "
                         "nothing was written")

