"""Atomic, versioned persistence of the user's files.

Every write goes to a temporary file in the same directory, is fsynced,
renamed over the target and the directory fsynced: pulling the power at any
instant leaves either the old file or the new one, never a broken one
(``os.replace`` alone is atomic but not durable on an SD card).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from .core.bank import BANK_VERSION, Bank, bank_from_data, bank_to_data
from .core.errors import FormatError, StoreError, VersionError

_NUMBER_LIST = re.compile(r"\[[-\d.,\s]*\]")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file."""
    target = Path(path)
    directory = target.parent
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise StoreError(f"{target}: cannot write: {error.strerror or error}") from error
    try:
        os.fchmod(handle, _mode_for(target))
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, target)
    except BaseException as error:
        Path(temp_name).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise StoreError(f"{target}: cannot write: {error.strerror or error}") from error
        raise
    fsync_directory(directory)


def _mode_for(target: Path) -> int:
    """Keep a replaced file's permissions; a new file is readable by all (0644), as users share them."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o644


def fsync_directory(directory: Path) -> None:
    """fsync a folder so a rename inside it survives a power cut."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Decoded JSON from ``path``; unreadable or malformed files raise naming the file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise StoreError(f"{source}: no such file") from error
    except UnicodeDecodeError as error:
        raise FormatError("not UTF-8 text", source=source) from error
    except OSError as error:
        raise StoreError(f"{source}: cannot read: {error.strerror or error}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FormatError(f"bad JSON at line {error.lineno} column {error.colno}: {error.msg}",
                          source=source) from error


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Atomically write ``data`` as indented JSON, lists of numbers on one line (a pattern row reads as a row)."""
    text = _NUMBER_LIST.sub(lambda match: json.dumps(json.loads(match.group(0))), json.dumps(data, indent=1))
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))


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


__all__ = ["BANK_VERSION", "StoreError", "atomic_write_bytes", "fsync_directory", "load_bank", "read_json",
           "save_bank", "write_json"]
