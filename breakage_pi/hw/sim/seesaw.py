"""One emulated NeoTrellis board: the seesaw registers the adafruit library touches.

The real ``adafruit_neotrellis.NeoTrellis`` talks to this through
:class:`~breakage_pi.hw.sim.bus.EmulatedI2C` exactly as it talks to the chip:
a write of ``[base, register, data...]`` sets a register (or, with no data,
selects what the next read returns); a read returns the selected register.

Emulated: status (hardware id 0x55, version, options, software reset),
keypad (per-key edge enables, interrupt enable, event count, FIFO of
``key << 2 | edge`` bytes, INT asserted while the FIFO holds events) and
NeoPixel (pin, buffer length, buffer writes, show). A key event is queued
the moment :meth:`press`/:meth:`release` is called: the firmware's own
10 ms matrix scan is not modelled (it delays stock and fast scanning alike).

>>> board = EmulatedNeoTrellis(0x2E)
>>> board.write(bytes([0x10, 0x01, 0x00, 0b10001]))  # enable EDGE_RISING on key 0
>>> board.press(0)
>>> board.write(bytes([0x10, 0x04])); board.read(1)
b'\\x01'
"""

from __future__ import annotations

import struct
import threading
from collections import Counter, deque
from typing import Callable

STATUS_BASE, HW_ID, VERSION, OPTIONS, SWRST = 0x00, 0x01, 0x02, 0x03, 0x7F
KEYPAD_BASE, KEYPAD_EVENT, KEYPAD_INTENSET, KEYPAD_INTENCLR, KEYPAD_COUNT, KEYPAD_FIFO = \
    0x10, 0x01, 0x02, 0x03, 0x04, 0x10
NEOPIXEL_BASE, NEOPIXEL_PIN, NEOPIXEL_BUF_LENGTH, NEOPIXEL_BUF, NEOPIXEL_SHOW = 0x0E, 0x01, 0x03, 0x04, 0x05
SAMD09_HW_ID = 0x55
NEOTRELLIS_PRODUCT_ID = 3954
EDGE_FALLING, EDGE_RISING = 2, 3  # on a NeoTrellis: released, pressed
KEYS = 16
EMPTY = 0xFF  # what a FIFO read returns past the queued events


