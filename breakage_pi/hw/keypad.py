"""Fast keypad reads through the library's own NeoTrellis objects.

The library's ``Seesaw.read`` addresses a register, sleeps a fixed 8 ms and
reads: ``NeoTrellis.sync`` does that twice per board. Here each read uses
the short wait the seesaw firmware needs (Adafruit's Arduino driver waits
0.5 ms before reading the key count and 1 ms before the FIFO) and the waits
of all boards overlap: address the register on every board, wait once,
then read each board. The boards are separate chips, so addressing one
does not disturb another's pending read.

FIFO bytes are ``seesaw_key << 2 | edge``; on a NeoTrellis EDGE_RISING (3)
is a press and EDGE_FALLING (2) a release.

>>> decode(17 << 2 | 3)   # seesaw key 17 = row 2, column 1, rising
(9, True)
>>> decode(0xFF) is None  # FIFO padding
True
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

KEYPAD_BASE = 0x10
KEYPAD_COUNT = 0x04
KEYPAD_FIFO = 0x10
EDGE_FALLING, EDGE_RISING = 2, 3
KEYS = 16


def decode(raw: int) -> tuple[int, bool] | None:
    """(key 0-15, pressed) of one FIFO byte, or None for padding and edges not asked for."""
    number, edge = (raw >> 2) & 0x3F, raw & 0x3
    if number % 8 >= 4 or edge not in (EDGE_FALLING, EDGE_RISING):
        return None
    key = (number // 8) * 4 + number % 8
    return (key, edge == EDGE_RISING) if key < KEYS else None


def settle(seconds: float) -> None:
    """Wait ``seconds`` for the seesaw without oversleeping: sleep all but 0.2 ms, then yield until due.

    ``time.sleep(0.0005)`` takes ~0.57 ms on Linux (timer slack); two such
    waits sit on every press's path.
    """
    deadline = time.perf_counter() + seconds
    if seconds > 0.0003:
        time.sleep(seconds - 0.0002)
    while time.perf_counter() < deadline:
        time.sleep(0)


def read_registers(trelli: Sequence[Any], register: int, sizes: Sequence[int], delay: float,
                   sleep: Callable[[float], None]) -> list[bytes | Exception]:
    """Read keypad ``register`` from each NeoTrellis, ``sizes[i]`` bytes, overlapping the waits.

    ``delay`` (s) is the wait between addressing and reading. A board whose
    transaction fails gets the exception in its place (an ``OSError``, or
    whatever else its driver raised); the others still read.
    """
    results: list[bytes | Exception | None] = [None] * len(trelli)
    for index, trellis in enumerate(trelli):
        try:
            trellis.write(KEYPAD_BASE, register)
        except Exception as error:  # one board's failure, of any kind, must not cost the others their read
            results[index] = error
    if delay > 0 and any(result is None for result in results):
        sleep(delay)
    for index, trellis in enumerate(trelli):
        if results[index] is None:
            buffer = bytearray(sizes[index])
            try:
                with trellis.i2c_device as device:
                    device.readinto(buffer)
                results[index] = bytes(buffer)
            except Exception as error:  # as above
                results[index] = error
    return results  # type: ignore[return-value]
