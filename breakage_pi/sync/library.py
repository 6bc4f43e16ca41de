"""The device's data dir as the sync protocol sees it: items (bank, nets, kits, takes) to list, read, replace,
delete.

Layout (fixed by the instrument): ``bank.json`` (the bank that plays),
``nets/<name>.onnx``, ``kits/<name>/*.wav``, ``takes/<name>/*`` (recorded on
the instrument: listed, pulled and deleted, never pushed); ``state.json`` and
hidden files are not items. Names are checked by :func:`messages.check_name`, so no name
can leave the data dir; symbolic links are neither listed, read nor written
through. What is read is checked with the rules the host applies to every
answer (:func:`messages.check_item_files`): a kit the protocol cannot carry
(more than 16 files, a file name with a space) is refused by name here rather
than sent and refused there. Every change is atomic: files through :func:`store.atomic_write_bytes`,
a kit as a whole folder swapped in with one rename.

Nothing is held in memory whole: an item is its files' paths, sizes and
SHA-256 digests (:mod:`.hashes`, which computes big files' digests in the
background; an item waiting for them is pending), and a pull reads each file
as it is sent (:meth:`DataDir.stream`). A take still being recorded (its folder
held by the recorder, :func:`store.folder_held`) is neither sent nor deleted.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..core.bank import bank_from_data
from ..core.errors import FormatError
from ..store import atomic_write_bytes, folder_held, fsync_directory
from .frames import ProtocolError
from .hashes import INLINE_BYTES, FileChanged, FileHashes, Identity
from .messages import (BANK_NAME, FOLDER_KINDS, TAKES_ARE_NOT_PUSHED, Busy, FileEntry, check_item, check_item_files,
                       check_name, item_file_name)

FOLDERS = {"net": "nets", "kit": "kits", "take": "takes"}
_RENAME_EXCHANGE = 2
_NOT_YET = "0" * 64
"""A digest not computed yet, where only an item's names, count and sizes are checked."""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    """An item as it lies on disk: its files (in file-name order) with their identities; no digest yet."""

    kind: str
    name: str
    paths: tuple[Path, ...]
    identities: tuple[Identity, ...]
    modified: float
    recording: bool

    @property
    def size(self) -> int:
        return sum(identity.size for identity in self.identities)

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "size": self.size, "modified": round(self.modified, 3),
                "files": len(self.paths)}


@dataclass(frozen=True)
class Item:
    """One item ready to send: its files (name, size, SHA-256) and where they lie, in file-name order."""

    kind: str
    name: str
    files: tuple[FileEntry, ...]
    paths: tuple[Path, ...]
    identities: tuple[Identity, ...]
    modified: float

    @property
    def size(self) -> int:
        return sum(entry.size for entry in self.files)

    @property
    def sha256(self) -> str:
        """Of the one file, or for a kit or a take of its manifest (each file's name, size and SHA-256)."""
        if self.kind not in FOLDER_KINDS:
            return self.files[0].sha256
        manifest = "".join(f"{f.path}\0{f.size}\0{f.sha256}\n" for f in self.files)
        return hashlib.sha256(manifest.encode()).hexdigest()

    def summary(self) -> dict[str, object]:
        return {"kind": self.kind, "name": self.name, "size": self.size, "modified": round(self.modified, 3),
                "sha256": self.sha256, "files": len(self.files)}


def file_entry(path: str, content: bytes) -> FileEntry:
    return FileEntry(path, len(content), hashlib.sha256(content).hexdigest())


def _item(found: Found, digests: list[str | None]) -> Item:
    files = tuple(FileEntry(path.name, identity.size, str(digest))
                  for path, identity, digest in zip(found.paths, found.identities, digests))
    return Item(found.kind, found.name, files, found.paths, found.identities, found.modified)


