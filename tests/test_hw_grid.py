"""The grid driver: the real adafruit_neotrellis over the emulated bus, INT on a gpiozero mock pin."""

from __future__ import annotations

import dataclasses
import threading
import time
from types import SimpleNamespace

import adafruit_neotrellis.multitrellis
import adafruit_neotrellis.neotrellis
import adafruit_seesaw.seesaw
import numpy as np
import pytest
from adafruit_neotrellis.multitrellis import MultiTrellis
from adafruit_neotrellis.neotrellis import NeoTrellis
from gpiozero.pins.mock import MockFactory

from breakage_pi.cli.config_file import GridConfig
from breakage_pi.core.events import DeviceStatus, PadEvent, blank_frame
from breakage_pi.core.errors import FormatError
from breakage_pi.hw import Grid, HardwareError
from breakage_pi.hw.sim import EmulatedI2C, EmulatedNeoTrellis, ManualClock
from breakage_pi.hw.leds import BUF_WRITE_MAX, WRITE_OVERHEAD, buffer_writes, pixel_bytes
from breakage_pi.hw.sim.seesaw import SCAN_PERIOD_S

ADDRESSES = (0x2E, 0x2F, 0x30, 0x31)
INT_PIN = 17
NEOPIXEL_BASE = 0x0E


