"""The Pi's I2C bus for the adafruit libraries, with a lock that is safe across threads.

Blinka's ``busio.I2C`` guards the bus with a plain flag, which two threads
can both take; the grid brings its boards up on worker threads, so this
wraps Blinka's Linux I2C (``/dev/i2c-N`` through Adafruit_PureIO) with a
real lock. The bus clock is set by the kernel, not from Python
(``dtparam=i2c_arm_baudrate=`` in ``/boot/firmware/config.txt``); a
mismatch with the config is logged.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from .errors import HardwareError

log = logging.getLogger(__name__)


class LinuxI2C:
    """``/dev/i2c-<bus>`` with the ``busio.I2C`` surface ``adafruit_bus_device`` uses.

    >>> bus = LinuxI2C(1)            # doctest: +SKIP
    >>> [hex(a) for a in bus.scan()]  # doctest: +SKIP
    ['0x2e', '0x2f', '0x30', '0x31']
    """

    def __init__(self, bus: int, frequency: int | None = None) -> None:
        from adafruit_blinka.microcontroller.generic_linux.i2c import I2C

        try:
            self._i2c = I2C(bus)
        except (RuntimeError, OSError) as error:
            raise HardwareError(f"I2C bus {bus} (/dev/i2c-{bus}) cannot be opened: {error} "
                                "(enable I2C with `sudo raspi-config nonint do_i2c 0`)") from error
        self._lock = threading.Lock()
        if frequency is not None:
            _check_clock(bus, frequency)

    def try_lock(self) -> bool:
        return self._lock.acquire(blocking=False)

    def unlock(self) -> None:
        self._lock.release()

    def scan(self) -> list[int]:
        return self._i2c.scan()

    def writeto(self, address: int, buffer: Any, **kwargs: Any) -> None:
        self._i2c.writeto(address, buffer, **kwargs)

    def readfrom_into(self, address: int, buffer: Any, **kwargs: Any) -> None:
        self._i2c.readfrom_into(address, buffer, **kwargs)

    def writeto_then_readfrom(self, address: int, buffer_out: Any, buffer_in: Any, **kwargs: Any) -> None:
        self._i2c.writeto_then_readfrom(address, buffer_out, buffer_in, **kwargs)


def _check_clock(bus: int, frequency: int) -> None:
    node = Path(f"/sys/class/i2c-adapter/i2c-{bus}/of_node/clock-frequency")
    try:
        actual = int.from_bytes(node.read_bytes()[:4], "big")
    except OSError:
        return
    if actual != frequency:
        log.warning("I2C bus %d runs at %d Hz but the config says %d Hz: set dtparam=i2c_arm_baudrate=%d "
                    "in /boot/firmware/config.txt and reboot", bus, actual, frequency, frequency)
