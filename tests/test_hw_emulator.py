"""The seesaw and MCP3008 emulators, driven by the real adafruit and gpiozero libraries."""

from __future__ import annotations

import errno
from types import SimpleNamespace

import adafruit_neotrellis.multitrellis
import adafruit_neotrellis.neotrellis
import adafruit_seesaw.seesaw
import pytest
from adafruit_bus_device.i2c_device import I2CDevice
from adafruit_neotrellis.multitrellis import MultiTrellis
from adafruit_neotrellis.neotrellis import NeoTrellis
from gpiozero import MCP3008

from breakage_pi.hw.sim import EmulatedI2C, EmulatedMCP3008, EmulatedNeoTrellis, seesaw_key

ADDRESSES = (0x2E, 0x2F, 0x30, 0x31)


@pytest.fixture(autouse=True)
def fast_library(monkeypatch):
    """The library's fixed sleeps (0.5 s reset, 8 ms reads) patched out at module level."""
    monkeypatch.setattr(adafruit_seesaw.seesaw, "time", SimpleNamespace(sleep=lambda seconds: None))
    monkeypatch.setattr(adafruit_neotrellis.neotrellis, "sleep", lambda seconds: None)
    monkeypatch.setattr(adafruit_neotrellis.multitrellis, "sleep", lambda seconds: None)


@pytest.fixture
def bus():
    return EmulatedI2C([EmulatedNeoTrellis(address) for address in ADDRESSES])


def test_stock_multitrellis_runs_over_the_emulator(bus):
    trelli = [[NeoTrellis(bus, False, addr=address) for address in ADDRESSES]]
    grid = MultiTrellis(trelli)
    seen = []
    for x in range(16):
        for y in range(4):
            grid.activate_key(x, y, NeoTrellis.EDGE_RISING)
            grid.activate_key(x, y, NeoTrellis.EDGE_FALLING)
            grid.set_callback(x, y, lambda x, y, edge: seen.append((x, y, edge)))
    bus.board(0x30).press(5)
    bus.board(0x30).release(5)
    grid.sync()
    assert seen == [(9, 1, NeoTrellis.EDGE_RISING), (9, 1, NeoTrellis.EDGE_FALLING)]
    assert all(bus.board(address).resets == 1 for address in ADDRESSES)
    assert bus.board(0x2E).pixel_pin == 3


def test_pixels_are_latched_by_show_as_grb(bus):
    trellis = NeoTrellis(bus, addr=0x2F, auto_write=False)
    trellis.pixels[6] = (10, 20, 30)
    assert bus.board(0x2F).shown == b""  # nothing latched before show
    trellis.pixels.show()
    board = bus.board(0x2F)
    assert board.shown[18:21] == bytes([20, 10, 30])
    assert board.pixel(6) == (10, 20, 30)
    assert board.shows == 1
    assert board.register_writes[0x0E, 0x04] == 3  # 48 bytes in chunks of 22


def test_only_enabled_edges_are_queued_and_int_follows_the_fifo(bus):
    levels = []
    bus.add_int_listener(levels.append)
    trellis = NeoTrellis(bus, interrupt=True, addr=0x2E)
    board = bus.board(0x2E)
    board.press(3)
    assert board.queued == 0  # no edge enabled yet
    trellis.activate_key(3, NeoTrellis.EDGE_RISING)
    board.release(3)
    board.press(3)
    assert board.queued == 1 and bus.int_asserted
    assert trellis.count == 1
    assert list(trellis.read_keypad(3)) == [seesaw_key(3) << 2 | NeoTrellis.EDGE_RISING, 0xFF, 0xFF]
    assert not bus.int_asserted
    assert levels == [False, True, False]


def test_fifo_overflow_is_counted():
    board = EmulatedNeoTrellis(0x2E, fifo_size=2)
    board.write(bytes([0x10, 0x01, seesaw_key(0), 0b10001]))
    for _ in range(3):
        board.press(0)
        board.release(0)
    assert board.queued == 2 and board.dropped == 1


def test_planned_faults_raise_oserror_before_the_device_sees_them(bus):
    bus.fail(2, address=0x2F, kind="read")
    trellis = NeoTrellis(bus, addr=0x2E)
    bus.board(0x2F).write(bytes([0x10, 0x04]))
    buffer = bytearray(1)
    for _ in range(2):
        with pytest.raises(OSError) as caught:
            bus.readfrom_into(0x2F, buffer)
        assert caught.value.errno == errno.EREMOTEIO
    bus.readfrom_into(0x2F, buffer)
    assert bus.faults_injected == 2
    assert trellis.count == 0


def test_random_faults_follow_the_rate(bus):
    bus.fault_rate = 0.5
    failures = 0
    for _ in range(200):
        try:
            bus.writeto(0x2E, bytes([0x10, 0x04]))
        except OSError:
            failures += 1
    assert 50 < failures < 150 and bus.faults_injected == failures


def test_unplugged_board_stops_answering_and_powers_up_fresh(bus):
    trellis = NeoTrellis(bus, addr=0x31)
    board = bus.board(0x31)
    board.unplug()
    assert bus.scan() == [0x2E, 0x2F, 0x30]
    with pytest.raises(OSError):
        trellis.count
    with pytest.raises(ValueError, match="No I2C device"):
        I2CDevice(bus, 0x31)
    board.plug()
    assert board.pixel_pin is None and board.resets == 1  # registers reset by the power-up
    NeoTrellis(bus, addr=0x31)
    assert board.resets == 2 and board.pixel_pin == 3


def test_writeto_then_readfrom_reads_the_hardware_id(bus):
    answer = bytearray(1)
    bus.writeto_then_readfrom(0x30, bytes([0x00, 0x01]), answer)
    assert answer == bytes([0x55])


def test_real_mcp3008_reads_the_emulated_adc(factory):
    adc = EmulatedMCP3008()
    with MCP3008(channel=0) as first, MCP3008(channel=7) as last:
        adc.positions[0], adc.positions[7] = 0.0, 1.0
        assert (first.raw_value, last.raw_value) == (0, 1023)
        adc.positions[0] = 0.5
        assert first.raw_value == 512
        assert first.value == pytest.approx(0.5, abs=1 / 1023)
    assert adc.reads == 4
