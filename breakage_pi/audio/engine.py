"""The real-time engine: the clock of the instrument.

Each cycle takes the newest command from the control side (at most a few,
never waiting), renders one period through the :class:`Player`, publishes
the position and counters on the :class:`StatusBoard`, and writes the block
to the sink — the only place it waits. Nothing in the loop logs, formats or
touches a file: xruns and device losses are counted on the board, and the
control side reports them. A lost device is closed and reopened with
back-off while the engine keeps its state, so playing resumes where it was
when the device returns. A stop fades out over a few milliseconds before
the device is closed.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable, Protocol

import numpy as np

from ..core.playstate import PlayState
from .handover import STOP
from .player import Player
from .period import StepUp
from .sinks import Sink, SinkLost
from .status import STEPPED_UP, StatusBoard
from .take_ring import FrameRing

REOPEN_DELAYS = (0.02, 0.05, 0.1, 0.2, 0.4)      # seconds; the last repeats, so a returning device plays within ~0.5 s
GIVE_UP_FAILURES = 10                            # failures in a row (~2.8 s) before a device that never played is refused
LATENCY_HISTORY = 1 << 16
MISS_HISTORY = 8192                               # misses kept for the report (~330 kB)
TAKES_PER_BLOCK = 4                              # commands taken per block at most: bounded work whatever arrives
FADE_SECONDS = 0.004


class Commands(Protocol):
    """Where commands come from: ``take()`` returns a PlayState, ``STOP`` or None, at once."""

    serial: int       # the serial of the last state taken (0 if the source does not number them)

    def take(self) -> PlayState | str | None: ...


class NoCommands:
    """A source that never sends anything (offline runs, tests)."""

    serial = 0

    def take(self) -> None:
        return None


class Engine:
    """Runs a :class:`Player` into a :class:`Sink` in real time.

    ``commands`` is polled at each block start; ``clock`` (seconds, the
    system's monotonic clock by default, so readings compare across
    processes) and ``sleep`` are injectable for tests. ``late_block`` is a
    test hook called after rendering, before the write (to starve the device
    on purpose). ``tap`` gets every block played (a take's ring: copied in, never waited for). Each deadline miss is recorded in ``misses``: the block, when
    its write was called, how long it took to render, the gap since the
    previous write returned (what the loop did between two writes), and how
    long that previous write took (the engine waiting on the device).

    With ``step_up`` (an automatic period), repeated misses caused by the
    engine's own blocks close the device and reopen it at the larger period
    ``step_up`` names (``open_sink`` must open it at ``step_up.period``);
    ``period_reason`` and ``block_cost`` are published on the board.

    >>> from breakage_pi.audio.kit import load_kit
    >>> from breakage_pi.audio.sinks import NullSink
    >>> from breakage_pi.core.pattern import Pattern
    >>> engine = Engine(Player(load_kit(), PlayState(Pattern())), lambda: NullSink(period=64))
    >>> engine.run(frames=48_000)           # a second of audio, as fast as the null device takes it
    >>> engine.blocks, engine.xruns
    (750, 0)
    """

    def __init__(self, player: Player, open_sink: Callable[[], Sink], commands: Commands | None = None,
                 status: StatusBoard | None = None, clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep,
                 late_block: Callable[[int], None] | None = None, step_up: StepUp | None = None,
                 period_reason: int = 0, block_cost: float = 0.0, tap: FrameRing | None = None) -> None:
        self.player = player
        self.tap = tap                   # where takes are recorded from (None: no takes)
        self.open_sink = open_sink
        self.commands = commands or NoCommands()
        self.status = status or StatusBoard()
        self.clock, self.sleep = clock, sleep
        self.late_block = late_block
        self.step_up, self.period_reason, self.block_cost = step_up, period_reason, block_cost
        self._step_due = False
        self.blocks = self.xruns = self.device_lost = self.opens = self.states_taken = 0
        self.state_frame = 0             # the frame at which the newest state taken was adopted (a block start)
        self.frames_written = 0          # frames that reached the device (not counting a lost buffer)
        self.failing = 0                 # device failures in a row, across reopen attempts
        self.last_error = ""
        self.worst_block = 0.0
        self.block_latency = np.zeros(LATENCY_HISTORY)      # seconds from wake-up to block handed over
        self.misses = np.zeros((MISS_HISTORY, 5))     # (block, write called at, render s, gap s, previous write s)
        self.stop_requested = False
        self._sink: Sink | None = None
        self._written_since_open = 0
        self._last_write_returned = self._last_write_took = 0.0

    def run(self, frames: int | None = None, wait_for_device: bool = True) -> None:
        """Play until stopped, or until ``frames`` frames have been rendered.

        With ``wait_for_device`` False, a device that cannot be opened at the
        start, or that fails ``GIVE_UP_FAILURES`` times in a row before any
        audio reached it, raises :class:`SinkLost` instead of being waited
        for (a command-line user wants to hear about a typo, not a silent wait).
        """
        end = None if frames is None else self.player.frame + frames
        self._publish(running=1)
        try:
            if not wait_for_device:
                self._open(self.open_sink())
            while not self.stop_requested and (end is None or self.player.frame < end):
                if self._sink is None and not self._reopen(wait_for_device):
                    continue
                self.cycle(None if end is None else end - self.player.frame)
            if self.stop_requested:
                self._fade_out()
        finally:
            self._close()
            self._publish(running=0)

    def stop(self) -> None:
        """Ask the loop to fade out and end after the current block (safe from a signal handler)."""
        self.stop_requested = True

    def cycle(self, frames_left: int | None = None) -> None:
        """One block: take commands, render, publish, write."""
        woke = self.clock()
        if self._step_due:
            self._step_due = False
            self.period_reason = STEPPED_UP
            self._close()                    # the loop reopens it at step_up.period
            return
        self._take_commands()
        if self.stop_requested or self._sink is None:
            return
        size = self._sink.period if frames_left is None else min(self._sink.period, frames_left)
        self._play(self.player.render(size), woke)

    def _play(self, block: np.ndarray, woke: float) -> None:
        rendered = self.clock()
        self.block_latency[self.blocks % LATENCY_HISTORY] = rendered - woke
        self.worst_block = max(self.worst_block, rendered - woke)
        self.blocks += 1
        self._publish()
        if self.tap is not None:
            self.tap.write(block, self.player.frame - len(block))
        if self.late_block is not None:
            self.late_block(self.blocks)
        sink = self._sink
        assert sink is not None
        called = self.clock()
        try:
            underrun = sink.write(block)
        except SinkLost as error:
            self._lose_device(error)
            return
        if underrun:
            self._count_miss(called, rendered - woke, called - self._last_write_returned)
        self._last_write_returned = self.clock()
        self._last_write_took = self._last_write_returned - called
        self._written_since_open += len(block)
        if self.failing and self._written_since_open > self._buffer_frames():
            self.failing = 0                 # the device has played past its own buffer: it works again

    def _take_commands(self) -> None:
        latest = None
        for _ in range(TAKES_PER_BLOCK):
            command = self.commands.take()
            if command is None:
                break
            if command == STOP:
                self.stop_requested = True
            elif isinstance(command, PlayState):
                latest = command
        if latest is not None:
            self.player.set_state(latest)
            self.states_taken += 1
            self.state_frame = self.player.frame

    def _fade_out(self) -> None:
        """Ramp the volume to silence over ``FADE_SECONDS`` before the device closes (no click)."""
        if self._sink is None:
            return
        period = self._sink.period
        blocks = max(1, -(-round(FADE_SECONDS * self.player.rate) // period))
        state = self.player.state
        for left in range(blocks - 1, -1, -1):
            self.player.set_state(replace(state, volume=state.volume * left / blocks))
            self._play(self.player.render(period), self.clock())
            if self._sink is None:
                return

    def _count_miss(self, called: float, render: float, gap: float) -> None:
        self.misses[self.xruns % MISS_HISTORY] = (self.blocks, called, render, gap, self._last_write_took)
        self.xruns += 1
        if self.step_up is not None and self.step_up.miss(called, render) is not None:
            self._step_due = True
        self._publish()

    def _buffer_frames(self) -> int:
        return 0 if self._sink is None else round(self._sink.latency * self.player.rate)

    def _lose_device(self, error: SinkLost) -> None:
        self.device_lost += 1
        self._fail(error)
        self.frames_written -= min(self._written_since_open, self._buffer_frames())   # what the device held is lost
        self._close()

    def _fail(self, error: SinkLost) -> None:
        self.failing += 1
        self.last_error = str(error)
        self._publish(error=self.last_error)

    def _open(self, sink: Sink) -> None:
        """Open ``sink`` and play into it from the next block, at the period it was granted."""
        sink.open()
        self._sink = sink
        self.opens += 1
        self._written_since_open = 0
        self._last_write_returned = self.clock()
        self.player.mixer.prepare(sink.period)
        self._publish()

    def _close(self) -> None:
        if self._sink is not None:
            sink, self._sink = self._sink, None
            self.frames_written += self._written_since_open
            self._written_since_open = 0
            try:
                sink.close()
            except (OSError, SinkLost):
                pass                         # a device that is gone may fail to close too; it is dropped either way
            self._publish()

    def _reopen(self, wait_for_device: bool) -> bool:
        """Open the sink, backing off while it is absent or failing; commands keep being taken meanwhile.

        The back-off grows with the failures in a row, counted across
        reopenings (a device that opens but fails every write, such as a
        half-gone USB DAC, is backed off from too), so the engine never spins
        at real-time priority.
        """
        while not self.stop_requested:
            if self.failing:
                if not wait_for_device and self.frames_written + self._written_since_open == 0 \
                        and self.failing >= GIVE_UP_FAILURES:
                    raise SinkLost(f"{self.last_error} (failed {self.failing} times in a row; "
                                   "no audio reached the device)")
                self.sleep(REOPEN_DELAYS[min(self.failing - 1, len(REOPEN_DELAYS) - 1)])
                self._take_commands()
            try:
                self._open(self.open_sink())
            except SinkLost as error:
                self._fail(error)
                continue
            return True
        return False

    def _publish(self, **extra: int) -> None:
        sink = self._sink
        step, step_start, step_frames = self.player.current_step_span()
        self.status.publish(frame=self.player.frame, step=step, step_start=step_start, step_frames=step_frames,
                            blocks=self.blocks,
                            xruns=self.xruns, worst_block_ns=int(self.worst_block * 1e9),
                            device_lost=self.device_lost,
                            latency_frames=self._buffer_frames(), period=0 if sink is None else sink.period,
                            state_serial=self.commands.serial,
                            frames_written=self.frames_written + self._written_since_open,
                            failing=self.failing, switched=self.player.switched,
                            state_frame=self.state_frame, period_reason=self.period_reason,
                            block_cost_ns=int(self.block_cost * 1e9),
                            period_steps=0 if self.step_up is None else self.step_up.steps, **extra)

    def latency_percentile(self, percent: float) -> float:
        """Percentile of the recorded block latencies, in seconds."""
        recorded = self.block_latency[:min(self.blocks, LATENCY_HISTORY)]
        return float(np.percentile(recorded, percent)) if len(recorded) else 0.0

    def recorded_misses(self) -> list[tuple[float, ...]]:
        """Each recorded deadline miss as (block number, write called at, render s, gap s, previous write s),
        oldest first."""
        count = min(self.xruns, MISS_HISTORY)
        rows = np.roll(self.misses, -(self.xruns % MISS_HISTORY), axis=0)[-count:] if count else self.misses[:0]
        return [tuple(map(float, row)) for row in rows]
