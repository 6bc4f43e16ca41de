"""One emulated NeoTrellis board: the seesaw firmware of its SAMD09 as the adafruit library meets it.

Read against Adafruit's firmware source, github.com/adafruit/seesaw at
commit 20e2892 (cited below as file:line), the RGBTrellis build that
NeoTrellis boards run (``boards/RGBTrellis/board.mk``: SAMD09D14A). A write
of ``[base, register, data...]`` sets a register; a write of just
``[base, register]`` asks for it, and the next read returns the answer.

What the chip does, and so what this does:

- **Keys appear only on the 10 ms scan.** The keypad task scans the matrix
  every ``CONFIG_KEYPAD_SYNC_INTERVAL`` = 10 ticks of 1 ms
  (``include/SeesawConfig.h:528-529``, armed at ``source/AOKeypad.cpp:198``)
  and queues an event where a key's level differs from the last scan
  (``AOKeypad.cpp:223-259``): :meth:`press`/:meth:`release` set the physical
  level and a tap shorter than a scan may give no event at all.
- **The queue holds 127 events**: a 128-byte pipe (``KEYPAD_FIFO_ORDER = 7``,
  ``include/System.h:126-127``) that keeps one slot free and drops a write
  that does not fit (``lib/qp/extras/fw_pipe.h:84-88, 118-123``).
- **INT as the firmware drives it.** A scan that leaves events queued pulls
  INT low if the interrupt is enabled (``AOKeypad.cpp:261-269``); INT is
  released when the queue register is *addressed* for reading
  (``AOKeypad.cpp:283-289``), not when it is drained, and only while the
  interrupt is enabled. Clearing the enable (``AOKeypad.cpp:324-325``) does
  not release a low line; a software reset does (``source/AOInterrupt.cpp:91-103``).
- **A busy chip refuses its address.** Asking for a register puts the I2C
  slave in ``Busy`` (``source/I2CSlave.cpp:344-348``) until the task that
  owns the register answers (``I2CSlave.cpp:381-388``); meanwhile its
  address is NACKed (``I2CSlave.cpp:429-431``), which Linux reports as
  ``OSError(EREMOTEIO)``. The answer is taken when served: a count or
  status byte, or for the queue register the live queue itself, read byte
  by byte and padded with 0xFF (``I2CSlave.cpp:455-460``). ``SERVICE_S`` is
  an estimate of that round trip (an ISR and three run-to-completion steps
  at 48 MHz), to be measured on hardware.
- **An LED latch blocks everything for ~0.5 ms.** ``show`` bit-bangs the
  buffer at 800 kHz with interrupts off (``source/Neopixel.cpp:213-227``,
  ``bsp/bsp_neopix.cpp:55-119``): 48 bytes take 0.48 ms. The show request
  itself is a register request (``source/Delegate.cpp:374-380``); the I2C
  task (priority 27) answers before the LED task (20) latches, and the
  keypad task (18) comes last (``include/hsm_id.h:59-71``). An address sent
  during the latch cannot be served until interrupts come back: the chip
  holds SCL low (clock stretching), see :meth:`address_stretch`.
- **Writes longer than 31 data bytes are refused.** Bytes after the two
  register bytes go into a 32-byte pipe (``System.h:84-89``) that keeps 31;
  the next byte is NACKed (``I2CSlave.cpp:469-476``) and what fitted is
  still applied when the master stops.
- **A software reset restarts the tasks, not the LEDs.** It clears the key
  states, edge enables, interrupt enable and queue (``AOKeypad.cpp:169-175``)
  and the pixel buffer (``Neopixel.cpp:121``), re-arms the scan, releases
  INT; the LED pin and buffer length stay (``Neopixel.cpp:118-127`` does not
  touch them) and the LEDs keep their colours until the next ``show``.
- Deactivating edges keeps only the edges named (``AOKeypad.cpp:332-335``,
  ``&=`` without ``~``): emulated as written.

>>> from breakage_pi.hw.sim.clock import ManualClock
>>> clock = ManualClock()
>>> board = EmulatedNeoTrellis(0x2E, clock=clock)
>>> board.write(bytes([0x10, 0x01, 0x00, 0b10001]))  # enable EDGE_RISING on key 0
>>> board.press(0); clock.advance(0.010); board.catch_up()
>>> board.write(bytes([0x10, 0x04])); clock.advance(SERVICE_S); board.read(1)
b'\\x01'
"""