def seesaw_key(key: int) -> int:
    """The seesaw's keypad number of NeoTrellis key 0-15 (row-major 4x4): rows are 8 apart."""
    return (key // 4) * 8 + key % 4


class EmulatedNeoTrellis:
    """The register model of one board at ``address``; thread-safe.

    ``plugged`` False makes the address stop answering (the bus raises
    ``OSError``); plugging back in is a power-up, so every register resets.
    ``int_stuck`` holds INT low whatever the FIFO holds, as a misbehaving
    board might.
    """

    def __init__(self, address: int, fifo_size: int = 32) -> None:
        self.address = address
        self.fifo_size = fifo_size
        self.int_stuck = False
        self.resets = 0
        self.dropped = 0
        self.shows = 0
        self.register_writes: Counter[tuple[int, int]] = Counter()
        self.on_int_change: Callable[[], None] | None = None
        self._plugged = True
        self._lock = threading.Lock()
        self._held: set[int] = set()
        self._power_up()

    def _power_up(self) -> None:
        self._fifo: deque[int] = deque()
        self._edges: dict[int, set[int]] = {}
        self._interrupt = False
        self._pixels = bytearray()
        self._shown = b""
        self.pixel_pin: int | None = None
        self._selected = (STATUS_BASE, HW_ID)

    @property
    def plugged(self) -> bool:
        return self._plugged

    def unplug(self) -> None:
        """Pull the board: its address stops answering and INT is released."""
        with self._lock:
            self._plugged = False
            self._held.clear()
        self._notify()

    def plug(self) -> None:
        """Plug the board back in: it powers up with every register reset."""
        with self._lock:
            self._plugged = True
            self._power_up()
        self._notify()

    @property
    def int_asserted(self) -> bool:
        """True while this board pulls the (active-low) INT line down."""
        return self._plugged and (self.int_stuck or (self._interrupt and bool(self._fifo)))

    @property
    def shown(self) -> bytes:
        """The GRB bytes latched by the last ``show`` (3 per pixel, pixel = key)."""
        return self._shown

    def pixel(self, key: int) -> tuple[int, int, int]:
        """The RGB colour key 0-15 shows (decoded from the GRB bytes)."""
        green, red, blue = self._shown[3 * key:3 * key + 3] or b"\0\0\0"
        return red, green, blue

    @property
    def queued(self) -> int:
        """Events waiting in the keypad FIFO."""
        return len(self._fifo)

    def press(self, key: int) -> None:
        """Press key 0-15 (row-major on this board): queue EDGE_RISING if enabled."""
        self._key(key, EDGE_RISING, True)

    def release(self, key: int) -> None:
        """Release key 0-15: queue EDGE_FALLING if enabled."""
        self._key(key, EDGE_FALLING, False)

    def _key(self, key: int, edge: int, down: bool) -> None:
        if not 0 <= key < KEYS:
            raise ValueError(f"key must be 0-{KEYS - 1}, got {key}")
        with self._lock:
            if not self._plugged or (key in self._held) == down:
                return
            (self._held.add if down else self._held.discard)(key)
            number = seesaw_key(key)
            if edge not in self._edges.get(number, ()):
                return
            if len(self._fifo) >= self.fifo_size:
                self.dropped += 1
                return
            self._fifo.append(number << 2 | edge)
        self._notify()

    def write(self, data: bytes) -> None:
        """A bus write addressed to this board (the bus has checked it is plugged)."""
        if len(data) < 2:
            return  # an address probe
        register, payload = (data[0], data[1]), bytes(data[2:])
        with self._lock:
            self.register_writes[register] += 1
            self._selected = register
            self._apply(register, payload)
        self._notify()

    def _apply(self, register: tuple[int, int], payload: bytes) -> None:
        if register == (STATUS_BASE, SWRST):
            self.resets += 1
            self._power_up()
        elif register == (KEYPAD_BASE, KEYPAD_EVENT) and len(payload) >= 2:
            key, state = payload[0], payload[1]
            edges = {edge for edge in range(4) if state & (1 << (edge + 1))}
            enabled = self._edges.setdefault(key, set())
            if state & 1:
                enabled.update(edges)
            else:
                enabled.difference_update(edges)
        elif register == (KEYPAD_BASE, KEYPAD_INTENSET) and payload[:1] == b"\x01":
            self._interrupt = True
        elif register == (KEYPAD_BASE, KEYPAD_INTENCLR) and payload[:1] == b"\x01":
            self._interrupt = False
        elif register == (NEOPIXEL_BASE, NEOPIXEL_PIN) and payload:
            self.pixel_pin = payload[0]
        elif register == (NEOPIXEL_BASE, NEOPIXEL_BUF_LENGTH) and len(payload) == 2:
            self._pixels = bytearray(struct.unpack(">H", payload)[0])
        elif register == (NEOPIXEL_BASE, NEOPIXEL_BUF) and len(payload) >= 2:
            offset = struct.unpack(">H", payload[:2])[0]
            data = payload[2:][:max(0, len(self._pixels) - offset)]
            self._pixels[offset:offset + len(data)] = data
        elif register == (NEOPIXEL_BASE, NEOPIXEL_SHOW):
            self._shown = bytes(self._pixels)
            self.shows += 1

    def read(self, size: int) -> bytes:
        """A bus read: ``size`` bytes of the register the last write selected."""
        with self._lock:
            data = self._register(self._selected, size)
        self._notify()
        return data

    def _register(self, register: tuple[int, int], size: int) -> bytes:
        if register == (STATUS_BASE, HW_ID):
            value = bytes([SAMD09_HW_ID])
        elif register == (STATUS_BASE, VERSION):
            value = struct.pack(">I", NEOTRELLIS_PRODUCT_ID << 16 | 0x0C2D)
        elif register == (STATUS_BASE, OPTIONS):
            value = struct.pack(">I", 1 << STATUS_BASE | 1 << NEOPIXEL_BASE | 1 << KEYPAD_BASE)
        elif register == (KEYPAD_BASE, KEYPAD_COUNT):
            value = bytes([min(len(self._fifo), 255)])
        elif register == (KEYPAD_BASE, KEYPAD_FIFO):
            value = bytes(self._fifo.popleft() for _ in range(min(size, len(self._fifo))))
            return value + bytes([EMPTY]) * (size - len(value))
        else:
            value = b""
        return (value + bytes(size))[:size]

    def _notify(self) -> None:
        if self.on_int_change is not None:
            self.on_int_change()
