"""The 4x16 pad grid: four NeoTrellis boards, pad events out, LED frames in, one thread.

The grid thread owns the I2C bus. It sleeps until the boards' shared INT
line goes low (a gpiozero edge callback wakes it), then reads every board's
key count and FIFO with short, overlapped waits (:mod:`.keypad`), so an idle
grid costs no bus time and a press reaches the sink in a few milliseconds.
The INT level is also looked at every ``poll_ms`` (a GPIO read, no bus
traffic) in case an edge was missed, and a slow bus scan every
``safety_scan_ms`` covers a broken INT wire. The seesaw firmware releases
INT when its queue register is *addressed*, and its 10 ms key scan pulls
INT low again if the queue still held events then: a scan that falls
between addressing the queue and reading it leaves INT low over an empty
queue. So INT low with every count 0 makes the grid address each queue
register once more, which releases the line; only a line that stays low
after that is called stuck and backs off to scanning every ``poll_ms``.
With no INT wire the grid polls every ``poll_ms``.

LED frames are drawn at most ``max_fps`` times a second, the newest one
when a slot comes (frames in between are skipped). A board gets only the
bytes of its NeoPixel buffer that changed, in the fewest bus bytes
(:mod:`.leds`), then one ``show``; a board with no change gets nothing:
one changed pixel is 11 bus bytes (1 ms at 100 kHz), a playhead step 35-47
on a board, where the library's ``show()`` sends 66 a board. The grid does
one LED transaction per pass and looks at INT before the next, so a press
waits behind one LED write (at most 34 bus bytes, ~3 ms at 100 kHz) or one
latch, never a frame. An I2C error is retried (``retries``) after
``RETRY_WAIT_S``, longer than a busy chip refuses its address (an LED
latch and an answer); a failed LED write is retried on a later pass, so
key reads go on meanwhile;
an unexpected exception from the driver is logged and counted
(``stats.driver_faults``) as a failure of that board. A board failing
``offline_after`` operations in a row is reported offline (its held pads
are released), the others carry on, and it is reconnected every
``reconnect_s`` until it answers. Boards come up in parallel on worker
threads (the library's reset sleeps 0.5 s each), so :meth:`Grid.start`
returns at once and never delays the first sound.

>>> from breakage_pi.core.settings import GridConfig
>>> from breakage_pi.hw.sim import EmulatedI2C, EmulatedNeoTrellis
>>> bus = EmulatedI2C([EmulatedNeoTrellis(a) for a in (0x2E, 0x2F, 0x30, 0x31)])
>>> events = []
>>> grid = Grid(GridConfig(int_pin=None), bus, events.append)
>>> grid.start()   # boards come up in the background; presses go to events
>>> grid.close()
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from gpiozero import DigitalInputDevice, GPIOZeroError

from ..core.settings import GridConfig
from ..core.events import DeviceStatus, EventSink, PadEvent, checked_frame
from .board import CONNECT_ERRORS, Board, connect
from .errors import DriverFault, HardwareError
from .keypad import KEYPAD_BASE, KEYPAD_COUNT, KEYPAD_FIFO, decode, read_registers, settle
from .layout import pad_of
from .grid_leds import RETRY_WAIT_S, LedDrawing

log = logging.getLogger(__name__)
STUCK_AFTER = 2  # passes in a row with INT low after releasing it and nothing to read


@dataclass
class GridStats:
    """Counters for tests, the bench and the logs."""

    scans: int = 0
    events: int = 0
    glitches: int = 0
    board_writes: int = 0  # boards latched (a ``show`` after their changed bytes)
    led_writes: int = 0    # LED transactions: buffer spans and shows
    offline: int = 0
    connects: int = 0      # bring-ups finished (a board answered or was found missing)
    driver_faults: int = 0
    int_releases: int = 0


class Grid(LedDrawing):
    """The pad grid over ``bus`` (a ``busio.I2C``-like object): events go to ``sink``.

    ``clock`` stamps events (s); ``sleep`` waits between addressing and
    reading a register; ``pin_factory`` is gpiozero's (None = its default)
    for the INT pin.
    """

    def __init__(self, config: GridConfig, bus: Any, sink: EventSink, *, pin_factory: Any = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = settle) -> None:
        self._config = config
        self._bus = bus
        self._sink = sink
        self._clock = clock
        self._sleep = sleep
        self._boards = [Board(index, address) for index, address in enumerate(config.addresses)]
        self._pool = ThreadPoolExecutor(max_workers=len(self._boards), thread_name_prefix="grid-connect")
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._frame_lock = threading.Lock()
        self._frame: np.ndarray | None = None
        self._frame_seq = 0
        self._drawn_seq = 0
        self._redraw = False
        self._drawing: np.ndarray | None = None
        self._boards_to_draw: deque[Board] = deque()
        self._led_writes: deque[tuple[Board, int, bytes]] = deque()
        self._led_attempts = 0
        self._led_retry_at = 0.0
        self._next_frame_at = 0.0
        self._next_scan_at = 0.0
        self._int_quiet_until = 0.0
        self._warned_int = False
        self._warned_stuck = False
        self._low_passes = 0
        self._int_edges = 0
        self._scan_period = (config.safety_scan_ms if config.int_pin is not None else config.poll_ms) / 1000
        self.stats = GridStats()
        self._int = self._open_int(config.int_pin, pin_factory)

    def _open_int(self, pin: int | None, pin_factory: Any) -> DigitalInputDevice | None:
        if pin is None:
            return None
        try:
            device = DigitalInputDevice(pin, pull_up=True, pin_factory=pin_factory)
        except GPIOZeroError as error:
            self._pool.shutdown()
            raise HardwareError(f"grid INT pin GPIO{pin}: {error}") from error
        device.when_activated = self._int_fell
        return device

    def _int_fell(self) -> None:
        """gpiozero's edge callback (its own thread on a Pi): wake the grid thread."""
        self._int_edges += 1
        self._wake.set()

    # -- the public surface -------------------------------------------------

    def start(self) -> None:
        """Bring the boards up in parallel and scan on the grid thread; returns at once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="grid", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the grid thread and release the INT pin (the bus is the caller's)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._int is not None:
            self._int.close()

    def show(self, frame: np.ndarray) -> None:
        """Display a (4, 16, 3) uint8 RGB frame; thread-safe, returns at once (the grid thread writes it)."""
        frame = checked_frame(frame).copy()
        with self._frame_lock:
            self._frame = frame
            self._frame_seq += 1
        self._wake.set()

    @property
    def online(self) -> tuple[bool, ...]:
        """Which boards (left to right) are answering."""
        return tuple(board.online for board in self._boards)

    def step(self) -> float:
        """One pass of the grid loop (a key scan if due, one LED transaction); returns seconds to the next pass.

        The grid thread calls this in a loop; tests may call it directly
        instead of :meth:`start`.
        """
        now = self._clock()
        self._tend_connections(now)
        if self._scan_due(now):
            signalled, edges = self._int_active(), self._int_edges
            found = self._scan()
            if found and self._int is not None and not signalled and edges == self._int_edges \
                    and not self._warned_int:
                self._warned_int = True
                log.warning("grid: key events with the INT line high: check the INT wire to GPIO%d, "
                            "or set [grid] int_pin = false to poll", self._config.int_pin)
            low_for_nothing = not found and self._int_active() and edges == self._int_edges
            if low_for_nothing:
                self._release_int()
                low_for_nothing = self._int_active() and edges == self._int_edges
            self._low_passes = self._low_passes + 1 if low_for_nothing else 0
            now = self._clock()
            self._next_scan_at = now + self._scan_period
            stuck = self._low_passes >= STUCK_AFTER
            self._int_quiet_until = now + self._config.poll_ms / 1000 if stuck else 0.0
            if stuck and not self._warned_stuck:
                self._warned_stuck = True
                log.warning("grid: the INT line stays low with no key events; scanning every %g ms while it does",
                            self._config.poll_ms)
        self._write_leds()
        return self._idle_time(self._clock())

    # -- the loop -----------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                delay = self.step()
            except Exception:  # the grid thread must outlive any surprise: log it and carry on
                log.exception("grid: unexpected error; carrying on")
                delay = self._config.poll_ms / 1000
            if delay > 0:
                self._wake.wait(delay)

    def _int_active(self) -> bool:
        return self._int is not None and bool(self._int.is_active)

    def _scan_due(self, now: float) -> bool:
        if now >= self._next_scan_at:
            return True
        return now >= self._int_quiet_until and self._int_active()

    def _idle_time(self, now: float) -> float:
        waits = [self._next_scan_at]
        if self._int is not None:
            waits.append(now + self._config.poll_ms / 1000)  # look at the INT level: a missed edge
        if self._int_active():
            waits.append(self._int_quiet_until)
        if self._led_writes:
            waits.append(self._led_retry_at)
        elif self._boards_to_draw:
            waits.append(now)
        elif self._frame_pending():
            waits.append(self._next_frame_at)
        waits += [board.retry_at for board in self._boards if not board.online and board.connecting is None]
        return max(0.0, min(waits) - now)

    # -- boards coming and going -------------------------------------------

    def _tend_connections(self, now: float) -> None:
        for board in self._boards:
            future = board.connecting
            if future is not None and future.done():
                board.connecting = None
                self._adopt(board, future, now)
            if not board.online and board.connecting is None and now >= board.retry_at \
                    and not self._stopping.is_set():
                board.connecting = self._pool.submit(connect, self._bus, board.address, self._int is not None,
                                                     self._config.brightness)
                board.connecting.add_done_callback(lambda _: self._wake.set())

    def _adopt(self, board: Board, future: Future[Any], now: float) -> None:
        self.stats.connects += 1
        try:
            trellis = future.result()
        except CONNECT_ERRORS as error:
            board.retry_at = now + self._config.reconnect_s
            self._report(board, False, f"not answering: {error}", now)
            return
        except Exception as error:  # a library surprise on one board must not stop the others
            log.exception("%s: bring-up failed", board.name)
            board.retry_at = now + self._config.reconnect_s
            self._report(board, False, f"bring-up failed: {error!r}", now)
            return
        board.trellis = trellis
        board.failures = 0
        self._forget_leds(board)
        self._report(board, True, "connected", now)

    def _report(self, board: Board, online: bool, detail: str, now: float) -> None:
        if board.reported_online == online:
            log.debug("%s: %s", board.name, detail)
            return
        first, board.reported_online = board.reported_online is None, online
        if online:      # coming up at start is what is expected: only a board back from offline is news
            log.log(logging.DEBUG if first else logging.INFO, "%s: %s", board.name, "online" if first else "back online")
        else:
            log.warning("%s: offline, %s", board.name, detail)
        self._emit(DeviceStatus(board.name, online, detail, now))

    def _failed(self, board: Board, error: OSError) -> None:
        """``board`` failed an operation after its retries: count it; take it offline after ``offline_after``."""
        board.failures += 1
        log.warning("%s: I2C failed %d time(s) in a row after retries: %s", board.name, board.failures, error)
        if board.failures < self._config.offline_after:
            return
        now = self._clock()
        for key in sorted(board.held):
            self._post_pad(board, key, False, now)
        self._forget_leds(board)
        board.trellis = None
        board.failures = 0
        board.retry_at = now + self._config.reconnect_s
        self.stats.offline += 1
        self._report(board, False, f"I2C keeps failing: {error}", now)

    # -- keys ---------------------------------------------------------------

    def _scan(self) -> int:
        boards = [board for board in self._boards if board.online]
        if not boards:
            return 0
        self.stats.scans += 1
        counts = self._read(boards, KEYPAD_COUNT, [1] * len(boards), self._config.count_delay_ms / 1000)
        busy = [(board, data[0]) for board, data in counts.items() if 0 < data[0] != 0xFF]
        if not busy:
            return 0
        if self._config.post_count_ms > 0:
            self._sleep(self._config.post_count_ms / 1000)
        fifos = self._read([board for board, _ in busy], KEYPAD_FIFO, [size for _, size in busy],
                           self._config.fifo_delay_ms / 1000)
        found = 0
        now = self._clock()
        for board, data in fifos.items():
            for raw in data:
                decoded = decode(raw)
                if decoded is not None:
                    self._post_pad(board, *decoded, now)
                    found += 1
        return found

    def _read(self, boards: Sequence[Board], register: int, sizes: Sequence[int],
              delay: float) -> dict[Board, bytes]:
        """Read ``register`` from ``boards``, retrying the ones that fail; failures count against a board."""
        results: dict[Board, bytes] = {}
        pending = list(zip(boards, sizes))
        errors: dict[Board, OSError] = {}
        for attempt in range(1 + self._config.retries):
            if attempt:
                self._sleep(RETRY_WAIT_S)
            outcome = read_registers([board.trellis for board, _ in pending], register,
                                     [size for _, size in pending], delay, self._sleep)
            failed = []
            for (board, size), result in zip(pending, outcome):
                if isinstance(result, Exception):
                    error = self._as_fault(board, result)
                    failed.append((board, size))
                    errors[board] = error
                    self._glitch(board, error)
                else:
                    results[board] = result
                    board.failures = 0
            pending = failed
            if not pending:
                break
        for board, _ in pending:
            self._failed(board, errors[board])
        return results

    def _as_fault(self, board: Board, error: Exception) -> OSError:
        """An I2C error as it is; anything else the driver raised becomes a logged, counted DriverFault."""
        if isinstance(error, OSError):
            return error
        self.stats.driver_faults += 1
        log.error("%s: the driver raised %r", board.name, error, exc_info=error)
        return DriverFault(f"{board.name}: the driver raised {error!r}")

    def _release_int(self) -> None:
        """Address every online board's queue register (the firmware's INT release), then wait for the answers."""
        self.stats.int_releases += 1
        for board in self._boards:
            if board.online:
                try:
                    board.trellis.write(KEYPAD_BASE, KEYPAD_FIFO)
                except Exception as error:  # a NACK, or a driver surprise: counted, the next pass retries
                    self._glitch(board, self._as_fault(board, error))
        self._sleep(self._config.count_delay_ms / 1000)

    def _glitch(self, board: Board, error: OSError) -> None:
        self.stats.glitches += 1
        log.debug("%s: I2C error, retrying: %s", board.name, error)      # news only if the retries fail too

    def _post_pad(self, board: Board, key: int, pressed: bool, now: float) -> None:
        if pressed:
            board.held.add(key)
        else:
            board.held.discard(key)
        row, column = pad_of(board.index, key)
        self.stats.events += 1
        self._emit(PadEvent(row, column, pressed, now))

    def _emit(self, event: PadEvent | DeviceStatus) -> None:
        try:
            self._sink(event)
        except Exception:  # the consumer's bug must not cost the events read with this one
            log.exception("grid: the event sink failed on %r", event)
