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

from breakage_pi.hw.sim import EmulatedI2C, EmulatedMCP3008, EmulatedNeoTrellis, ManualClock, seesaw_key
from breakage_pi.hw.sim.seesaw import KEYPAD_QUEUE, SCAN_PERIOD_S, SERVICE_S

ADDRESSES = (0x2E, 0x2F, 0x30, 0x31)


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture(autouse=True)
def library_on_the_clock(monkeypatch, clock):
    """The library's fixed sleeps (0.5 s reset, 8 ms reads) pass on the simulated clock."""
    monkeypatch.setattr(adafruit_seesaw.seesaw, "time", SimpleNamespace(sleep=clock.advance))
    monkeypatch.setattr(adafruit_neotrellis.neotrellis, "sleep", clock.advance)
    monkeypatch.setattr(adafruit_neotrellis.multitrellis, "sleep", clock.advance)


@pytest.fixture
def bus(clock):
    return EmulatedI2C([EmulatedNeoTrellis(address) for address in ADDRESSES], clock=clock)


def test_stock_multitrellis_runs_over_the_emulator(bus, clock):
    trelli = [[NeoTrellis(bus, False, addr=address) for address in ADDRESSES]]
    grid = MultiTrellis(trelli)
    seen = []
    for x in range(16):
        for y in range(4):
            grid.activate_key(x, y, NeoTrellis.EDGE_RISING)
            grid.activate_key(x, y, NeoTrellis.EDGE_FALLING)
            grid.set_callback(x, y, lambda x, y, edge: seen.append((x, y, edge)))
    bus.board(0x30).press(5)
    clock.advance(SCAN_PERIOD_S)
    bus.board(0x30).release(5)
    clock.advance(SCAN_PERIOD_S)
    grid.sync()
    assert seen == [(9, 1, NeoTrellis.EDGE_RISING), (9, 1, NeoTrellis.EDGE_FALLING)]
    assert all(bus.board(address).resets == 1 for address in ADDRESSES)
    assert bus.board(0x2E).pixel_pin == 3


def test_pixels_are_latched_by_show_as_grb(bus, clock):
    trellis = NeoTrellis(bus, addr=0x2F, auto_write=False)
    trellis.pixels[6] = (10, 20, 30)
    assert bus.board(0x2F).shown == b""  # nothing latched before show
    trellis.pixels.show()
    clock.advance(SERVICE_S)
    board = bus.board(0x2F)
    assert board.shown[18:21] == bytes([20, 10, 30])
    assert board.pixel(6) == (10, 20, 30)
    assert board.shows == 1
    assert board.register_writes[0x0E, 0x04] == 3  # 48 bytes in chunks of 22


def test_only_enabled_edges_are_queued_and_int_follows_the_fifo(bus, clock):
    levels = []
    bus.add_int_listener(levels.append)
    trellis = NeoTrellis(bus, interrupt=True, addr=0x2E)
    board = bus.board(0x2E)
    board.press(3)
    clock.advance(SCAN_PERIOD_S)
    assert board.queued == 0  # no edge enabled yet
    trellis.activate_key(3, NeoTrellis.EDGE_RISING)
    board.release(3)
    clock.advance(SCAN_PERIOD_S)
    board.press(3)
    assert board.queued == 0  # not before the next scan
    clock.advance(SCAN_PERIOD_S)
    assert board.queued == 1 and bus.int_asserted and levels == [False, True]
    assert trellis.count == 1
    assert list(trellis.read_keypad(3)) == [seesaw_key(3) << 2 | NeoTrellis.EDGE_RISING, 0xFF, 0xFF]


def ask(bus, clock, register, size=0):
    """Address a register (a request), let the chip answer, and read ``size`` bytes of the answer."""
    bus.writeto(0x2E, bytes(register))
    clock.advance(SERVICE_S)
    if size:
        answer = bytearray(size)
        bus.readfrom_into(0x2E, answer)
        return bytes(answer)
    return b""


@pytest.fixture
def keyed(bus, clock):
    """Board 0x2E with INT enabled and press and release of every key, as the grid asks."""
    trellis = NeoTrellis(bus, interrupt=True, addr=0x2E)
    for key in range(16):
        trellis.activate_key(key, NeoTrellis.EDGE_RISING)
        trellis.activate_key(key, NeoTrellis.EDGE_FALLING)
    clock.advance(SCAN_PERIOD_S)
    return bus.board(0x2E)


def test_int_is_released_by_addressing_the_queue_not_by_draining_it(bus, clock, keyed):
    keyed.press(3)
    clock.advance(SCAN_PERIOD_S)
    assert bus.int_asserted
    assert ask(bus, clock, (0x10, 0x04), 1) == b"\x01" and bus.int_asserted  # the count does not release
    ask(bus, clock, (0x10, 0x10))
    assert not bus.int_asserted and keyed.queued == 1  # addressed, not read: released
    clock.advance(SCAN_PERIOD_S)
    assert bus.int_asserted  # the next scan finds the queue not empty


