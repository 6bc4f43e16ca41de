"""An emulated I2C bus that the real adafruit libraries accept in place of ``busio.I2C``.

It offers what ``adafruit_bus_device.I2CDevice`` calls (``try_lock``,
``unlock``, ``writeto``, ``readfrom_into``, ``writeto_then_readfrom``,
``scan``) and routes each transaction to the emulated device at the
address. Three extras make it a test and simulation rig:

- **time**: ``clock`` is the boards' firmware time. With a
  :class:`~breakage_pi.hw.sim.clock.ManualClock` the firmware runs as the
  clock is advanced (a test is then a discrete-event simulation); with the
  real clock (the default), :meth:`start` runs it on a thread of its own;
- **timing**: with ``frequency`` set, each transaction takes as long as its
  bytes (plus the address byte) take at 9 bits each, plus the chip's clock
  stretching: ``BYTE_STRETCH_S`` a byte while its ISR runs
  (``source/I2CSlave.cpp:427-483`` of adafruit/seesaw, one interrupt per
  byte; an estimate) and, whatever the frequency, the rest of an LED latch
  when a board is addressed during one. The Pi 4's controller mishandles
  stretching (the BCM2835 erratum), a reason to keep 100 kHz;
- **faults**: ``fault_rate`` fails that fraction of transactions at random
  (seeded), :meth:`fail` fails chosen ones; a fault raises
  ``OSError(EREMOTEIO)`` (what Linux raises on a NACK) before the device
  sees anything. A board busy answering a request NACKs its address the
  same way (counted in ``refusals``);
- **INT**: the boards' open-drain INT outputs are wired together; listeners
  (e.g. a gpiozero mock pin, see :meth:`wire_int`) hear every level change.

>>> from breakage_pi.hw.sim.seesaw import EmulatedNeoTrellis
>>> bus = EmulatedI2C([EmulatedNeoTrellis(0x2E)])
>>> bus.scan()
[46]
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any, Callable, Iterable

from .clock import ManualClock
from .seesaw import EmulatedNeoTrellis, refused

BITS_PER_BYTE = 9  # 8 data bits + ACK
BYTE_STRETCH_S = 5e-6  # estimate: the slave ISR's time a byte at 48 MHz, SCL held low meanwhile


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
                 fault_rate: float = 0.0, seed: int = 0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.frequency = frequency
        self.clock = clock
        self._manual = isinstance(clock, ManualClock)
        if isinstance(clock, ManualClock):
            clock.watch(self.catch_up)
        self._firmware: threading.Thread | None = None
        self._firmware_wake = threading.Event()
        self._stopping = threading.Event()
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
        """Attach ``device`` at its address, on this bus's clock, and wire its INT output to the line."""
        device.use_clock(self.clock)
        self._devices[device.address] = device
        device.on_int_change = self._int_changed
        self._int_changed()
        return device

    def board(self, address: int) -> EmulatedNeoTrellis:
        """The emulated device at ``address``."""
        return self._devices[address]

    @property
    def refusals(self) -> int:
        """Addresses NACKed by busy boards so far."""
        return sum(device.refusals for device in self._devices.values())

    # -- the firmware's time -----------------------------------------------

    def catch_up(self) -> None:
        """Run every board's firmware up to ``clock()`` (scans, answers); INT follows."""
        for device in list(self._devices.values()):
            device.catch_up()
        self._int_changed()

    def start(self) -> None:
        """On the real clock, run the boards' firmware (the 10 ms scans) on a thread until :meth:`close`."""
        if self._manual or self._firmware is not None:
            return
        self._stopping.clear()
        self._firmware = threading.Thread(target=self._run_firmware, name="seesaw-firmware", daemon=True)
        self._firmware.start()

    def close(self) -> None:
        """Stop the firmware thread, if running."""
        self._stopping.set()
        self._firmware_wake.set()
        if self._firmware is not None:
            self._firmware.join()
            self._firmware = None

    def __enter__(self) -> "EmulatedI2C":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run_firmware(self) -> None:
        while not self._stopping.is_set():
            self.catch_up()
            due = min((device.next_due() for device in self._devices.values()), default=self.clock() + 0.01)
            wait = due - self.clock()
            if wait > 0:
                self._firmware_wake.wait(wait)
                self._firmware_wake.clear()

    def _spend(self, seconds: float) -> None:
        """Let ``seconds`` of bus time pass: on a manual clock by advancing it, else by waiting."""
        if seconds <= 0:
            return
        if self._manual:
            self.clock.advance(seconds)  # type: ignore[attr-defined]
        else:
            _hold(seconds)

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
        try:
            self._devices[address].write(data)
        finally:
            self._after()

    def readfrom_into(self, address: int, buffer: Any, *, start: int = 0, end: int | None = None,
                      stop: bool = True) -> None:
        end = len(buffer) if end is None else end
        self._transaction(address, "read", end - start)
        buffer[start:end] = self._devices[address].read(end - start)
        self._after()

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
        """The address phase: refused, stretched or taken; then the bytes' time."""
        device = self._devices.get(address)
        if device is None or not device.plugged:
            self._nack(address, "no device")
        if self._should_fail(address, kind):
            with self._state_lock:
                self.faults_injected += 1
            self._nack(address, "injected fault")
        device.catch_up()
        self._spend(device.address_stretch())
        try:
            device.refuse_if_busy()
        except OSError:
            self._spend(self._byte_time(1))
            self._after()
            raise
        with self._state_lock:
            self.transactions[address, kind] += 1
        self._spend(self._byte_time(1 + size))

    def _byte_time(self, count: int) -> float:
        return count * (BITS_PER_BYTE / self.frequency + BYTE_STRETCH_S) if self.frequency else 0.0

    def _after(self) -> None:
        """A transaction ended: INT may have changed, and the firmware thread may have a new answer due."""
        self._int_changed()
        self._firmware_wake.set()

    def _nack(self, address: int, why: str) -> None:
        self._spend(self._byte_time(1))  # only the address byte goes out
        raise refused(address, why)

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