class DataDir:
    """The items under ``root``. Raises :class:`ProtocolError` (``not-found``, ``rejected``, ``io``, ``recording``,
    ``busy``, ``changed``). ``hashes``: where the files' digests come from (by default its own, not started: call
    ``hashes.start()`` for the background hasher, as the server does)."""

    def __init__(self, root: str | os.PathLike[str], hashes: FileHashes | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ProtocolError("io", f"{self.root}: data dir does not exist")
        self.hashes = hashes or FileHashes(self.root, quiet=lambda: not self.recording())
        self._recover_kits()

    def items(self) -> list[Item]:
        """Every item ready to send (its digests known), bank first, then nets, kits and takes by name."""
        return self.listing()[0]

    def listing(self) -> tuple[list[Item], list[dict[str, Any]]]:
        """The items ready to send, and the summaries of those pending (a take recording, digests being computed:
        queued for the hasher); unreadable items are left out. Never waits for a take's big files."""
        ready, pending = [], []
        for kind, name in self._names():
            try:
                found = self.find(kind, name)
                if found.recording:
                    pending.append({**found.summary(), "state": "recording", "done": 0})
                    continue
                digests = self._digests(found, urgent=False)
            except ProtocolError:
                continue
            if None in digests:
                pending.append({**found.summary(), "state": "checking", "done": self._done(found, digests)})
            else:
                ready.append(_item(found, digests))
        return ready, pending

    def recording(self) -> bool:
        """Whether a take is being recorded (by this process or another one)."""
        takes = self.root / FOLDERS["take"]
        try:
            return any(folder_held(entry) for entry in takes.iterdir() if entry.is_dir())
        except OSError:
            return False

    def find(self, kind: str, name: str) -> Found:
        """The item's files as they lie now, checked as an answer would be (names, count, sizes)."""
        kind, name = check_item(kind, name)
        try:
            found = self._found(kind, name)
        except OSError as error:
            raise ProtocolError("io", f"cannot read {kind} {name!r}: {error.strerror or error}") from None
        if found.recording:                                  # its files come and grow: not checked
            return found
        try:
            check_item_files(kind, name, [{"path": path.name, "size": identity.size, "sha256": _NOT_YET}
                                          for path, identity in zip(found.paths, found.identities)])
        except ProtocolError as error:
            raise ProtocolError("rejected", f"{kind} {name!r} cannot be sent: {error.message}") from None
        return found

    def _found(self, kind: str, name: str) -> Found:
        if kind in FOLDER_KINDS:
            folder = self._folder(kind) / name
            if folder.is_symlink() or not folder.is_dir():
                raise ProtocolError("not-found", f"no {kind} named {name!r}")
            paths = tuple(folder / entry for entry in sorted(
                p.name for p in folder.iterdir() if (kind == "take" or p.suffix.lower() == ".wav")
                and not p.name.startswith(".") and p.is_file() and not p.is_symlink()))
            modified = folder.stat().st_mtime
        else:
            path = self._file_path(kind, name)
            if path.is_symlink() or not path.is_file():
                raise ProtocolError("not-found", f"no such item file {path.name!r}")
            paths = (path,)
            modified = path.lstat().st_mtime
        identities = tuple(Identity.of(path.lstat()) for path in paths)
        recording = kind == "take" and folder_held(self._folder(kind) / name)
        return Found(kind, name, paths, identities, modified, recording)

    def read(self, kind: str, name: str) -> Item:
        """An item to send now: refused while a take records (``recording``), :class:`Busy` while the digests of
        its big files are being computed (they go first in the hasher's queue)."""
        found = self.find(kind, name)
        if found.recording:
            raise ProtocolError("recording", f"take {name} is still recording: stop it on the instrument "
                                             "(SHIFT + the take pad), then pull it")
        digests = self._digests(found, urgent=True)
        if None in digests:
            done = self._done(found, digests)
            raise Busy(f"{kind} {name}: the device is still computing its files' SHA-256 ({done / 1e6:.0f} of "
                       f"{found.size / 1e6:.0f} MB); ask again in a moment", done, found.size)
        return _item(found, digests)

    def stream(self, item: Item, chunk_bytes: int) -> Iterator[bytes]:
        """The item's bytes, file after file, in pieces of at most ``chunk_bytes`` read as they are asked for
        (never a whole file in memory), each file hashed again as it goes: a file that changed since ``item``
        was read ends the stream with ``changed`` (and its kept digest is dropped)."""
        for entry, path, identity in zip(item.files, item.paths, item.identities):
            relative = self._relative(path)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError as error:
                raise ProtocolError("changed", f"{entry.path}: cannot read it again ({error.strerror or error}); "
                                               "ask again") from None
            try:
                if Identity.of(os.fstat(fd)) != identity:
                    raise ProtocolError("changed", f"{entry.path} changed since it was listed; ask again")
                hasher, sent = hashlib.sha256(), 0
                while sent < entry.size:
                    piece = os.read(fd, min(chunk_bytes, entry.size - sent))
                    if not piece:
                        raise ProtocolError("changed", f"{entry.path} ended after {sent} of {entry.size} bytes "
                                                       "(it changed while it was sent); ask again")
                    hasher.update(piece)
                    sent += len(piece)
                    yield piece
                if hasher.hexdigest() != entry.sha256:
                    self.hashes.forget(relative)
                    raise ProtocolError("changed", f"{entry.path} changed while it was sent (its SHA-256 differs "
                                                   "from the one announced); ask again")
            finally:
                os.close(fd)

    def prime(self, kind: str, name: str) -> None:
        """Queue an item's big files for the hasher (a take just ended), so a pull need not wait for them."""
        try:
            found = self.find(kind, name)
            if not found.recording:
                self._digests(found, urgent=False)
        except ProtocolError as error:
            log.info("sync: not hashing %s %s ahead: %s", kind, name, error.message)
        except OSError as error:
            log.info("sync: not hashing %s %s ahead: %s", kind, name, error)

    def _digests(self, found: Found, urgent: bool) -> list[str | None]:
        """Each file's digest: kept, computed now (a small file, or any file of a bank, a net or a kit: 64 MiB
        at most, hashed when asked as they always were), or None (a take's big file: queued for the hasher)."""
        digests: list[str | None] = []
        for path, identity in zip(found.paths, found.identities):
            relative = self._relative(path)
            digest = self.hashes.known(relative, identity)
            if digest is None and (identity.size <= INLINE_BYTES or found.kind != "take"):
                try:
                    digest = self.hashes.now(relative, identity)
                except FileChanged as error:
                    raise ProtocolError("changed", f"{found.kind} {found.name!r}: {error}") from None
                except OSError as error:
                    raise ProtocolError("io", f"cannot read {path.name!r}: {error.strerror or error}") from None
            elif digest is None:
                self.hashes.want(relative, identity, urgent)
            digests.append(digest)
        return digests

    def _done(self, found: Found, digests: list[str | None]) -> int:
        """Bytes of the item whose digest is known or being computed."""
        return sum(identity.size if digest is not None else self.hashes.done(self._relative(path))
                   for path, identity, digest in zip(found.paths, found.identities, digests))

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def replace(self, kind: str, name: str, files: dict[str, bytes]) -> None:
        """Validate the contents, then replace the item atomically (a new item appears whole)."""
        kind, name = check_item(kind, name)
        if kind == "take":
            raise ProtocolError("rejected", TAKES_ARE_NOT_PUSHED)
        for path, content in files.items():
            check_name(path, "path")
            _check_content(kind, path, content)
        try:
            if kind == "kit":
                self._replace_kit(name, files)
            else:
                ((path, content),) = files.items()
                if kind != "bank":
                    self._folder(kind, create=True)
                atomic_write_bytes(self._file_path(kind, name), content)
        except OSError as error:
            raise ProtocolError("io", f"cannot write {kind} {name!r}: {error}") from None

    def delete(self, kind: str, name: str) -> None:
        kind, name = check_item(kind, name)
        try:
            self._delete(kind, name)
        except OSError as error:
            raise ProtocolError("io", f"cannot delete {kind} {name!r}: {error}") from None

    def _delete(self, kind: str, name: str) -> None:
        if kind == "bank":
            raise ProtocolError("rejected", "the device always holds a bank: push another one instead of deleting it")
        if kind in FOLDER_KINDS:
            folder = self._folder(kind) / name
            if folder.is_symlink() or not folder.is_dir():
                raise ProtocolError("not-found", f"no {kind} named {name!r}")
            if kind == "take" and folder_held(folder):
                raise ProtocolError("recording", f"take {name} is still recording: stop it on the instrument "
                                                 "(SHIFT + the take pad), then delete it")
            doomed = folder.with_name(f".{name}.old-{uuid.uuid4().hex[:8]}")
            os.rename(folder, doomed)
            fsync_directory(folder.parent)
            shutil.rmtree(doomed)
            return
        path = self._file_path(kind, name)
        if path.is_symlink() or not path.is_file():
            raise ProtocolError("not-found", f"no {kind} named {name!r}")
        path.unlink()
        fsync_directory(path.parent)

    def _names(self) -> list[tuple[str, str]]:
        names = []
        bank = self.root / "bank.json"
        if bank.is_file() and not bank.is_symlink():
            names.append(("bank", BANK_NAME))
        for kind, folder_name in FOLDERS.items():
            folder = self.root / folder_name
            if folder.is_symlink() or not folder.is_dir():
                continue
            for entry in sorted(folder.iterdir()):
                if entry.is_symlink() or entry.name.startswith("."):
                    continue
                if kind == "net" and entry.suffix == ".onnx" and entry.is_file():
                    names.append((kind, entry.stem))
                elif kind in FOLDER_KINDS and entry.is_dir():
                    names.append((kind, entry.name))
        return [(kind, name) for kind, name in names if _is_safe(name)]

    def _file_path(self, kind: str, name: str) -> Path:
        if kind == "bank":
            return self.root / item_file_name(kind, name)
        return self._folder(kind) / item_file_name(kind, name)

    def _folder(self, kind: str, create: bool = False) -> Path:
        """``nets/``, ``kits/`` or ``takes/`` (made when ``create``); a folder that is a link (to anywhere) is refused."""
        folder = self.root / FOLDERS[kind]
        if folder.is_symlink():
            raise ProtocolError("rejected", f"{FOLDERS[kind]}/ in the data dir is a link; refusing to follow it")
        if create:
            folder.mkdir(exist_ok=True)
        return folder

    def _replace_kit(self, name: str, files: dict[str, bytes]) -> None:
        kits = self._folder("kit", create=True)
        target = kits / name
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            raise ProtocolError("rejected", f"kits/{name} is not a folder; refusing to replace it")
        staging = kits / f".{name}.new-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            for path, content in files.items():
                atomic_write_bytes(staging / path, content)
            if target.exists() and _exchange(staging, target):
                shutil.rmtree(staging)  # it now holds the old kit
            else:
                if target.exists():
                    old = kits / f".{name}.old-{uuid.uuid4().hex[:8]}"
                    os.rename(target, old)  # a crash here is undone by _recover_kits
                    os.rename(staging, target)
                    shutil.rmtree(old)
                else:
                    os.rename(staging, target)
            fsync_directory(kits)
        finally:
            if staging.exists():
                shutil.rmtree(staging)

    def _recover_kits(self) -> None:
        """After a power cut mid-swap: put back an old kit whose new one never arrived, drop half-built ones."""
        kits = self.root / "kits"
        if kits.is_symlink() or not kits.is_dir():
            return
        for entry in kits.iterdir():
            if not entry.name.startswith(".") or entry.is_symlink() or not entry.is_dir():
                continue
            name, _, tag = entry.name[1:].rpartition(".")
            if tag.startswith("old-") and name and not (kits / name).exists():
                os.rename(entry, kits / name)
            elif tag.startswith(("old-", "new-")):
                shutil.rmtree(entry)


def _is_safe(name: str) -> bool:
    try:
        check_name(name)
    except ProtocolError:
        return False
    return True


def _check_content(kind: str, path: str, content: bytes) -> None:
    """Refuse what the instrument could not load: a bank must be a valid bank, a kit file a WAV, a net not empty."""
    if kind == "bank":
        try:
            bank_from_data(json.loads(content.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ProtocolError("rejected", f"{path}: not a bank file: {error}") from None
        except FormatError as error:
            raise ProtocolError("rejected", f"{path}: {error}") from None
    elif kind == "kit" and not (content[:4] in (b"RIFF", b"RF64") and content[8:12] == b"WAVE"):
        raise ProtocolError("rejected", f"{path}: not a WAV file")
    elif kind == "net" and not content:
        raise ProtocolError("rejected", f"{path}: empty file")


def _exchange(source: Path, target: Path) -> bool:
    """Swap two folders in one step (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), _RENAME_EXCHANGE)
    return result == 0

