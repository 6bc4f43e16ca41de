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
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..core.bank import bank_from_data
from ..core.errors import FormatError
from ..store import atomic_write_bytes, fsync_directory
from .frames import ProtocolError
from .messages import (BANK_NAME, FOLDER_KINDS, MAX_FILE_BYTES, MAX_ITEM_BYTES, TAKES_ARE_NOT_PUSHED, FileEntry,
                       check_item, check_item_files,
                       check_name, item_file_name)

FOLDERS = {"net": "nets", "kit": "kits", "take": "takes"}
_RENAME_EXCHANGE = 2


@dataclass(frozen=True)
class Item:
    """One item with its files' contents, in file-name order."""

    kind: str
    name: str
    files: tuple[FileEntry, ...]
    contents: tuple[bytes, ...]
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


class DataDir:
    """The items under ``root``. Raises :class:`ProtocolError` (``not-found``, ``rejected``, ``io``)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ProtocolError("io", f"{self.root}: data dir does not exist")
        self._recover_kits()

    def items(self) -> list[Item]:
        """Every item, bank first, then nets and kits by name; unreadable ones are skipped."""
        found = []
        for kind, name in self._names():
            try:
                found.append(self.read(kind, name))
            except ProtocolError:
                continue
        return found

    def read(self, kind: str, name: str) -> Item:
        kind, name = check_item(kind, name)
        if kind in FOLDER_KINDS:
            folder = self._folder(kind) / name
            if folder.is_symlink() or not folder.is_dir():
                raise ProtocolError("not-found", f"no {kind} named {name!r}")
            paths = sorted(p.name for p in folder.iterdir()
                           if (kind == "take" or p.suffix.lower() == ".wav") and not p.name.startswith(".")
                           and p.is_file() and not p.is_symlink())
            if sum((folder / path).stat().st_size for path in paths) > MAX_ITEM_BYTES:
                raise ProtocolError("too-big", f"{kind} {name!r} exceeds the limit of {MAX_ITEM_BYTES} bytes")
            contents = tuple(_read_file(folder / path) for path in paths)
            modified = folder.stat().st_mtime
        else:
            path = self._file_path(kind, name)
            paths = [path.name]
            contents = (_read_file(path),)
            modified = path.lstat().st_mtime
        files = tuple(file_entry(path, content) for path, content in zip(paths, contents))
        try:
            check_item_files(kind, name, [entry.to_data() for entry in files])
        except ProtocolError as error:
            raise ProtocolError("rejected", f"{kind} {name!r} cannot be sent: {error.message}") from None
        return Item(kind, name, files, contents, modified)

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


def _read_file(path: Path) -> bytes:
    """The bytes of a regular file, never through a link."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise ProtocolError("not-found", f"no such item file {path.name!r}") from None
    except OSError as error:
        raise ProtocolError("io", f"cannot read {path.name!r}: {error.strerror or error}") from None
    with os.fdopen(fd, "rb") as handle:
        if os.fstat(handle.fileno()).st_size > MAX_FILE_BYTES:
            raise ProtocolError("too-big", f"{path.name} exceeds the limit of {MAX_FILE_BYTES} bytes")
        return handle.read()


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

