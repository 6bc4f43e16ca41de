"""Argument types and argument groups shared by the command groups."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..core.bank import Bank, Slot
from ..core.errors import FormatError, printable


def quoted(text: str) -> str:
    """An argument as typed, for a message: quoted, control characters escaped, a huge one shortened."""
    return f"'{printable(text, 40)}'"


def positive_int(text: str) -> int:
    return _whole_number_from(text, 1, "must be at least 1")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {quoted(text)}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number more than 0, got {printable(text, 40)}")
    return value


def whole_number(text: str) -> int:
    return _whole_number_from(text, 0, "must be 0 or more")


def _whole_number_from(text: str, least: int, rule: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {quoted(text)}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{rule}, got {printable(text, 40)}")
    return value


def output_file(text: str) -> Path:
    """An output file name: not empty, and not written as a folder (``out/``); the rest is checked by
    :func:`breakage_pi.store.check_output` once the inputs are read."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty: name the file to write, e.g. out/take.wav")
    if text.endswith(("/", "/.", "/..")) or text in (".", ".."):
        raise argparse.ArgumentTypeError(f"{quoted(text)} names a folder: name a file inside it")
    return Path(text)


def non_empty(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("empty: leave the option out for the default, or give a value")
    return text


def input_path(text: str) -> Path:
    """A file or folder to read; an empty one is refused (``Path("")`` would quietly mean the current folder)."""
    return Path(non_empty(text))


def slot_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a slot number 1-16, got {quoted(text)}") from None


def add_force_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true",
                        help="replace an existing output file even if it is not what this command writes")


def add_slot_arguments(parser: argparse.ArgumentParser) -> None:
    """What every command that sounds one bank slot takes: the bank, the slot, a tempo and a kit."""
    parser.add_argument("bank", type=input_path, metavar="BANK.json")
    parser.add_argument("--slot", type=slot_number, required=True, metavar="N", help="slot number 1-16")
    parser.add_argument("--tempo", type=float, metavar="T", help="BPM (default: the bank's)")
    parser.add_argument("--kit", type=input_path, metavar="DIR", help="folder of <channel>.wav (default: built-in kit)")


def bank_slot(bank: Bank, number: int, path: Path) -> Slot:
    """Slot ``number`` of the bank read from ``path``; a bad number is an error naming the bank."""
    try:
        return bank.slot(number)
    except FormatError:
        raise FormatError(f"the bank has slots 1-{len(bank.slots)}", f"--slot {number}", str(path)) from None
