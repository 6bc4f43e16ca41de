"""Atomic, versioned persistence of the user's files, and the rules for reading and replacing them.

Every write goes to a temporary file in the same directory, is fsynced,
renamed over the target and the directory fsynced: pulling the power at any
instant leaves either the old file or the new one, never a broken one
(``os.replace`` alone is atomic but not durable on an SD card). A writer
holds a lock on its temporary file, so a temporary file nobody holds is
left over from a kill or a power cut and is swept (:func:`sweep_stale_temps`).
Reading is capped in size and never blocks on a device or a FIFO.

The rules every writer follows live here too, for the command line and the
daemon alike: :func:`check_output` (never over an input, a folder, a device,
or a file that is not what the command writes unless forced),
:func:`make_folder` (only once the inputs are checked), :func:`quarantine`
(move a corrupt file aside, never over another).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import stat
import time
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Sequence

from .core.bank import BANK_VERSION, Bank, bank_from_data, bank_to_data
from .core.errors import FormatError, StoreError, VersionError, printable

MAX_INPUT_BYTES = 4 * 1024 * 1024
"""A bank is ~5 kB and a config ~2 kB: a larger input is not one (and must not eat the device's memory)."""
MAX_JSON_DEPTH = 64
"""Nesting levels a JSON file may have; a bank needs 4."""

_TEMP = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp$")
_TEMP_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_"


class OverwriteRefused(StoreError):
    """An output would replace a file that must not be replaced (not what the command writes, or an input)."""


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file."""
    with atomic_writer(path) as handle:
        handle.write(data)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file whose content replaces ``path`` when the block ends without an error.

    The file is a locked temporary beside the target; it is fsynced, renamed
    over the target and the folder fsynced. On an error nothing changes at
    ``path`` and the temporary file is removed. A symlink at ``path`` is
    followed (the file it points to is updated); a new file's mode follows
    the umask, a replaced file keeps its mode.
    """
    target = _followed(Path(path))
    directory = target.parent
    _check_replaceable(target)
    sweep_stale_temps(directory, name=target.name, recursive=False)
    handle, temp = _locked_temp(target)
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            os.replace(temp, target)      # the lock goes with the closing handle, after the rename
        fsync_directory(directory)
    except BaseException as error:
        temp.unlink(missing_ok=True)
        if isinstance(error, OSError) and not isinstance(error, StoreError):
            raise StoreError(f"{printable(target)}: cannot write: {error.strerror or error}") from None
        raise


def _check_replaceable(target: Path) -> None:
    """Only a regular file (or nothing) may be replaced: never a folder, a device such as /dev/null, a FIFO."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return
    if stat.S_ISDIR(mode):
        raise StoreError(f"{printable(target)}: is a folder, expected a file")
    if not stat.S_ISREG(mode):
        raise StoreError(f"{printable(target)}: not a regular file (a device, FIFO or socket?): not replacing it")


def _followed(target: Path) -> Path:
    """The file a symlink points to (so saving through a link updates the real file), else ``target``."""
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def _locked_temp(target: Path) -> tuple[BinaryIO, Path]:
    """A new, exclusively locked ``.<name>.XXXXXXXX.tmp`` beside ``target``, in the target's mode."""
    mode = _existing_mode(target)
    for _ in range(100):
        temp = target.with_name(f".{target.name}.{''.join(secrets.choice(_TEMP_ALPHABET) for _ in range(8))}.tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)  # the umask applies
        except FileExistsError:
            continue
        except OSError as error:
            raise StoreError(f"{printable(target)}: cannot write: {error.strerror or error}") from None
        handle = os.fdopen(fd, "wb")
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _same_file(temp, fd):          # a sweep between create and lock would have removed it
            if mode is not None:
                os.fchmod(fd, mode)
            return handle, temp
        handle.close()
    raise StoreError(f"{printable(target)}: cannot write: no free temporary name")


def _same_file(path: Path, fd: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _existing_mode(target: Path) -> int | None:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return None


def fsync_directory(directory: Path) -> None:
    """fsync a folder so a rename inside it survives a power cut."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def hold_folder(folder: str | os.PathLike[str]) -> int:
    """Mark ``folder`` as being written, for as long as the returned descriptor stays open (close it to let go).

    An exclusive lock on the folder, which dies with its process: a folder left
    by a crash or a power cut is not held. Readers ask :func:`folder_held`; it
    waits at most the instant a reader takes to look.
    """
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        raise
    return fd


def folder_held(folder: str | os.PathLike[str]) -> bool:
    """Whether a writer holds ``folder`` (:func:`hold_folder`), in this process or another one."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)     # let go at once, below, by closing
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def sweep_stale_temps(directory: str | os.PathLike[str], *, name: str | None = None,
                      recursive: bool = True) -> list[Path]:
    """Remove the temporary files a killed writer left in ``directory``; returns what was removed.

    Only files named like this module's temporaries (``.<name>.XXXXXXXX.tmp``,
    of ``name`` if given) that no live writer holds locked are removed: a
    save in progress in another process is never disturbed. The daemon calls
    it for the whole data directory (and its folders) at start; a save calls
    it for its own file (``name``, ``recursive=False``).
    """
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if recursive and entry.is_dir(follow_symlinks=False):
            removed += sweep_stale_temps(entry.path, name=name, recursive=True)
            continue
        match = _TEMP.match(entry.name)
        if match and (name is None or match["name"] == name) and entry.is_file(follow_symlinks=False) \
                and _remove_if_unlocked(Path(entry.path)):
            removed.append(Path(entry.path))
    return removed


def _remove_if_unlocked(temp: Path) -> bool:
    try:
        fd = os.open(temp, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False                      # a writer is at work on it
    try:
        if _same_file(temp, fd):
            temp.unlink()
            return True
        return False
    except OSError:
        return False
    finally:
        os.close(fd)


def quarantine(path: str | os.PathLike[str], reason: str = "") -> tuple[Path, str]:
    """Move a corrupt file aside (``bank.json`` -> ``bank.json.corrupt-20261125T131500``), never over another file.

    Returns the new path and a message for the user saying where it went and
    why, so nothing is lost and the name is free for a good file.
    """
    aside = move_aside(path, "corrupt")
    because = f" ({printable(reason)})" if reason else ""
    return aside, f"{printable(path)}: unreadable{because}; moved aside to {printable(aside.name)}"


def move_aside(path: str | os.PathLike[str], label: str) -> Path:
    """Rename ``path`` to ``<name>.<label>-<date>`` beside it (a new name: never over another file); durable."""
    source = Path(path)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for attempt in range(1000):
        aside = source.with_name(f"{source.name}.{label}-{stamp}" + (f"-{attempt}" if attempt else ""))
        try:
            os.link(source, aside)        # fails if ``aside`` exists: never replaces a file
        except FileExistsError:
            continue
        except OSError as error:
            raise StoreError(f"{printable(source)}: cannot move it aside: {error.strerror or error}") from None
        source.unlink()
        fsync_directory(source.parent)
        return aside
    raise StoreError(f"{printable(source)}: cannot move it aside: too many earlier copies")


def read_input(path: str | os.PathLike[str], limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; anything else raises naming the file.

    Opened without blocking, so a FIFO or a device never hangs the reader;
    ``/dev/zero`` or a folder is refused at once.
    """
    source = printable(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise StoreError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise StoreError(f"{source}: is a folder, expected a file") from None
    except OSError as error:
        raise StoreError(f"{source}: cannot read: {error.strerror or error}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise StoreError(f"{source}: is a folder, expected a file")
        if not stat.S_ISREG(info.st_mode):
            raise StoreError(f"{source}: not a regular file (a device, FIFO or socket?)")
        if info.st_size > limit:
            raise StoreError(f"{source}: {info.st_size} bytes is too big (at most {limit}): is it the right file?")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except StoreError:
        raise
    except OSError as error:
        raise StoreError(f"{source}: cannot read: {error.strerror or error}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise StoreError(f"{source}: too big (at most {limit} bytes): is it the right file?")
    return data


def read_text(path: str | os.PathLike[str], limit: int = MAX_INPUT_BYTES) -> str:
    """A capped input file as UTF-8 text; a byte-order mark (as Windows Notepad writes) is accepted."""
    try:
        return read_input(path, limit).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FormatError(f"not UTF-8 text (byte {error.start})", source=str(path)) from None


def read_json(path: str | os.PathLike[str]) -> Any:
    """Decoded JSON from ``path``; unreadable, malformed or absurdly nested files raise naming the file."""
    source = str(path)
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FormatError(f"bad JSON at line {error.lineno} column {error.colno}: {error.msg}",
                          source=source) from None
    except RecursionError:
        raise FormatError(f"nested more than {MAX_JSON_DEPTH} levels deep", source=source) from None
    except ValueError as error:           # e.g. a number of more than 4300 digits
        raise FormatError(f"bad JSON: {error}", source=source) from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise FormatError(f"nested more than {MAX_JSON_DEPTH} levels deep", source=source)
    return data


def _depth(data: Any) -> int:
    deepest, level = 0, [data]
    while level:
        deepest += 1
        if deepest > MAX_JSON_DEPTH:
            return deepest
        level = [child for item in level if isinstance(item, (list, dict))
                 for child in (item.values() if isinstance(item, dict) else item)]
    return deepest - 1


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Atomically write ``data`` as indented JSON, lists of numbers on one line (a pattern row reads as a row)."""
    atomic_write_bytes(path, (_to_json(data) + "\n").encode("utf-8"))


def _to_json(value: Any, depth: int = 0) -> str:
    """``json.dumps(value, indent=1)``, except that a list of plain numbers stays on one line.

    Built from the structure, never by editing the text: a name such as
    ``"x[1,2]"`` is written exactly as it is.
    """
    if isinstance(value, list) and value and not all(_is_number(item) for item in value):
        inner = " " * (depth + 1)
        items = [inner + _to_json(item, depth + 1) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * depth + "]"
    if isinstance(value, dict) and value:
        inner = " " * (depth + 1)
        items = [f"{inner}{json.dumps(str(key))}: {_to_json(item, depth + 1)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    return json.dumps(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def load_bank(path: str | os.PathLike[str]) -> Bank:
    """Read and validate a bank file; errors name the file, the field and the fault."""
    data = read_json(path)
    try:
        return bank_from_data(data)
    except FormatError as error:
        raise error.in_source(str(path)) from None


def save_bank(path: str | os.PathLike[str], bank: Bank, *, force: bool = False) -> None:
    """Atomically write ``bank``; refuse to replace a corrupt or newer file unless ``force``.

    A file this program cannot read may be a user's work from a newer version:
    overwriting it silently would lose it.
    """
    target = Path(path)
    if target.exists() and not force:
        try:
            load_bank(target)
        except VersionError as error:
            raise VersionError(f"not overwriting a newer or unknown-version bank ({error.message})",
                               error.field, str(target)) from None
        except FormatError as error:
            raise FormatError(f"not overwriting a file that is not a valid bank ({error})",
                              source=str(target)) from None
    write_json(target, bank_to_data(bank))


def make_folder(folder: str | os.PathLike[str]) -> Path:
    """Create an output folder (and its parents), once the command's inputs are checked; errors name it."""
    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"{printable(target)}: cannot create the folder: {error.strerror or error}") from None
    return target


def check_output(path: str | os.PathLike[str], *, inputs: Sequence[str | os.PathLike[str]] = (),
                 is_ours: Callable[[Path], bool] = lambda path: False, what: str = "a file this command writes",
                 force: bool = False, hint: str = "") -> Path:
    """Check, before any work, that writing ``path`` loses nothing; returns it.

    Refused: a folder or a special file (``/dev/null``, even with ``force``);
    one of the command's own ``inputs`` (even with ``force``: a command never
    writes over what it reads); an existing file
    that ``is_ours`` does not recognise as ``what`` the command writes,
    unless ``force``. ``hint`` is appended to a refusal (e.g. "use --force").
    """
    target = Path(path)
    shown = printable(target)
    if target.is_dir():
        raise OverwriteRefused(f"{shown}: is a folder; name a file inside it")
    _check_replaceable(target)
    for source in inputs:
        if _same_path(target, Path(source)):
            raise OverwriteRefused(f"{shown}: is also an input of this command; not overwriting it")
    if target.exists() and not force and not is_ours(target):
        raise OverwriteRefused(f"{shown}: not overwriting a file that is not {what}"
                                             + (f"; {hint}" if hint else ""))
    return target


def _same_path(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return os.path.realpath(one) == os.path.realpath(other)


__all__ = ["BANK_VERSION", "MAX_INPUT_BYTES", "OverwriteRefused", "StoreError", "atomic_write_bytes",
           "atomic_writer", "check_output", "folder_held", "fsync_directory", "hold_folder", "load_bank",
           "make_folder", "move_aside", "quarantine", "read_input", "read_json", "read_text", "save_bank",
           "sweep_stale_temps", "write_json"]
