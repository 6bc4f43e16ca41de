"""Asking a seesaw board who it is, without resetting it: for ``breakage-pi doctor``.

The library's constructor resets each chip (0.5 s, and it would disturb a
running grid); this reads only the status register's hardware id, with the
wait a seesaw needs between addressing a register and reading it.

>>> from breakage_pi.hw.sim import EmulatedI2C, EmulatedNeoTrellis
>>> hex(hardware_id(EmulatedI2C([EmulatedNeoTrellis(0x2E)]), 0x2E))
'0x55'
"""

from __future__ import annotations

import time
from typing import Any

from .errors import HardwareError

SEESAW_STATUS_HW_ID = bytes([0x00, 0x01])
NEOTRELLIS_HW_ID = 0x55                  # the SAMD09 the NeoTrellis seesaw firmware runs on
JUMPER_BASE_ADDRESS = 0x2E               # a NeoTrellis with no address jumper bridged
JUMPERS = ("A0", "A1", "A2", "A3", "A4")  # each bridged jumper adds 1, 2, 4, 8, 16


def hardware_id(bus: Any, address: int, delay_ms: float = 1.0) -> int | None:
    """The seesaw hardware id at ``address`` (0x55 for a NeoTrellis), or None when nothing answers."""
    while not bus.try_lock():
        time.sleep(0.001)
    try:
        bus.writeto(address, SEESAW_STATUS_HW_ID)
        time.sleep(delay_ms / 1000)
        answer = bytearray(1)
        bus.readfrom_into(address, answer)
    except OSError:
        return None
    finally:
        bus.unlock()
    return answer[0]


def jumpers_for(address: int) -> tuple[str, ...]:
    """The address jumpers to bridge on a NeoTrellis for ``address`` (0x2E-0x4D): ``0x31`` -> ``("A0", "A1")``."""
    offset = address - JUMPER_BASE_ADDRESS
    if not 0 <= offset < 2 ** len(JUMPERS):
        raise HardwareError(f"0x{address:02X} cannot be set with a NeoTrellis's jumpers (0x2E-0x4D)")
    return tuple(name for bit, name in enumerate(JUMPERS) if offset >> bit & 1)
