"""An emulated I2C bus that the real adafruit libraries accept in place of ``busio.I2C``.

It offers what ``adafruit_bus_device.I2CDevice`` calls (``try_lock``,
``unlock``, ``writeto``, ``readfrom_into``, ``writeto_then_readfrom``,
``scan``) and routes each transaction to the emulated device at the
address. Three extras make it a test and simulation rig:

- **timing**: with ``frequency`` set, each transaction takes as long as its
  bytes (plus the address byte) take at 9 bits each on a real bus;
  the library's own ``sleep`` calls stay real;
- **faults**: ``fault_rate`` fails that fraction of transactions at random
  (seeded), :meth:`fail` fails chosen ones; a fault raises
  ``OSError(EREMOTEIO)`` (what Linux raises on a NACK) before the device
  sees anything;
- **INT**: the boards' open-drain INT outputs are wired together; listeners
  (e.g. a gpiozero mock pin, see :meth:`wire_int`) hear every level change.

>>> from breakage_pi.hw.sim.seesaw import EmulatedNeoTrellis
>>> bus = EmulatedI2C([EmulatedNeoTrellis(0x2E)])
>>> bus.scan()
[46]
"""

from __future__ import annotations

import errno
import random
import threading
import time
from collections import Counter
from typing import Any, Callable, Iterable

from .seesaw import EmulatedNeoTrellis

BITS_PER_BYTE = 9  # 8 data bits + ACK


def _hold(seconds: float) -> None:
    """Wait ``seconds`` accurately: sleep all but the last 0.3 ms, then spin to the deadline.

    ``time.sleep`` alone overshoots a 45 us transfer by ~50 us. The spin holds
    the GIL for at most 0.3 ms (a real ``ioctl`` would release it); the stock
    loop and the fast one pay the same.
    """
    deadline = time.perf_counter() + seconds
    if seconds > 0.0005:
        time.sleep(seconds - 0.0003)
    while time.perf_counter() < deadline:
        pass


class EmulatedI2C:
    """A bus of emulated seesaw boards; ``frequency`` in Hz turns the timing model on (None = instant)."""

    def __init__(self, devices: Iterable[EmulatedNeoTrellis] = (), *, frequency: int | None = None,
                 fault_rate: float = 0.0, seed: int = 0) -> None:
        self.frequency = frequency
        self.fault_rate = fault_rate
        self.transactions: Counter[tuple[int, str]] = Counter()
        self.faults_injected = 0
        self._devices: dict[int, EmulatedNeoTrellis] = {}
        self._random = random.Random(seed)
        self._planned: list[list[Any]] = []
        self._bus_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._line_lock = threading.RLock()
        self._int_level = False
        self._int_listeners: list[Callable[[bool], None]] = []
        for device in devices:
            self.add(device)

    def add(self, device: EmulatedNeoTrellis) -> EmulatedNeoTrellis:
        """Attach ``device`` at its address and wire its INT output to the line."""
        self._devices[device.address] = device
        device.on_int_change = self._int_changed
        self._int_changed()
        return device

    def board(self, address: int) -> EmulatedNeoTrellis:
        """The emulated device at ``address``."""
        return self._devices[address]

    # -- the busio.I2C surface --------------------------------------------

    def try_lock(self) -> bool:
        return self._bus_lock.acquire(blocking=False)

    def unlock(self) -> None:
        self._bus_lock.release()

    def scan(self) -> list[int]:
        return sorted(address for address, device in self._devices.items() if device.plugged)

    def writeto(self, address: int, buffer: Any, *, start: int = 0, end: int | None = None,
                stop: bool = True) -> None:
        data = bytes(buffer[start:end])
        self._transaction(address, "write", len(data))
        self._devices[address].write(data)

    def readfrom_into(self, address: int, buffer: Any, *, start: int = 0, end: int | None = None,
                      stop: bool = True) -> None:
        end = len(buffer) if end is None else end
        self._transaction(address, "read", end - start)
        buffer[start:end] = self._devices[address].read(end - start)

    def writeto_then_readfrom(self, address: int, buffer_out: Any, buffer_in: Any, *, out_start: int = 0,
                              out_end: int | None = None, in_start: int = 0, in_end: int | None = None,
                              stop: bool = False) -> None:
        self.writeto(address, buffer_out, start=out_start, end=out_end)
        self.readfrom_into(address, buffer_in, start=in_start, end=in_end)

    # -- faults ------------------------------------------------------------

    def fail(self, count: int = 1, *, address: int | None = None, kind: str | None = None) -> None:
        """Fail the next ``count`` transactions matching ``address`` and ``kind`` ("write"/"read")."""
        with self._state_lock:
            self._planned.append([count, address, kind])

    def _should_fail(self, address: int, kind: str) -> bool:
        with self._state_lock:
            for plan in self._planned:
                if plan[1] in (None, address) and plan[2] in (None, kind):
                    plan[0] -= 1
                    if plan[0] <= 0:
                        self._planned.remove(plan)
                    return True
            return self.fault_rate > 0 and self._random.random() < self.fault_rate

    def _transaction(self, address: int, kind: str, size: int) -> None:
        device = self._devices.get(address)
        if device is None or not device.plugged:
            self._nack(address)
        if self._should_fail(address, kind):
            with self._state_lock:
                self.faults_injected += 1
            self._nack(address)
        with self._state_lock:
            self.transactions[address, kind] += 1
        if self.frequency:
            _hold((1 + size) * BITS_PER_BYTE / self.frequency)

    def _nack(self, address: int) -> None:
        if self.frequency:
            _hold(BITS_PER_BYTE / self.frequency)  # only the address byte goes out
        raise OSError(errno.EREMOTEIO, f"Remote I/O error (emulated, address 0x{address:02X})")

    # -- the shared INT line -----------------------------------------------

    @property
    def int_asserted(self) -> bool:
        """True while any board pulls the shared, active-low INT line down."""
        return self._int_level

    def add_int_listener(self, listener: Callable[[bool], None]) -> None:
        """Call ``listener(asserted)`` on every change of the INT line."""
        with self._line_lock:
            self._int_listeners.append(listener)
            listener(self._int_level)

    def wire_int(self, pin: Any) -> None:
        """Drive a gpiozero ``MockPin`` like the real line: low while asserted, pulled high otherwise."""
        self.add_int_listener(lambda asserted: pin.drive_low() if asserted else pin.drive_high())

    def _int_changed(self) -> None:
        with self._line_lock:
            level = any(device.int_asserted for device in self._devices.values())
            if level == self._int_level:
                return
            self._int_level = level
            for listener in self._int_listeners:
                listener(level)
