"""What to send a board for a new LED frame: its NeoPixel bytes, and the fewest bus bytes that change them.

The seesaw NeoPixel buffer register takes a 2-byte offset and then the
bytes to store there (``source/Delegate.cpp:742-747`` of adafruit/seesaw);
the chip keeps at most 31 bytes after the register pair, offset included
(``include/System.h:85``, ``source/I2CSlave.cpp:469-476``), so a write
carries at most 29 pixel bytes. Every write also costs 5 bytes of overhead
on the bus (the address byte, the register pair, the offset), so two
changed runs a few bytes apart are cheaper as one write that covers the
gap: :func:`buffer_writes` picks the covering with the fewest bus bytes.

>>> buffer_writes(bytes(48), bytes(3) + b"\\x01\\x02\\x03" + bytes(42))  # one pixel changed
[(3, 6)]
>>> buffer_writes(b"\\0\\0\\0\\0", b"\\1\\0\\0\\1")  # a 2-byte gap costs less than a second write
[(0, 4)]
"""

from __future__ import annotations

from typing import Any

import numpy as np

NEOPIXEL_BASE, NEOPIXEL_BUF, NEOPIXEL_SHOW = 0x0E, 0x04, 0x05
BUF_OFFSET_BYTES = 2
BUF_WRITE_MAX = 31 - BUF_OFFSET_BYTES  # pixel bytes one buffer write can carry
WRITE_OVERHEAD = 1 + 2 + BUF_OFFSET_BYTES  # address, register pair, offset: bus bytes per write besides the data


def pixel_bytes(colours: np.ndarray, pixels: Any) -> bytes:
    """The buffer bytes the library's NeoPixel ``pixels`` would hold for (n, 3) RGB ``colours``.

    Its byte order and brightness, applied as ``adafruit_pixelbuf`` does
    (``int(value * brightness)`` per channel, at the order's positions), so
    the partial writes send what ``pixels.show()`` would.
    """
    _, order, _, _ = pixels.parse_byteorder(pixels.byteorder)
    scaled = (colours.astype(np.float64) * pixels.brightness).astype(np.uint8)
    buffer = np.zeros((len(colours), pixels.bpp), dtype=np.uint8)
    buffer[:, list(order[:3])] = scaled
    return buffer.tobytes()


def buffer_writes(held: bytes | None, wanted: bytes) -> list[tuple[int, int]]:
    """The (start, end) byte spans to write so a buffer holding ``held`` (None: unknown) holds ``wanted``.

    Each span is at most ``BUF_WRITE_MAX`` bytes; together they cover every
    changed byte at the least bus cost (``WRITE_OVERHEAD`` + length each),
    fewer writes winning a tie. No change, no spans.
    """
    changed = [index for index in range(len(wanted)) if held is None or held[index] != wanted[index]]
    # best[i]: (bus bytes, writes, spans) covering the first i changed bytes
    best: list[tuple[int, int, list[tuple[int, int]]]] = [(0, 0, [])]
    for covered in range(1, len(changed) + 1):
        end = changed[covered - 1] + 1
        options = []
        for first in range(covered - 1, -1, -1):
            start = changed[first]
            if end - start > BUF_WRITE_MAX:
                break
            cost, writes, spans = best[first]
            options.append((cost + WRITE_OVERHEAD + end - start, writes + 1, spans + [(start, end)]))
        best.append(min(options, key=lambda option: option[:2]))
    return best[-1][2]
