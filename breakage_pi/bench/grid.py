"""``bench grid``: pad press -> event latency, the stock ``MultiTrellis.sync()`` loop against ours.

Both run the real ``adafruit_neotrellis`` over the emulated seesaw bus with
its timing model (100 kHz unless said, 9 bits a byte plus the chip's clock
stretching), the firmware's 10 ms key scan, busy NACKs and LED latches,
and the library's real sleeps: four boards, the same random presses and
releases (15-45 ms apart). Two latencies per edge, both to the event
reaching the consumer: ``press_to_event`` from the scan at which the chip
queues (reports) it, and ``physical_press_to_event`` from the finger, which
adds the 0-10 ms wait for that scan: the figure a player feels. One more
run measures the fast grid while a groovebox plays (the usual case): a
pattern drawn once, then the playhead column moving on every 16th note at
120 BPM and one pixel swept by a knob at 30 fps; another while LED frames
that change every pixel arrive at 30 fps (the worst case of bus traffic
from the LEDs). Both also give the share of bus time the LED writes take.
Wall-clock tails follow the machine's other load, so the fast grid also
runs on the emulator's simulated clock (``grid.sim.*``): the same figures
from the bus schedule alone, identical in every run.
Start-up is the time until all four boards answer: the library constructs
them one after another (0.5 s reset sleep each), the grid brings them up
in parallel.
"""

from __future__ import annotations

import math
import random
import sys
import threading
import time
from collections import defaultdict, deque
from typing import Any, Callable

import numpy as np
from adafruit_neotrellis.multitrellis import MultiTrellis
from adafruit_neotrellis.neotrellis import NeoTrellis
from gpiozero.pins.mock import MockFactory

from ..core.settings import GridConfig
from ..core.events import PadEvent
from ..hw.grid import Grid
from ..hw.sim import EmulatedI2C, EmulatedNeoTrellis, ManualClock
from ..hw.sim.bus import BITS_PER_BYTE, BYTE_STRETCH_S
from ..hw.sim.seesaw import NEOPIXEL_BASE

ADDRESSES = GridConfig().addresses
FREQUENCY = GridConfig().frequency
FAST_FREQUENCY = 400_000
EDGES = 200
GAP_S = (0.015, 0.045)
INT_PIN = 17
FPS = 30
SIXTEENTH_S = 60 / 120 / 4  # a 16th note at 120 BPM

Key = tuple[int, int, bool]


