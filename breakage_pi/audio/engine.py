"""The real-time engine: the clock of the instrument.

Each cycle drains the control side's commands (new :class:`PlayState`
snapshots), renders one period through the :class:`Player`, publishes the
position and counters on the :class:`StatusBoard`, and writes the block to
the sink — the only place it waits. An xrun is counted and logged; a lost
device is closed and reopened with back-off while the engine keeps its
state, so playing resumes where it was when the device returns.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

import numpy as np

from ..core.playstate import PlayState
from .player import Player
from .sinks import Sink, SinkLost
from .status import StatusBoard

log = logging.getLogger(__name__)

STOP = "stop"
REOPEN_DELAYS = (0.02, 0.05, 0.1, 0.2, 0.4)      # seconds; the last repeats, so a returning device plays within ~0.5 s
LATENCY_HISTORY = 1 << 16


class Engine:
    """Runs a :class:`Player` into a :class:`Sink` in real time.

    ``poll`` returns the next command without waiting (a PlayState, or
    ``STOP``) or None; ``clock`` and ``sleep`` are injectable for tests.

    >>> engine = Engine(player, lambda: AlsaSink("hw:CARD=Headphones,DEV=0"), poll=commands.get_nowait)
    >>> engine.run()                                            # doctest: +SKIP
    """

    def __init__(self, player: Player, open_sink: Callable[[], Sink], poll: Callable[[], object],
                 status: StatusBoard | None = None, clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.player = player
        self.open_sink = open_sink
        self.poll = poll
        self.status = status or StatusBoard()
        self.clock, self.sleep = clock, sleep
        self.blocks = self.xruns = self.device_lost = 0
        self.worst_block = 0.0
        self.block_latency = np.zeros(LATENCY_HISTORY)      # seconds from wake-up to block handed over
        self.stopped = False
        self._losses_in_a_row = 0
        self._sink: Sink | None = None
        self._last_xrun_log = -1.0

    def run(self, frames: int | None = None, wait_for_device: bool = True) -> None:
        """Play until a ``STOP`` command, or until ``frames`` frames have been written.

        With ``wait_for_device`` False, a device that cannot be opened at the
        start raises :class:`SinkLost` instead of being waited for (a
        command-line user wants to hear about a typo, not a silent wait).
        """
        end = None if frames is None else self.player.frame + frames
        self._publish(running=1)
        try:
            if not wait_for_device:
                self._open_once()
            while not self.stopped and (end is None or self.player.frame < end):
                if self._sink is None and not self._reopen():
                    continue
                self.cycle(None if end is None else end - self.player.frame)
        finally:
            if self._sink is not None:
                self._sink.close()
                self._sink = None
            self._publish(running=0)

    def cycle(self, frames_left: int | None = None) -> None:
        """One block: drain commands, render, publish, write."""
        woke = self.clock()
        self._drain()
        if self.stopped or self._sink is None:
            return
        size = self._sink.period if frames_left is None else min(self._sink.period, frames_left)
        block = self.player.render(size)
        rendered = self.clock() - woke
        self.block_latency[self.blocks % LATENCY_HISTORY] = rendered
        self.worst_block = max(self.worst_block, rendered)
        self.blocks += 1
        self._publish()
        try:
            if self._sink.write(block):
                self._count_xrun(woke)
        except SinkLost as error:
            self._lose_device(error)
        else:
            self._losses_in_a_row = 0

    def _drain(self) -> None:
        latest = None
        while (command := self.poll()) is not None:
            if command == STOP:
                self.stopped = True
            elif isinstance(command, PlayState):
                latest = command
        if latest is not None:
            self.player.set_state(latest)

    def _count_xrun(self, now: float) -> None:
        self.xruns += 1
        if now - self._last_xrun_log >= 1.0:
            self._last_xrun_log = now
            log.warning("audio xrun (underrun) #%d, recovered", self.xruns)

    def _lose_device(self, error: Exception) -> None:
        self.device_lost += 1
        self._losses_in_a_row += 1
        if self._losses_in_a_row == 1 or self._losses_in_a_row % 20 == 0:
            log.error("%s; reopening (lost %d time(s) in a row)", error, self._losses_in_a_row)
        if self._sink is not None:
            try:
                self._sink.close()
            except (OSError, SinkLost) as closing:
                log.debug("closing the lost device: %s", closing)
        self._sink = None
        self._publish()

    def _open_once(self) -> None:
        sink = self.open_sink()
        sink.open()
        self._adopt(sink)

    def _adopt(self, sink: Sink) -> None:
        """Play into ``sink`` from the next block, at the period it was granted."""
        self._sink = sink
        self.player.mixer.prepare(sink.period)
        self._publish()

    def _reopen(self) -> bool:
        """Open the sink, backing off while it is absent; commands keep being applied meanwhile.

        A device that opens but fails every write (a half-gone USB DAC) is
        backed off from too, so the engine never spins at real-time priority.
        """
        attempt = 0
        while not self.stopped:
            failures = self._losses_in_a_row + attempt
            if failures:
                self.sleep(REOPEN_DELAYS[min(failures - 1, len(REOPEN_DELAYS) - 1)])
                self._drain()
            try:
                sink = self.open_sink()
                sink.open()
            except SinkLost as error:
                if attempt % 20 == 0:
                    log.error("%s; retrying", error)
                attempt += 1
                continue
            self._adopt(sink)
            if attempt or self.device_lost:
                log.warning("audio device open again after %d attempt(s)", attempt + 1)
            return True
        return False

    def _publish(self, **extra: int) -> None:
        sink = self._sink
        step = self.player.current_step()
        self.status.publish(frame=self.player.frame, step=-1 if step is None else step, blocks=self.blocks,
                            xruns=self.xruns, worst_block_ns=int(self.worst_block * 1e9),
                            device_lost=self.device_lost,
                            latency_frames=0 if sink is None else round(sink.latency * self.player.rate),
                            period=0 if sink is None else sink.period, switched=self.player.switched, **extra)

    def latency_percentile(self, percent: float) -> float:
        """Percentile of the recorded block latencies, in seconds."""
        recorded = self.block_latency[:min(self.blocks, LATENCY_HISTORY)]
        return float(np.percentile(recorded, percent)) if len(recorded) else 0.0
