"""An emulated MCP3008 ADC on gpiozero's mock SPI pins, so the real ``gpiozero.MCP3008`` reads it.

Built on ``gpiozero.pins.mock.MockSPIDevice`` the way gpiozero's own test
suite emulates its ADCs: the device watches the bit-banged clock, decodes
the start bit, single/differential bit and channel, then shifts out a null
bit and the 10-bit result. Positions are pot travel 0-1 (raw 0-1023).

>>> from gpiozero import Device, MCP3008
>>> from gpiozero.pins.mock import MockFactory
>>> Device.pin_factory = MockFactory()
>>> adc = EmulatedMCP3008()
>>> adc.positions[2] = 1.0
>>> MCP3008(channel=2).raw_value
1023
"""

from __future__ import annotations

from typing import Any

from gpiozero.pins.mock import MockSPIDevice

CHANNELS = 8
BITS = 10
SPI0_PINS = {0: (11, 10, 9, 8), 1: (11, 10, 9, 7)}  # clock, MOSI, MISO, select per chip select


class EmulatedMCP3008(MockSPIDevice):
    """Eight single-ended channels; set ``positions[channel]`` (0-1) to turn a pot.

    ``device`` is the SPI0 chip select (0 or 1) the real driver opens.
    """

    def __init__(self, device: int = 0, *, pin_factory: Any = None) -> None:
        super().__init__(*SPI0_PINS[device], pin_factory=pin_factory)
        self.positions = [0.0] * CHANNELS
        self.reads = 0
        self._state = "idle"

    def raw(self, channel: int) -> int:
        """The 10-bit code for ``channel``'s position."""
        return round(min(max(self.positions[channel], 0.0), 1.0) * (2 ** BITS - 1))

    def on_start(self) -> None:
        super().on_start()
        self._state = "idle"

    def on_bit(self) -> None:
        if self._state == "idle":
            if self.rx_buf[-1]:  # the start bit
                self._state = "command"
                self.rx_buf = []
        elif self._state == "command" and len(self.rx_buf) == 4:
            single, channel = self.rx_buf[0], self.rx_word() & 0b111
            # differential reads are not wired on the instrument: they read 0
            self.tx_word(self.raw(channel) if single else 0, BITS + 2)
            self.reads += 1
            self._state = "result"