class _Latencies:
    """Matches deliveries to the presses that caused them and to the scans that reported them; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: dict[Key, deque[float]] = defaultdict(deque)
        self._reported: dict[Key, deque[float]] = defaultdict(deque)
        self.samples: list[float] = []
        self.physical: list[float] = []

    def sent(self, key: Key) -> None:
        with self._lock:
            self._sent[key].append(time.monotonic())

    def reported(self, key: Key, at: float) -> None:
        with self._lock:
            self._reported[key].append(at)

    def delivered(self, key: Key) -> None:
        now = time.monotonic()
        with self._lock:
            self.samples.append(now - self._reported[key].popleft())
            self.physical.append(now - self._sent[key].popleft())


def _bus(frequency: int, latencies: _Latencies) -> EmulatedI2C:
    """Four boards on the real clock (the emulator's default, ``time.monotonic``), their scans reported."""
    bus = EmulatedI2C([EmulatedNeoTrellis(address) for address in ADDRESSES], frequency=frequency)
    for index, address in enumerate(ADDRESSES):
        def report(key: int, pressed: bool, at: float, column_base: int = 4 * index) -> None:
            latencies.reported((key // 4, column_base + key % 4, pressed), at)
        bus.board(address).on_report = report
    bus.start()
    return bus


def _play(bus: EmulatedI2C, latencies: _Latencies, seed: int = 1) -> tuple[list[float], list[float]]:
    """Press and release random pads, EDGES edges in all; wait for every delivery.

    Returns the latencies in ms from the chip's report and from the physical press.
    """
    rng = random.Random(seed)
    for _ in range(EDGES // 2):
        row, column = rng.randrange(4), rng.randrange(16)
        board, key = bus.board(ADDRESSES[column // 4]), row * 4 + column % 4
        for pressed in (True, False):
            latencies.sent((row, column, pressed))
            (board.press if pressed else board.release)(key)
            time.sleep(rng.uniform(*GAP_S))
    deadline = time.monotonic() + 5
    while len(latencies.samples) < EDGES and time.monotonic() < deadline:
        time.sleep(0.01)
    if len(latencies.samples) < EDGES:
        raise RuntimeError(f"only {len(latencies.samples)} of {EDGES} edges were delivered")
    return [1000 * sample for sample in latencies.samples], [1000 * sample for sample in latencies.physical]


Run = tuple[float, list[float], list[float], float]
"""Start-up (s), latencies from the report and from the press (ms), share of bus time spent on LEDs."""


def _stock() -> Run:
    latencies = _Latencies()
    bus = _bus(FREQUENCY, latencies)
    start = time.perf_counter()
    trelli = [NeoTrellis(bus, False, addr=address) for address in ADDRESSES]
    startup = time.perf_counter() - start
    grid = MultiTrellis([trelli])
    for x in range(16):
        for y in range(4):
            grid.activate_key(x, y, NeoTrellis.EDGE_RISING)
            grid.activate_key(x, y, NeoTrellis.EDGE_FALLING)
            grid.set_callback(x, y, lambda x, y, edge: latencies.delivered((y, x, edge == NeoTrellis.EDGE_RISING)))
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            grid.sync()

    thread = threading.Thread(target=loop, name="stock-sync", daemon=True)
    thread.start()
    try:
        return (startup, *_play(bus, latencies), 0.0)
    finally:
        stop.set()
        thread.join()
        bus.close()


Frames = Callable[[int], np.ndarray]


def _noise(tick: int) -> np.ndarray:
    """Frame ``tick`` of the worst case: every pixel a new random colour."""
    return np.random.default_rng(tick).integers(0, 256, size=(4, 16, 3), dtype=np.uint8)


def _playhead() -> Frames:
    """The usual case: a fixed pattern, the playhead on the column of the 16th note, one pixel swept by a knob."""
    rng = np.random.default_rng(2)
    hues = np.array([(255, 40, 0), (255, 160, 0), (0, 200, 80), (40, 80, 255)], dtype=np.float64)
    velocities = rng.integers(0, 256, size=(4, 16)) * (rng.random((4, 16)) < 0.4)
    pattern = (hues[:, None, :] * velocities[:, :, None] / 255).astype(np.uint8)

    def frame(tick: int) -> np.ndarray:
        drawn = pattern.copy()
        drawn[:, int(tick / FPS / SIXTEENTH_S) % 16] = (90, 90, 90)
        drawn[2, 5] = (0, 0, 8 * tick % 256)  # the step a knob is sweeping
        return drawn

    return frame


class _LedBytes:
    """Counts the bus bytes of NeoPixel writes (address byte included) passing through ``bus.writeto``."""

    def __init__(self, bus: EmulatedI2C) -> None:
        self.count = 0
        self._writeto = bus.writeto
        bus.writeto = self._counted  # type: ignore[method-assign]

    def _counted(self, address: int, buffer: Any, *, start: int = 0, end: int | None = None,
                 stop: bool = True) -> None:
        data = bytes(buffer[start:end])
        if data[:1] == bytes([NEOPIXEL_BASE]):
            self.count += 1 + len(data)
        self._writeto(address, buffer, start=start, end=end, stop=stop)


def _fast(frequency: int, frames: Frames | None = None) -> Run:
    latencies = _Latencies()
    bus = _bus(frequency, latencies)
    led_bytes = _LedBytes(bus)
    factory = MockFactory()
    bus.wire_int(factory.pin(INT_PIN))

    def sink(event: object) -> None:
        if isinstance(event, PadEvent):
            latencies.delivered((event.row, event.column, event.pressed))

    grid = Grid(GridConfig(frequency=frequency, int_pin=INT_PIN), bus, sink, pin_factory=factory)
    stop = threading.Event()

    def animate() -> None:
        tick = 0
        while not stop.wait(1 / FPS):
            grid.show(frames(tick))
            tick += 1

    animator = threading.Thread(target=animate, name="bench-leds", daemon=True)
    start = time.perf_counter()
    grid.start()
    try:
        while not all(grid.online):
            if time.perf_counter() - start > 10:
                raise RuntimeError(f"the grid did not come up: {grid.online}")
            time.sleep(0.001)
        startup = time.perf_counter() - start
        if frames is not None:
            grid.show(frames(0))
            animator.start()
        counted_from, played_from = led_bytes.count, time.perf_counter()
        played = _play(bus, latencies)
        byte_s = BITS_PER_BYTE / frequency + BYTE_STRETCH_S
        share = (led_bytes.count - counted_from) * byte_s / (time.perf_counter() - played_from)
        return (startup, *played, share)
    finally:
        stop.set()
        if frames is not None:
            animator.join()
        grid.close()
        bus.close()
        factory.reset()


def _simulated(frames: Frames | None, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The fast grid stepped on the emulator's ManualClock at 100 kHz: latencies (ms) with no CPU noise.

    The same kind of presses as :func:`_play`, on simulated time: the grid
    steps whenever the firmware, a frame or a press is due (as the INT edge
    would wake it), so the figures are the bus schedule alone. Boards come
    up on real time first (the library's 0.5 s reset sleeps, in parallel).
    """
    clock = ManualClock()
    bus = EmulatedI2C([EmulatedNeoTrellis(address) for address in ADDRESSES], frequency=FREQUENCY, clock=clock)
    reported: dict[Key, deque[float]] = defaultdict(deque)
    sent: dict[Key, deque[float]] = defaultdict(deque)
    latencies: list[tuple[float, float]] = []
    for index, address in enumerate(ADDRESSES):
        def report(key: int, pressed: bool, at: float, column_base: int = 4 * index) -> None:
            reported[key // 4, column_base + key % 4, pressed].append(at)
        bus.board(address).on_report = report

    def sink(event: object) -> None:
        if isinstance(event, PadEvent):
            key = (event.row, event.column, event.pressed)
            latencies.append((event.time - reported[key].popleft(), event.time - sent[key].popleft()))

    factory = MockFactory()
    bus.wire_int(factory.pin(INT_PIN))
    grid = Grid(GridConfig(int_pin=INT_PIN), bus, sink, pin_factory=factory, clock=clock, sleep=clock.advance)
    try:
        while not all(grid.online):
            grid.step()
            time.sleep(0.001)
        rng = random.Random(seed)
        presses: deque[tuple[float, int, int, bool]] = deque()
        at = clock() + 0.1
        for _ in range(EDGES // 2):
            row, column = rng.randrange(4), rng.randrange(16)
            for pressed in (True, False):
                presses.append((at, row, column, pressed))
                at += rng.uniform(*GAP_S)
        tick, next_frame = 0, clock()
        while len(latencies) < EDGES and clock() < at + 1:
            if frames is not None and clock() >= next_frame:
                grid.show(frames(tick))
                tick, next_frame = tick + 1, next_frame + 1 / FPS
            while presses and presses[0][0] <= clock():
                _, row, column, pressed = presses.popleft()
                sent[row, column, pressed].append(clock())
                board = bus.board(ADDRESSES[column // 4])
                (board.press if pressed else board.release)(row * 4 + column % 4)
            wait = grid.step()
            due = [wait, next_frame if frames is not None else math.inf, presses[0][0] if presses else math.inf]
            due[1:] = [moment - clock() for moment in due[1:]]
            due += [bus.board(address).next_due() - clock() for address in ADDRESSES]
            clock.advance(max(1e-6, min(due)))
    finally:
        grid.close()
        factory.reset()
    if len(latencies) < EDGES:
        raise RuntimeError(f"simulated: only {len(latencies)} of {EDGES} edges were delivered")
    reported_ms, physical_ms = (1000 * np.asarray(column) for column in zip(*latencies))
    return reported_ms, physical_ms


def _note(text: str) -> None:
    print(f"  grid: {text}", file=sys.stderr, flush=True)


def _timed(label: str, run: Callable[[], Run]) -> tuple[float, np.ndarray, np.ndarray, float]:
    _note(f"{label}: {EDGES} presses and releases ...")
    startup, samples, physical, led_share = run()
    reported, felt = np.asarray(samples), np.asarray(physical)
    leds = f"; LED writes {100 * led_share:.1f} % of the bus time" if led_share else ""
    _note(f"{label}: start-up {startup:.2f} s; from the chip's report median {np.median(reported):.2f} ms, "
          f"p99 {np.percentile(reported, 99):.2f} ms; from the physical press median {np.median(felt):.2f} ms, "
          f"p99 {np.percentile(felt, 99):.2f} ms{leds}")
    return startup, reported, felt, led_share


def run() -> dict[str, float]:
    """Press->event latency (median, p99) from the chip's report and from the press, stock vs. fast, 100 kHz."""
    stock_startup, stock, stock_felt, _ = _timed("stock MultiTrellis.sync() loop, 100 kHz", _stock)
    startup, fast, felt, _ = _timed("fast INT-driven grid, 100 kHz (the default clock)", lambda: _fast(FREQUENCY))
    _, quick_bus, _, _ = _timed("fast INT-driven grid, 400 kHz", lambda: _fast(FAST_FREQUENCY))
    _, playing, playing_felt, playing_share = _timed("fast INT-driven grid, 100 kHz, playhead at 16ths of 120 BPM "
                                      "and a knob sweep at 30 fps", lambda: _fast(FREQUENCY, _playhead()))
    _, busy, busy_felt, busy_share = _timed("fast INT-driven grid, 100 kHz, every LED changing at 30 fps",
                                lambda: _fast(FREQUENCY, _noise))
    simulated = {}
    for name, frames in (("no_leds", None), ("playhead", _playhead()), ("leds_30fps", _noise)):
        reported, felt = _simulated(frames)
        _note(f"simulated time (no CPU noise), 100 kHz, {name}: from the chip's report median "
              f"{np.median(reported):.2f} ms, p99 {np.percentile(reported, 99):.2f} ms, max {reported.max():.2f} ms; "
              f"from the physical press p99 {np.percentile(felt, 99):.2f} ms")
        simulated[f"grid.sim.press_to_event.p99_ms_{name}"] = float(np.percentile(reported, 99))
        simulated[f"grid.sim.press_to_event.max_ms_{name}"] = float(reported.max())
        simulated[f"grid.sim.physical_press_to_event.p99_ms_{name}"] = float(np.percentile(felt, 99))
    _note("noise: on 2 shared cores the medians repeat within ~0.3 ms; the p99s (2nd-worst of 200) move "
          "with other load")
    stock_p99, p99 = float(np.percentile(stock, 99)), float(np.percentile(fast, 99))
    return {
        "grid.press_to_event.stock_median_ms": float(np.median(stock)),
        "grid.press_to_event.stock_p99_ms": stock_p99,
        "grid.press_to_event.median_ms": float(np.median(fast)),
        "grid.press_to_event.p99_ms": p99,
        "grid.press_to_event.speedup": stock_p99 / p99,
        "grid.press_to_event.p99_ms_400khz": float(np.percentile(quick_bus, 99)),
        "grid.press_to_event.p99_ms_playhead": float(np.percentile(playing, 99)),
        "grid.press_to_event.p99_ms_leds_30fps": float(np.percentile(busy, 99)),
        "grid.physical_press_to_event.stock_p99_ms": float(np.percentile(stock_felt, 99)),
        "grid.physical_press_to_event.median_ms": float(np.median(felt)),
        "grid.physical_press_to_event.p99_ms": float(np.percentile(felt, 99)),
        "grid.physical_press_to_event.p99_ms_playhead": float(np.percentile(playing_felt, 99)),
        "grid.physical_press_to_event.p99_ms_leds_30fps": float(np.percentile(busy_felt, 99)),
        "grid.led_bus_share.playhead": playing_share,
        "grid.led_bus_share.leds_30fps": busy_share,
        "grid.startup.stock_s": stock_startup,
        "grid.startup_s": startup,
        **simulated,
    }