def pad(bus, row, column):
    """The emulated board and key under grid pad (row, column), counted independently of the driver."""
    return bus.board(ADDRESSES[column // 4]), row * 4 + column % 4


@pytest.fixture
def clock():
    return ManualClock()


def patch_library_sleep(monkeypatch, sleep):
    monkeypatch.setattr(adafruit_seesaw.seesaw, "time", SimpleNamespace(sleep=sleep))
    monkeypatch.setattr(adafruit_neotrellis.neotrellis, "sleep", sleep)
    monkeypatch.setattr(adafruit_neotrellis.multitrellis, "sleep", sleep)


@pytest.fixture(autouse=True)
def library_on_the_clock(monkeypatch, clock):
    """The library's fixed sleeps (0.5 s reset, 8 ms reads) pass on the simulated clock, not the wall's."""
    patch_library_sleep(monkeypatch, clock.advance)


def wait_until(condition, then=lambda: time.sleep(0.001), seconds=10.0, why=""):
    """Call ``then`` until ``condition()`` holds; fail after ``seconds`` of real time."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, why
        then()


class Rig:
    """Four emulated boards, INT wired to a mock pin, a Grid stepped by hand on a simulated clock.

    ``clock`` is a ManualClock shared by the boards' firmware and the grid
    (its waits advance it). Without one the rig runs in real time, the
    firmware on its own thread, for the grid's own thread.
    """

    def __init__(self, clock=None, int_pin=INT_PIN, sink=None, frequency=None, **config):
        self.factory = MockFactory()
        self.clock = clock
        bus_clock = {"clock": clock} if clock is not None else {}
        self.bus = EmulatedI2C([EmulatedNeoTrellis(address) for address in ADDRESSES], frequency=frequency,
                               **bus_clock)
        if int_pin is not None:
            self.bus.wire_int(self.factory.pin(int_pin))
        self.events = []
        self.config = GridConfig(int_pin=int_pin, brightness=1.0, **config)
        timing = {"clock": clock, "sleep": clock.advance} if clock is not None else {}
        self.bus.start()
        self.grid = Grid(self.config, self.bus, sink or self.events.append, pin_factory=self.factory, **timing)

    @property
    def now(self):
        return self.clock()

    def scan(self):
        """Let every board's firmware scan its keys once, then let the grid read them."""
        self.clock.advance(SCAN_PERIOD_S)
        self.grid.step()

    def bring_up(self):
        wait_until(lambda: all(self.grid.online), then=lambda: (self.grid.step(), time.sleep(0.001)),
                   why="boards did not come up")
        self.events.clear()

    def settle(self, steps=20):
        """Step the grid, letting 0.1 ms pass after each step (the chips answer and latch)."""
        for _ in range(steps):
            self.grid.step()
            self.clock.advance(0.0001)

    def pressed(self, row, column, pressed=True):
        """Press (or release) a pad and let the firmware and the grid see it."""
        board, key = pad(self.bus, row, column)
        (board.press if pressed else board.release)(key)
        self.scan()

    def pads(self):
        return [event for event in self.events if isinstance(event, PadEvent)]

    def statuses(self):
        return [event for event in self.events if isinstance(event, DeviceStatus)]

    def close(self):
        self.grid.close()
        self.bus.close()
        self.factory.reset()


@pytest.fixture
def rig(clock):
    rig = Rig(clock)
    rig.bring_up()
    yield rig
    rig.close()


@pytest.fixture
def real_time(monkeypatch):
    """The library's sleeps cut to 1 ms of real time, long enough for the chips to answer."""
    patch_library_sleep(monkeypatch, lambda seconds: time.sleep(min(seconds, 0.001)))


def test_boards_come_up_reporting_each_one(rig):
    assert rig.grid.online == (True,) * 4
    assert all(rig.bus.board(address).resets == 1 for address in ADDRESSES)


def test_every_pad_arrives_with_its_row_and_column(rig):
    for row in range(4):
        for column in range(16):
            rig.pressed(row, column)
            assert rig.pads()[-1] == PadEvent(row, column, True, rig.now)
            rig.pressed(row, column, False)
            assert rig.pads()[-1] == PadEvent(row, column, False, rig.now)
    assert len(rig.pads()) == 128 and rig.grid.stats.events == 128


def test_the_pad_mapping_agrees_with_the_librarys_multitrellis(clock):
    bus = EmulatedI2C([EmulatedNeoTrellis(address) for address in ADDRESSES], clock=clock)
    grid = MultiTrellis([[NeoTrellis(bus, False, addr=address) for address in ADDRESSES]])
    seen = []
    for x in range(16):
        for y in range(4):
            grid.activate_key(x, y, NeoTrellis.EDGE_RISING)
            grid.set_callback(x, y, lambda x, y, edge: seen.append((y, x)))
    for row in range(4):
        for column in range(16):
            board, key = pad(bus, row, column)
            board.press(key)
            clock.advance(SCAN_PERIOD_S)
            grid.sync()
            assert seen[-1] == (row, column)


def test_an_idle_grid_costs_no_bus_time_until_the_safety_scan(rig):
    before = sum(rig.bus.transactions.values())
    for _ in range(50):
        assert rig.grid.step() > 0
    assert sum(rig.bus.transactions.values()) == before
    rig.clock.advance(rig.config.safety_scan_ms / 1000)
    scans = rig.grid.stats.scans
    rig.grid.step()
    assert rig.grid.stats.scans == scans + 1


def test_a_stuck_int_line_backs_off_to_polling_after_trying_to_release_it(rig, caplog):
    rig.bus.board(0x30).int_stuck = True
    rig.bus.catch_up()
    for _ in range(3):  # a scan finds nothing; addressing the queues does not release it; once more
        rig.grid.step()
    assert rig.grid.stats.int_releases == 2 and "INT line stays low" in caplog.text
    scans = rig.grid.stats.scans
    waits = [rig.grid.step() for _ in range(20)]
    assert rig.grid.stats.scans == scans
    assert max(waits) <= rig.config.poll_ms / 1000 and min(waits) > 0
    rig.clock.advance(max(waits))
    rig.grid.step()
    assert rig.grid.stats.scans == scans + 1


def test_without_an_int_wire_the_grid_polls(clock):
    rig = Rig(clock, int_pin=None)
    try:
        rig.bring_up()
        board, key = pad(rig.bus, 2, 13)
        board.press(key)
        rig.clock.advance(SCAN_PERIOD_S)  # longer than poll_ms: a poll is due
        rig.grid.step()
        assert rig.pads() == [PadEvent(2, 13, True, rig.now)]
    finally:
        rig.close()


def random_frame(seed):
    return np.random.default_rng(seed).integers(0, 256, size=(4, 16, 3), dtype=np.uint8)


def test_led_frames_land_as_grb_bytes_on_the_right_pixels(rig):
    frame = random_frame(1)
    rig.grid.show(frame)
    rig.settle()
    for row in range(4):
        for column in range(16):
            board, key = pad(rig.bus, row, column)
            red, green, blue = frame[row, column].tolist()
            assert board.shown[3 * key:3 * key + 3] == bytes([green, red, blue])


def led_writes_on_the_bus(bus, monkeypatch):
    """Every NeoPixel write the bus carries, as (address, bytes after the address byte), counted at the bus."""
    log = []
    writeto = bus.writeto

    def logged(address, buffer, *, start=0, end=None, stop=True):
        data = bytes(buffer[start:end])
        if data[:1] == bytes([NEOPIXEL_BASE]):
            log.append((address, data))
        writeto(address, buffer, start=start, end=end, stop=stop)

    monkeypatch.setattr(bus, "writeto", logged)
    return log


def test_a_frame_changing_one_pixel_writes_only_that_pixels_bytes(rig, monkeypatch):
    frame = random_frame(2)
    rig.grid.show(frame)
    rig.settle()
    log = led_writes_on_the_bus(rig.bus, monkeypatch)
    frame[3, 9] = (1, 2, 3)  # board 2, key 13: buffer bytes 39-41
    rig.clock.advance(1.0)
    rig.grid.show(frame)
    rig.settle()
    assert log == [(0x30, bytes([NEOPIXEL_BASE, 0x04, 0, 39, 2, 1, 3])), (0x30, bytes([NEOPIXEL_BASE, 0x05]))]
    assert sum(1 + len(data) for _, data in log) == 11  # bus bytes, address bytes included (the whole board: 66)
    assert rig.bus.board(0x30).pixel(13) == (1, 2, 3)
    for row in range(4):
        for column in range(16):
            board, key = pad(rig.bus, row, column)
            assert board.pixel(key) == tuple(frame[row, column].tolist())


def test_changed_bytes_go_in_the_writes_with_the_fewest_bus_bytes():
    def changed(*indices):
        return bytes(48), bytes(1 if index in indices else 0 for index in range(48))

    assert buffer_writes(*changed()) == []
    assert buffer_writes(*changed(0, 1, 2, 45, 46, 47)) == [(0, 3), (45, 48)]  # keys 0 and 15: two writes
    assert buffer_writes(*changed(0, 6)) == [(0, 7)]  # a 5-byte gap costs what a second write costs: one write
    assert buffer_writes(*changed(0, 7)) == [(0, 1), (7, 8)]
    whole = buffer_writes(None, bytes(48))  # unknown: every byte, 29 a write at most
    assert len(whole) == 2 and whole[0][0] == 0 and whole[-1][1] == 48 and whole[0][1] == whole[1][0]
    assert all(end - start <= BUF_WRITE_MAX for start, end in whole)
    rng = np.random.default_rng(0)
    for _ in range(200):  # never worse than one write per changed run, nor than one covering write
        held, wanted = (rng.integers(0, 2, 48).astype(np.uint8).tobytes() for _ in range(2))
        spans = buffer_writes(held, wanted)
        covered = {index for start, end in spans for index in range(start, end)}
        diff = [index for index in range(48) if held[index] != wanted[index]]
        assert set(diff) <= covered and all(end - start <= BUF_WRITE_MAX for start, end in spans)
        runs = sum(1 for index in diff if index - 1 not in diff)
        cost = sum(WRITE_OVERHEAD + end - start for start, end in spans)
        assert cost <= WRITE_OVERHEAD * runs + len(diff) + WRITE_OVERHEAD * (len(diff) // BUF_WRITE_MAX)
        if diff and diff[-1] - diff[0] < BUF_WRITE_MAX:
            assert cost <= WRITE_OVERHEAD + diff[-1] - diff[0] + 1


def test_pixel_bytes_are_what_the_librarys_show_sends(clock):
    bus = EmulatedI2C([EmulatedNeoTrellis(0x2E)], clock=clock)
    trellis = NeoTrellis(bus, addr=0x2E, brightness=0.5, auto_write=False)
    colours = random_frame(10)[:, :4].reshape(16, 3)
    trellis.pixels[0:16] = [tuple(colour) for colour in colours.tolist()]
    trellis.pixels.show()
    clock.advance(0.001)
    assert pixel_bytes(colours, trellis.pixels) == bus.board(0x2E).shown


def test_a_frame_changing_every_pixel_ends_with_the_right_colours_on_every_board(rig, monkeypatch):
    rig.grid.show(random_frame(3))
    rig.settle()
    log = led_writes_on_the_bus(rig.bus, monkeypatch)
    rig.clock.advance(1.0)
    for seed in (4, 5, 6):  # three frames before the grid draws: only the newest reaches the LEDs
        rig.grid.show(random_frame(seed))
    rig.settle(40)
    newest = random_frame(6)
    for row in range(4):
        for column in range(16):
            board, key = pad(rig.bus, row, column)
            assert board.pixel(key) == tuple(newest[row, column].tolist())
    assert all(len(data) - 4 <= 29 for _, data in log)  # the firmware keeps 31 bytes after the register pair
    assert [address for address, data in log if data[1] == 0x05] == list(ADDRESSES)  # one show per board
    assert sum(1 + len(data) for _, data in log) <= 4 * 66


def test_a_key_press_during_an_led_burst_is_read_before_the_burst_ends(clock):
    led_writes_at_event = []

    def sink(event):
        rig.events.append(event)
        led_writes_at_event.append(rig.grid.stats.led_writes)

    rig = Rig(clock, frequency=100_000, sink=sink)
    try:
        rig.bring_up()
        frame = random_frame(8)
        rig.grid.show(frame)
        rig.clock.advance(rig.grid.step())  # the burst has begun: ~23 ms of LED writes at 100 kHz
        board, key = pad(rig.bus, 1, 14)  # the last board drawn
        board.press(key)
        writes_when_int_fell = None
        while not rig.pads():
            if rig.bus.int_asserted and writes_when_int_fell is None:
                writes_when_int_fell = rig.grid.stats.led_writes
            rig.clock.advance(max(1e-5, rig.grid.step()))
        assert [(e.row, e.column, e.pressed) for e in rig.pads()] == [(1, 14, True)]
        assert 0 < writes_when_int_fell == led_writes_at_event[-1]  # no LED write went between INT and the read
        assert rig.grid.stats.board_writes < 4  # the frame is still being drawn
        rig.settle(40)
        assert rig.grid.stats.board_writes == 4
        assert all(pad(rig.bus, row, column)[0].pixel(pad(rig.bus, row, column)[1])
                   == tuple(frame[row, column].tolist()) for row in range(4) for column in range(16))
    finally:
        rig.close()


def test_a_key_read_refused_during_a_show_is_retried_and_not_counted_against_the_board(clock):
    rig = Rig(clock, frequency=100_000)
    try:
        rig.bring_up()
        frame = random_frame(9)
        rig.grid.show(frame)
        rig.settle(40)
        rig.clock.advance(1.0)
        frame[0, 1] = (7, 7, 7)  # board 0 only: one buffer write, then a show
        rig.grid.show(frame)
        rig.grid.step()
        assert rig.grid.stats.led_writes % 2 == 1  # the buffer write went; the show is next
        board, key = pad(rig.bus, 0, 2)
        board.press(key)
        rig.clock.advance(board.next_scan_at - rig.now - 100e-6)  # the scan falls during the 0.29 ms show
        rig.grid.step()
        assert rig.bus.int_asserted and rig.bus.refusals == 0
        rig.grid.step()  # addresses board 0 while it answers the show: NACKed, retried after a wait
        assert rig.bus.refusals >= 1 and rig.grid.stats.glitches >= 1
        assert rig.pads() == [PadEvent(0, 2, True, rig.now)]
        assert rig.grid.stats.offline == 0 and rig.grid._boards[0].failures == 0
    finally:
        rig.close()


def test_frames_are_written_at_most_max_fps(rig):
    rig.grid.show(random_frame(3))
    rig.settle()
    writes = rig.grid.stats.board_writes
    started = rig.now
    rig.grid.show(random_frame(4))
    rig.grid.step()
    assert rig.grid.stats.board_writes == writes
    rig.clock.advance(1 / rig.config.max_fps - (rig.now - started))
    rig.settle()
    assert rig.grid.stats.board_writes == writes + 4


def test_a_bad_frame_is_refused(clock):
    rig = Rig(clock)
    try:
        with pytest.raises(FormatError, match="shape"):
            rig.grid.show(np.zeros((16, 4, 3), dtype=np.uint8))
        with pytest.raises(FormatError, match="uint8"):
            rig.grid.show(np.zeros((4, 16, 3)))
    finally:
        rig.close()


def test_one_percent_i2c_faults_lose_no_press_and_crash_nothing(rig):
    rig.bus.fault_rate = 0.01
    expected = []
    rng = np.random.default_rng(5)
    for round_ in range(6):
        for row, column in rng.permutation([(r, c) for r in range(4) for c in range(16)]).tolist():
            board, key = pad(rig.bus, row, column)
            for pressed in (True, False):
                (board.press if pressed else board.release)(key)
                expected.append((row, column, pressed))
                rig.clock.advance(SCAN_PERIOD_S)
                for _ in range(10):
                    rig.grid.step()
                    if not rig.bus.int_asserted:
                        break
        rig.grid.show(random_frame(round_))
        rig.clock.advance(0.1)
        rig.settle()
    assert [(e.row, e.column, e.pressed) for e in rig.pads()] == expected
    assert rig.bus.faults_injected > 20
    assert rig.grid.stats.glitches == rig.bus.faults_injected + rig.bus.refusals
    assert rig.grid.stats.offline == 0 and rig.statuses() == []
    frame = random_frame(5)
    assert all(pad(rig.bus, r, c)[0].pixel(pad(rig.bus, r, c)[1]) == tuple(frame[r, c].tolist())
               for r in range(4) for c in range(16))


def test_an_unplugged_board_is_reported_its_pads_released_and_it_recovers(rig):
    frame = random_frame(6)
    rig.grid.show(frame)
    rig.settle()
    held_board, held_key = pad(rig.bus, 1, 5)
    rig.pressed(1, 5)
    held_board.unplug()
    for _ in range(rig.config.offline_after):
        rig.clock.advance(rig.config.safety_scan_ms / 1000)
        rig.grid.step()
    assert rig.grid.online == (True, False, True, True)
    assert rig.statuses()[-1].device == "grid board 1 (0x2F)" and not rig.statuses()[-1].online
    assert rig.pads()[-1] == PadEvent(1, 5, False, rig.now)  # the held pad is let go

    rig.pressed(3, 0)  # the rest of the grid keeps working
    assert rig.pads()[-1] == PadEvent(3, 0, True, rig.now)

    attempts = rig.grid.stats.connects
    rig.clock.advance(rig.config.reconnect_s)
    wait_until(lambda: rig.grid.stats.connects > attempts, then=rig.grid.step)  # the retry (a worker thread) ended
    assert rig.grid.online == (True, False, True, True)  # still unplugged: retried, not reported again
    assert len([s for s in rig.statuses() if not s.online]) == 1

    held_board.plug()
    rig.clock.advance(rig.config.reconnect_s)
    wait_until(lambda: all(rig.grid.online), then=rig.grid.step)
    assert rig.statuses()[-1].device == "grid board 1 (0x2F)" and rig.statuses()[-1].online
    rig.settle()
    assert held_board.pixel(held_key) == tuple(frame[1, 5].tolist())  # its LEDs are redrawn
    rig.pressed(1, 5)
    assert rig.pads()[-1] == PadEvent(1, 5, True, rig.now)


def test_a_board_missing_at_start_is_reported_and_joins_later(clock):
    rig = Rig(clock)
    try:
        rig.bus.board(0x31).unplug()
        wait_until(lambda: rig.grid.online == (True, True, True, False) and len(rig.statuses()) >= 4,
                   then=rig.grid.step)
        missing = [s for s in rig.statuses() if not s.online]
        assert [s.device for s in missing] == ["grid board 3 (0x31)"]
        assert "No I2C device" in missing[0].detail
        rig.bus.board(0x31).plug()
        rig.clock.advance(rig.config.reconnect_s)
        wait_until(lambda: all(rig.grid.online), then=rig.grid.step)
    finally:
        rig.close()


def test_boards_reset_in_parallel(monkeypatch, clock):
    barrier = threading.Barrier(len(ADDRESSES), timeout=10)

    def reset_sleep(seconds):
        if seconds == 0.5:  # the library's post-reset sleep: all four must be in it at once
            barrier.wait()
        clock.advance(seconds)

    monkeypatch.setattr(adafruit_seesaw.seesaw, "time", SimpleNamespace(sleep=reset_sleep))
    rig = Rig(clock)
    try:
        rig.grid.start()
        wait_until(lambda: all(rig.grid.online), why="boards did not come up in parallel")
        assert all(status.online for status in rig.statuses())
    finally:
        rig.close()


def test_the_grid_thread_delivers_presses_and_frames(real_time):
    rig = Rig()
    try:
        rig.grid.start()
        wait_until(lambda: all(rig.grid.online))
        board, key = pad(rig.bus, 0, 15)
        board.press(key)
        wait_until(rig.pads)
        assert (rig.pads()[0].row, rig.pads()[0].column, rig.pads()[0].pressed) == (0, 15, True)
        frame = blank_frame()
        frame[0, 15] = (9, 8, 7)
        rig.grid.show(frame)
        wait_until(lambda: board.pixel(key) == (9, 8, 7))
    finally:
        rig.close()


def test_the_grid_thread_survives_a_failing_sink(real_time):
    failures, events = [], []

    def sink(event):
        if isinstance(event, PadEvent) and not failures:
            failures.append(event)
            raise RuntimeError("a buggy consumer")
        events.append(event)

    rig = Rig(sink=sink)
    rig.events = events
    try:
        rig.grid.start()
        wait_until(lambda: all(rig.grid.online))
        board, key = pad(rig.bus, 2, 2)
        board.press(key)
        wait_until(lambda: failures)
        board.release(key)
        wait_until(lambda: len(rig.pads()) >= 1)
        board.press(key)
        wait_until(lambda: len(rig.pads()) >= 2)
        assert [e.pressed for e in rig.pads()] == [False, True]
    finally:
        rig.close()


def test_the_int_pin_needs_a_pin_factory(monkeypatch):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    bus = EmulatedI2C([EmulatedNeoTrellis(address) for address in ADDRESSES])
    with pytest.raises(HardwareError, match="grid INT pin GPIO17"):
        Grid(dataclasses.replace(GridConfig(), int_pin=INT_PIN), bus, print)


def test_events_behind_a_silent_int_line_are_found_and_the_wire_blamed(rig, caplog):
    rig.bus._int_listeners.clear()  # the INT wire is cut: the pin stays high
    rig.pressed(0, 0)
    rig.settle()
    assert rig.pads() == []
    rig.clock.advance(rig.config.safety_scan_ms / 1000)
    rig.grid.step()
    assert rig.pads() == [PadEvent(0, 0, True, rig.now)]
    assert "check the INT wire to GPIO17" in caplog.text


def test_a_scan_between_addressing_and_reading_the_queue_is_recovered_within_a_poll(rig, caplog):
    board, key = pad(rig.bus, 1, 6)
    board.press(key)
    rig.clock.advance(board.next_scan_at - rig.now)  # INT falls at this scan
    rig.clock.advance(SCAN_PERIOD_S - 0.001)  # the grid comes late: the next scan lands in its FIFO wait
    rig.grid.step()
    assert rig.pads()[-1].pressed and rig.bus.int_asserted and board.queued == 0
    started = rig.now
    while rig.bus.int_asserted:
        rig.grid.step()
        assert rig.now - started < rig.config.poll_ms / 1000
    assert "stuck" not in caplog.text and "stays low" not in caplog.text
    edges = rig.grid._int_edges
    rig.pressed(1, 6, False)  # the next press makes a falling edge again and arrives at once
    assert rig.grid._int_edges == edges + 1 and rig.pads()[-1] == PadEvent(1, 6, False, rig.now)


def test_a_127_event_burst_is_read_in_full(rig):
    board = rig.bus.board(ADDRESSES[0])
    expected = []
    for round_ in range(8):  # 8 scans x 16 keys, one edge each: 128 edges, the queue keeps 127
        pressed = round_ % 2 == 0
        for key in range(16):
            (board.press if pressed else board.release)(key)
            expected.append((key // 4, key % 4, pressed))
        rig.clock.advance(SCAN_PERIOD_S)
    assert board.queued == 127 and board.dropped == 1
    rig.grid.step()
    assert [(e.row, e.column, e.pressed) for e in rig.pads()] == expected[:127]


def test_led_traffic_at_30_fps_beside_fast_pressing_never_takes_a_board_offline(clock):
    rig = Rig(clock, frequency=100_000)
    try:
        rig.bring_up()
        rng = np.random.default_rng(9)
        end = rig.now + 2.99  # 30 edges a board: the last due at +2.975 s
        next_frame = rig.now
        next_press = {index: rig.now + index * 0.025 for index in range(4)}  # each board: 10 edges a second
        held = {index: None for index in range(4)}
        expected = []
        while rig.now < end:
            if rig.now >= next_frame:
                rig.grid.show(random_frame(int(rng.integers(1 << 30))))
                next_frame += 1 / 30
            for index, due in next_press.items():
                if rig.now >= due:
                    board = rig.bus.board(ADDRESSES[index])
                    if held[index] is None:
                        held[index] = int(rng.integers(16))
                        board.press(held[index])
                        expected.append((held[index] // 4, 4 * index + held[index] % 4, True))
                    else:
                        board.release(held[index])
                        expected.append((held[index] // 4, 4 * index + held[index] % 4, False))
                        held[index] = None
                    next_press[index] = due + 0.1
            wait = rig.grid.step()
            rig.clock.advance(max(1e-5, min(wait, next_frame - rig.now, min(next_press.values()) - rig.now)))
        rig.clock.advance(0.05)
        rig.settle()
        assert rig.grid.stats.glitches >= rig.bus.refusals
        assert rig.grid.stats.offline == 0 and rig.statuses() == []
        assert sorted((e.row, e.column, e.pressed) for e in rig.pads()) == sorted(expected)
        assert len(expected) == 4 * 30
        assert rig.grid.stats.board_writes >= 4 * 60, rig.grid.stats  # the bus is near full at 100 kHz
    finally:
        rig.close()


def test_an_unexpected_driver_exception_is_a_counted_fault_of_that_board(rig, monkeypatch, caplog):
    trellis = rig.grid._boards[2].trellis

    write = trellis.write

    def broken_led_writes(base, register, buffer=None):
        if base == NEOPIXEL_BASE:
            raise TypeError("an old seesaw library")
        write(base, register, buffer)

    monkeypatch.setattr(trellis, "write", broken_led_writes)
    rig.grid.show(random_frame(7))
    for _ in range(rig.config.offline_after):  # each frame: a write, its retries 0.6 ms apart, a failure
        rig.settle(40)
        rig.clock.advance(1 / rig.config.max_fps)
    assert rig.grid.stats.driver_faults >= rig.config.offline_after
    assert "an old seesaw library" in caplog.text
    assert rig.grid.online == (True, True, False, True)  # that board, not the grid thread
    rig.pressed(0, 0)
    assert rig.pads()[-1] == PadEvent(0, 0, True, rig.now)