from __future__ import annotations

import errno
import math
import struct
import threading
import time
from collections import Counter, deque
from typing import Callable

STATUS_BASE, HW_ID, VERSION, OPTIONS, SWRST = 0x00, 0x01, 0x02, 0x03, 0x7F
KEYPAD_BASE, KEYPAD_STATUS, KEYPAD_EVENT, KEYPAD_INTENSET, KEYPAD_INTENCLR, KEYPAD_COUNT, KEYPAD_FIFO = \
    0x10, 0x00, 0x01, 0x02, 0x03, 0x04, 0x10
NEOPIXEL_BASE, NEOPIXEL_PIN, NEOPIXEL_BUF_LENGTH, NEOPIXEL_BUF, NEOPIXEL_SHOW = 0x0E, 0x01, 0x03, 0x04, 0x05
SAMD09_HW_ID = 0x55
NEOTRELLIS_PRODUCT_ID = 3954
EDGE_HIGH, EDGE_LOW, EDGE_FALLING, EDGE_RISING = 0, 1, 2, 3  # include/AOKeypad.h:43-48; a NeoTrellis key is high while pressed
KEYS = 16
EMPTY = 0xFF  # what a read returns past the answer (I2CSlave.cpp:460)

SCAN_PERIOD_S = 0.010    # SeesawConfig.h:529
KEYPAD_QUEUE = 127       # System.h:127, fw_pipe.h:84-88
I2C_DATA_BYTES = 31      # System.h:85, I2CSlave.cpp:467-476
PIXEL_BUF_MAX = 64       # boards/RGBTrellis/board_config.h:83
PIXEL_BYTE_S = 8 / 800_000  # bsp_neopix.cpp:55: 800 kHz, 8 bits a byte
SERVICE_S = 50e-6        # estimate: address to DELEGATE_DATA_READY


