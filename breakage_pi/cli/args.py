"""Argument types and argument groups shared by the command groups."""

from __future__ import annotations

import argparse
import math
from pathlib import Path


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number more than 0, got {text}")
    return value


def whole_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def add_slot_arguments(parser: argparse.ArgumentParser) -> None:
    """What every command that sounds one bank slot takes: the bank, the slot, a tempo and a kit."""
    parser.add_argument("bank", type=Path, metavar="BANK.json")
    parser.add_argument("--slot", type=int, required=True, metavar="N", help="slot number 1-16")
    parser.add_argument("--tempo", type=float, metavar="T", help="BPM (default: the bank's)")
    parser.add_argument("--kit", type=Path, metavar="DIR", help="folder of <channel>.wav (default: built-in kit)")