def test_a_scan_between_addressing_the_queue_and_reading_it_leaves_int_low_over_nothing(bus, clock, keyed):
    keyed.press(7)
    clock.advance(keyed.next_scan_at - clock())
    ask(bus, clock, (0x10, 0x10))
    assert not bus.int_asserted
    clock.advance(keyed.next_scan_at - clock())  # the firmware scans before the read
    answer = bytearray(2)
    bus.readfrom_into(0x2E, answer)
    assert answer == bytes([seesaw_key(7) << 2 | 3, 0xFF]) and keyed.queued == 0
    assert bus.int_asserted  # low, with nothing to read
    ask(bus, clock, (0x10, 0x10))
    assert not bus.int_asserted


def test_turning_the_interrupt_off_does_not_release_int_a_reset_does(bus, clock, keyed):
    keyed.press(1)
    clock.advance(SCAN_PERIOD_S)
    bus.writeto(0x2E, bytes([0x10, 0x03, 0x01]))  # INTENCLR
    ask(bus, clock, (0x10, 0x10), 1)
    assert bus.int_asserted  # the clear is only posted while the interrupt is enabled
    bus.writeto(0x2E, bytes([0x00, 0x7F, 0xFF]))  # software reset
    assert not bus.int_asserted


def test_a_tap_shorter_than_a_scan_can_go_unseen_a_longer_one_cannot(bus, clock, keyed):
    clock.advance(keyed.next_scan_at - clock() + 0.001)  # 1 ms after a scan
    keyed.press(2)
    clock.advance(0.005)
    keyed.release(2)
    clock.advance(0.050)
    assert keyed.queued == 0
    keyed.press(2)
    clock.advance(0.015)
    keyed.release(2)
    clock.advance(0.050)
    assert ask(bus, clock, (0x10, 0x10), 3) == bytes([seesaw_key(2) << 2 | 3, seesaw_key(2) << 2 | 2, 0xFF])


def test_writes_past_31_data_bytes_are_refused(bus, clock):
    NeoTrellis(bus, addr=0x2E)
    board = bus.board(0x2E)
    bus.writeto(0x2E, bytes([0x0E, 0x04, 0, 0]) + bytes(range(1, 30)))  # 31 after the register: taken
    with pytest.raises(OSError) as caught:
        bus.writeto(0x2E, bytes([0x0E, 0x04, 0, 0]) + bytes(range(101, 131)))  # 32
    assert caught.value.errno == errno.EREMOTEIO
    ask(bus, clock, (0x0E, 0x05))
    assert board.shown[:30] == bytes(range(101, 130)) + bytes([0])  # what fitted was applied


def test_a_software_reset_keeps_the_led_pin_length_and_colours(bus, clock):
    trellis = NeoTrellis(bus, addr=0x2E, auto_write=False)
    trellis.pixels[4] = (1, 2, 3)
    trellis.pixels.show()
    clock.advance(SERVICE_S)
    board = bus.board(0x2E)
    bus.writeto(0x2E, bytes([0x00, 0x7F, 0xFF]))
    assert board.pixel_pin == 3 and board.pixel(4) == (1, 2, 3) and board.resets == 2
    ask(bus, clock, (0x0E, 0x05))  # the buffer was cleared by the reset; the length stayed
    assert board.shown == bytes(48)


def test_an_led_latch_stretches_the_clock_and_a_busy_chip_refuses_its_address(clock):
    bus = EmulatedI2C([EmulatedNeoTrellis(0x2E)], clock=clock, frequency=100_000)
    trellis = NeoTrellis(bus, addr=0x2E, auto_write=False)
    trellis.pixels.show()
    with pytest.raises(OSError):
        bus.writeto(0x2E, bytes([0x10, 0x04]))  # the show request is still being answered
    clock.advance(SERVICE_S)
    before = clock()
    bus.writeto(0x2E, bytes([0x10, 0x04]))  # during the 0.48 ms latch: held until it ends
    assert clock() - before > 0.0004


def test_the_queue_holds_127_events_and_counts_the_rest(clock):
    board = EmulatedNeoTrellis(0x2E, clock=clock)
    board.write(bytes([0x10, 0x01, seesaw_key(0), 0b11001]))  # rising and falling
    for _ in range(64):
        board.press(0)
        clock.advance(SCAN_PERIOD_S)
        board.catch_up()
        board.release(0)
        clock.advance(SCAN_PERIOD_S)
        board.catch_up()
    assert board.queued == KEYPAD_QUEUE == 127 and board.dropped == 1


def test_planned_faults_raise_oserror_before_the_device_sees_them(bus, clock):
    bus.fail(2, address=0x2F, kind="read")
    trellis = NeoTrellis(bus, addr=0x2E)
    bus.board(0x2F).write(bytes([0x10, 0x04]))
    clock.advance(SERVICE_S)
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
            bus.writeto(0x2E, bytes([0x10, 0x02, 0x01]))  # a register write: the chip is never busy
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


def test_writeto_then_readfrom_without_a_wait_is_refused_and_with_one_reads_the_id(bus, clock):
    answer = bytearray(1)
    with pytest.raises(OSError) as caught:
        bus.writeto_then_readfrom(0x30, bytes([0x00, 0x01]), answer)  # a repeated start: no time to answer
    assert caught.value.errno == errno.EREMOTEIO and bus.refusals == 1
    clock.advance(SERVICE_S)
    bus.writeto(0x30, bytes([0x00, 0x01]))
    clock.advance(SERVICE_S)
    bus.readfrom_into(0x30, answer)
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