def seesaw_key(key: int) -> int:
    """The seesaw's keypad number of NeoTrellis key 0-15 (row-major 4x4): rows are 8 apart."""
    return (key // 4) * 8 + key % 4


def refused(address: int, why: str) -> OSError:
    """The error Linux raises when a chip NACKs (EREMOTEIO)."""
    return OSError(errno.EREMOTEIO, f"Remote I/O error (emulated, address 0x{address:02X}: {why})")


class EmulatedNeoTrellis:
    """The firmware model of one board at ``address``, keeping time by ``clock`` (s); thread-safe.

    The bus it is added to gives it the bus's clock. ``plugged`` False makes
    the address stop answering; plugging back in is a power-up (LEDs dark,
    every register reset). ``int_stuck`` holds INT low whatever the queue
    holds, as a faulty board might. ``on_report(key, pressed, time)`` hears
    every press and release the scan queues, with the scan's time.
    """

    def __init__(self, address: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.address = address
        self.clock = clock
        self.int_stuck = False
        self.resets = 0
        self.dropped = 0
        self.shows = 0
        self.refusals = 0
        self.register_writes: Counter[tuple[int, int]] = Counter()
        self.on_int_change: Callable[[], None] | None = None
        self.on_report: Callable[[int, bool, float], None] | None = None
        self._plugged = True
        self._lock = threading.RLock()
        self._held: set[int] = set()
        self._power_up(clock())

    def use_clock(self, clock: Callable[[], float]) -> None:
        """Keep time by ``clock`` from now on (the bus's); the chip powers up at its present time."""
        with self._lock:
            self.clock = clock
            self._power_up(clock())

    # -- power, reset and the scan timer -----------------------------------

    def _power_up(self, now: float) -> None:
        self.pixel_pin: int | None = None
        self._length = 0
        self._shown = b""
        self._start_tasks(now)

    def _start_tasks(self, now: float) -> None:
        """What SYSTEM_START does after power-up or a software reset (see the module docstring)."""
        self._pixels = bytearray(PIXEL_BUF_MAX)
        self._queue: deque[int] = deque()
        self._active: dict[int, int] = {}
        self._seen_down: set[int] = set()
        self._data_ready = False
        self._inten = False
        self._int_flag = False
        self._answer: bytearray | None = bytearray()  # None: the keypad queue is the answer
        self._request: tuple[float, tuple[int, int]] | None = None
        self._latch = (0.0, 0.0)
        self._next_scan = now + SCAN_PERIOD_S

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
        """Plug the board back in: it powers up with every register reset and its LEDs dark."""
        with self._lock:
            self._plugged = True
            self._power_up(self.clock())
        self._notify()

    @property
    def next_scan_at(self) -> float:
        """When (on ``clock``) the firmware next scans the keys."""
        return self._next_scan

    def next_due(self) -> float:
        """When the firmware next has something to do: a scan or the answer to a request."""
        with self._lock:
            return min(self._next_scan, self._request[0] if self._request else math.inf)

    def catch_up(self) -> None:
        """Run the scans and answers due by ``clock()``; INT listeners hear any change."""
        with self._lock:
            before = self.int_asserted
            self._run_until(self.clock())
            changed = before != self.int_asserted
        if changed:
            self._notify()

    def _run_until(self, now: float) -> None:
        while self._plugged:
            answer_at = self._request[0] if self._request else math.inf
            if min(answer_at, self._next_scan) > now:
                return
            if answer_at <= self._next_scan:
                self._answer_request()
                continue
            due = int((now - self._next_scan) // SCAN_PERIOD_S) + 1
            for _ in range(min(due, KEYPAD_QUEUE + 2)):  # more scans of unchanged keys change nothing
                self._scan(self._next_scan)
            self._next_scan += due * SCAN_PERIOD_S

    # -- keys ----------------------------------------------------------------

    @property
    def int_asserted(self) -> bool:
        """True while this board pulls the (active-low) INT line down."""
        return self._plugged and (self.int_stuck or self._int_flag)

    @property
    def queued(self) -> int:
        """Events waiting in the keypad queue."""
        return len(self._queue)

    def press(self, key: int) -> None:
        """A finger goes down on key 0-15 (row-major on this board); the next scan sees it."""
        self._set_key(key, True)

    def release(self, key: int) -> None:
        """The finger lifts from key 0-15; the next scan sees it."""
        self._set_key(key, False)

    def _set_key(self, key: int, down: bool) -> None:
        if not 0 <= key < KEYS:
            raise ValueError(f"key must be 0-{KEYS - 1}, got {key}")
        self.catch_up()
        with self._lock:
            if self._plugged:
                (self._held.add if down else self._held.discard)(key)

    def _scan(self, at: float) -> None:
        """One KEYPAD_SYNC (AOKeypad.cpp:216-272)."""
        for key in range(KEYS):
            number, down = seesaw_key(key), key in self._held
            active, was_down = self._active.get(number, 0), number in self._seen_down
            edges = [edge for edge, fires in ((EDGE_HIGH, down), (EDGE_LOW, not down),
                                              (EDGE_RISING, down and not was_down),
                                              (EDGE_FALLING, was_down and not down))
                     if fires and active & (1 << edge)]
            for edge in edges:
                if len(self._queue) >= KEYPAD_QUEUE:
                    self.dropped += 1
                    continue
                self._queue.append(number << 2 | edge)
                if edge in (EDGE_RISING, EDGE_FALLING) and self.on_report is not None:
                    self.on_report(key, edge == EDGE_RISING, at)
            (self._seen_down.add if down else self._seen_down.discard)(number)
        if self._queue:
            self._data_ready = True
            if self._inten:
                self._int_flag = True

    # -- the I2C slave -------------------------------------------------------

    def address_stretch(self) -> float:
        """Seconds the chip holds SCL before it can take its address (the rest of an LED latch)."""
        with self._lock:
            now = self.clock()
            self._run_until(now)
            start, end = self._latch
            return end - now if start <= now < end else 0.0

    def refuse_if_busy(self) -> None:
        """Raise the NACK a chip still answering a request gives its address."""
        with self._lock:
            self._run_until(self.clock())
            if self._request is not None:
                self.refusals += 1
                raise refused(self.address, "busy answering a request")

    def write(self, data: bytes) -> None:
        """A bus write addressed to this board (the bus has checked it is plugged and not busy)."""
        with self._lock:
            now = self.clock()
            self._run_until(now)
            if len(data) < 2:
                return  # an address probe
            register, payload = (data[0], data[1]), bytes(data[2:])
            self.register_writes[register] += 1
            if payload:
                self._apply(register, payload[:I2C_DATA_BYTES], now)
            elif register != (0, 0):
                self._request = (now + SERVICE_S, register)
        self._notify()
        if len(payload) > I2C_DATA_BYTES:
            raise refused(self.address, f"data byte {I2C_DATA_BYTES + 1} NACKed, the chip keeps "
                                        f"{I2C_DATA_BYTES} bytes a write")

    def _apply(self, register: tuple[int, int], payload: bytes, now: float) -> None:
        if register == (STATUS_BASE, SWRST):
            self.resets += 1
            self._start_tasks(now)
        elif register == (KEYPAD_BASE, KEYPAD_EVENT) and len(payload) >= 2:
            number, state = payload[0], payload[1]
            edges = (state >> 1) & 0xF
            current = self._active.get(number, 0)
            self._active[number] = current | edges if state & 1 else current & edges
        elif register == (KEYPAD_BASE, KEYPAD_INTENSET) and payload[0] & 1:
            self._inten = True
        elif register == (KEYPAD_BASE, KEYPAD_INTENCLR) and payload[0] & 1:
            self._inten = False
        elif register == (NEOPIXEL_BASE, NEOPIXEL_PIN):
            self.pixel_pin = payload[0]
        elif register == (NEOPIXEL_BASE, NEOPIXEL_BUF_LENGTH) and len(payload) >= 2:
            self._length = struct.unpack(">H", payload[:2])[0]
        elif register == (NEOPIXEL_BASE, NEOPIXEL_BUF) and len(payload) >= 2:
            offset = struct.unpack(">H", payload[:2])[0]
            data = payload[2:][:max(0, PIXEL_BUF_MAX - offset)]
            self._pixels[offset:offset + len(data)] = data

    def _answer_request(self) -> None:
        """The owning task answers the pending request; the I2C slave leaves Busy."""
        served_at, register = self._request
        self._request = None
        self._answer = bytearray()
        if register == (STATUS_BASE, HW_ID):
            self._answer += bytes([SAMD09_HW_ID])
        elif register == (STATUS_BASE, VERSION):
            self._answer += struct.pack(">I", NEOTRELLIS_PRODUCT_ID << 16 | 0x0C2D)
        elif register == (STATUS_BASE, OPTIONS):
            self._answer += struct.pack(">I", 1 << STATUS_BASE | 1 << NEOPIXEL_BASE | 1 << KEYPAD_BASE)
        elif register == (KEYPAD_BASE, KEYPAD_COUNT):
            self._answer.append(len(self._queue))
        elif register == (KEYPAD_BASE, KEYPAD_STATUS):
            self._answer.append(int(self._data_ready))
        elif register == (KEYPAD_BASE, KEYPAD_FIFO):
            self._data_ready = False
            if self._inten:
                self._int_flag = False
            self._answer = None
        elif register == (NEOPIXEL_BASE, NEOPIXEL_SHOW):
            self._shown = bytes(self._pixels[:self._length])
            self.shows += 1
            self._latch = (served_at, served_at + self._length * PIXEL_BYTE_S)

    def read(self, size: int) -> bytes:
        """A bus read: ``size`` bytes of the answer to the last request, then 0xFF."""
        with self._lock:
            self._run_until(self.clock())
            if self._answer is None:
                data = bytes(self._queue.popleft() for _ in range(min(size, len(self._queue))))
            else:
                data = bytes(self._answer[:size])
                del self._answer[:size]
        self._notify()
        return data + bytes([EMPTY]) * (size - len(data))

    # -- what a test looks at -------------------------------------------------

    @property
    def shown(self) -> bytes:
        """The GRB bytes the LEDs show (3 per pixel, pixel = key)."""
        return self._shown

    def pixel(self, key: int) -> tuple[int, int, int]:
        """The RGB colour key 0-15 shows (decoded from the GRB bytes)."""
        green, red, blue = self._shown[3 * key:3 * key + 3] or b"\0\0\0"
        return red, green, blue

    def _notify(self) -> None:
        if self.on_int_change is not None:
            self.on_int_change()
