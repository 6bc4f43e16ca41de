"""The audio process: the engine runs apart from the control side, as norns' crone does.

Measured (DESIGN §3): Python work in another thread of the audio process
makes blocks late through the GIL, and a full garbage collection can take
~1 s on a Pi 4. So the engine gets a process of its own, started by
:func:`breakage_pi.children.child_context` (``spawn``: nothing inherited but
what it is given). The two sides share two small pieces of memory and never
wait on each other:

- the control side writes the newest :class:`PlayState` into a
  :class:`~.handover.StateSlot` (``send``: a copy of ~100 bytes, whatever
  the engine is doing); the engine takes it at its next block start;
- the engine publishes its counters on a :class:`~.status.StatusBoard`
  each block; ``status()`` reads them with bounded retries.

A pipe carries the engine's final report back. The audio process stops,
fading out and closing its device, when asked (``stop``), on SIGINT, SIGTERM
or SIGHUP, and when the control side has died (its parent changed), and it
always exits quietly. After start-up its garbage collector is frozen and
disabled, and real-time priority and memory locking are asked for (granted
under systemd with ``LimitRTPRIO``/``LimitMEMLOCK``; refused harmlessly
elsewhere). The control side logs what the board counts
(:class:`EngineMonitor`), rate-limited; the audio process logs nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import signal
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from typing import Any

from ..children import child_context
from ..core.errors import BreakageError
from ..core.playstate import PlayState
from ..core.settings import AUTO_PERIOD
from . import handover, status
from .engine import Engine
from .handover import STOP, StateSlot
from .period import CHOICES, StepUp, resolve
from .sinks import AlsaSink, NullSink, PacedSink, Sink, WavSink
from .status import EngineStatus, StatusBoard
from .take_ring import FrameRing

log = logging.getLogger(__name__)

MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT = 1, 2, 4
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class EngineSettings:
    """How the audio process opens its device and what it loads.

    ``device``: an ALSA PCM name, ``wav:PATH`` (offline capture) or ``none``.
    ``rate``: the device's rate in Hz; the kit is resampled to it and the
    step clock runs at it. ``pace``: pace an unpaced device (file/null/wav/none)
    in real time. ``frames``: stop after this many frames (None: until stopped).
    ``period``: frames per block, or ``"auto"`` (see :mod:`.period`).
    ``realtime_priority``: the SCHED_FIFO priority asked for; 0 runs the
    engine at normal priority (as the CPU headroom bench needs, since a CPU
    quota does not apply to real-time tasks).
    """

    device: str
    rate: int = 48_000
    period: int | str = 64
    periods: int = 3
    kit_dir: str | None = None
    pace: bool = False
    frames: int | None = None
    realtime_priority: int = 70
    max_voices: int = 64
    wait_for_device: bool = True


def make_sink(settings: EngineSettings) -> Sink:
    """The sink ``settings.device`` names, paced if asked.

    The audio process resolves an automatic period before it opens a device;
    here (a lockstep run, with no deadline to keep) ``"auto"`` is the
    smallest period, so offline renders do not depend on the machine.
    """
    if not isinstance(settings.period, int):
        settings = replace(settings, period=CHOICES[0])
    sink: Sink
    if settings.device.startswith("wav:"):
        sink = WavSink(settings.device[4:], settings.rate, settings.period)
    elif settings.device == "none":
        sink = NullSink(settings.rate, settings.period)
    else:
        sink = AlsaSink(settings.device, settings.rate, settings.period, settings.periods)
    return PacedSink(sink, settings.rate, settings.periods) if settings.pace else sink


class AudioProcess:
    """The control side's handle on the audio process.

    ``send`` never waits: it overwrites the shared slot (about 5 us here) and
    the engine plays the newest state sent from its next block on; call it
    on every edit, as often as you like. ``status().state_serial`` is the
    serial ``send`` gave the state now playing, ``status().frame`` the
    engine's clock (frames rendered).

    >>> from breakage_pi.core.pattern import Pattern
    >>> audio = AudioProcess(EngineSettings("none", frames=4800), PlayState(Pattern())).start()
    >>> audio.send(PlayState(Pattern(), tempo=100.0))      # from the next block on; never waits
    True
    >>> audio.wait(30)["frames"]
    4800
    """

    def __init__(self, settings: EngineSettings, state: PlayState, tap: tuple[Any, int] | None = None) -> None:
        """``tap``: a take ring's shared memory and capacity (:class:`~.take_ring.FrameRing`), or None."""
        context = child_context()
        self._results, child_results = context.Pipe(duplex=False)
        self._board_memory = context.RawArray("b", 8 * status.WORDS)
        self._slot_memory = context.RawArray("b", 8 * handover.WORDS)
        self._board = StatusBoard(self._board_memory)
        self._slot = StateSlot(self._slot_memory)
        self._process = context.Process(target=engine_main, name="breakage-pi-audio", daemon=True,
                                        args=(settings, state, self._board_memory, self._slot_memory,
                                              child_results, os.getpid(), tap))
        self._child_results = child_results
        self.report: dict[str, Any] = {}
        self.serial = 0

    def start(self) -> AudioProcess:
        self._process.start()
        self._child_results.close()          # the child holds its own end; ours would hide its exit
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def send(self, state: PlayState) -> bool:
        """Make ``state`` the newest (never waits); False if the audio process has ended.

        Safe to call thousands of times a second from one control thread;
        ``self.serial`` is the serial the state got.
        """
        self.serial = self._slot.send(state)
        return self._process.exitcode is None

    def status(self) -> EngineStatus:
        """The board's newest reading (bounded retries, never hangs), with ``alive`` set."""
        return replace(self._board.read(), alive=self.is_alive())

    def is_alive(self) -> bool:
        return self._process.is_alive()

    @property
    def exitcode(self) -> int | None:
        """The audio process's exit code (negative: killed by that signal), None while it runs."""
        return self._process.exitcode

    def ended(self, timeout: float = 0.0) -> bool:
        """Whether the audio process has ended (or sent its report), waiting up to ``timeout`` seconds."""
        return bool(wait([self._results, self._process.sentinel], timeout))

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the engine to finish by itself; returns its final report ({} if it died without one)."""
        wait([self._results, self._process.sentinel], timeout)
        if self._results.poll():
            try:
                self.report = self._results.recv()
            except EOFError:
                pass
        self._process.join(5.0 if timeout is None else timeout)
        return self.report

    def stop(self, timeout: float = 5.0) -> dict[str, Any]:
        """Stop the engine (it fades out) and return its final report (blocks, xruns, latencies)."""
        self._slot.request_stop()
        report = self.wait(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(1.0)
        return report

    def __enter__(self) -> AudioProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PeriodWatch:
    """Logs the period in force and why, once when the engine first plays and again whenever it steps up."""

    def __init__(self, logger: logging.Logger = log) -> None:
        self.log = logger
        self._period = 0

    def check(self, reading: EngineStatus) -> None:
        if not reading.period or reading.period == self._period:
            return
        if self._period and reading.period_steps:
            self.log.warning("audio: the engine's own blocks kept missing their deadlines at %d frames, so the "
                             "period is now %d frames (stepped up %d time(s); set [audio] period to pin one)",
                             self._period, reading.period, reading.period_steps)
        else:
            self.log.info("audio: period %d frames (%s)", reading.period, describe_period(reading))
        self._period = reading.period


def describe_period(reading: EngineStatus, rate: int = 48_000) -> str:
    """The period in force in words, with why (``rate``: the device's, for the length in ms)."""
    length = reading.period / rate * 1e3
    cost = f"; a block costs {reading.block_cost_ns / 1e3:.0f} us at p99" if reading.block_cost_ns else ""
    return f"{length:.2f} ms at {rate} Hz: {reading.period_why}{cost}"


class EngineMonitor:
    """Turns the board's counters into log lines on the control side, rate-limited.

    Call :meth:`check` now and then (a few times a second): the period in
    force is logged when the engine starts and when it steps up; xruns are logged
    at most once per ``interval`` seconds with the count since the last line;
    a device failure is logged once when it starts, once when it ends (with
    how many failures it took), never once per retry; the death of the audio
    process is logged once.
    """

    def __init__(self, audio: AudioProcess, logger: logging.Logger = log, interval: float = 1.0) -> None:
        self.audio, self.log, self.interval = audio, logger, interval
        self._xruns = self._failing = 0
        self._last_line = -interval
        self._dead = False
        self._period = PeriodWatch(logger)

    def check(self, now: float) -> EngineStatus:
        """Read the board and log what changed; ``now`` in seconds (e.g. ``time.monotonic()``)."""
        reading = self.audio.status()
        self._period.check(reading)
        if reading.xruns > self._xruns and now - self._last_line >= self.interval:
            self.log.warning("audio: %d xrun(s) (underruns), recovered; %d in all",
                             reading.xruns - self._xruns, reading.xruns)
            self._xruns, self._last_line = reading.xruns, now
        if reading.failing and not self._failing:
            self.log.error("%s; retrying with back-off", reading.error)
        elif self._failing and not reading.failing:
            self.log.warning("audio device playing again after %d failure(s)", self._failing)
        self._failing = max(reading.failing, self._failing) if reading.failing else 0
        if not reading.alive and not self._dead and self.audio.exitcode not in (None, 0):
            self._dead = True
            self.log.error("the audio process has died (%s)", describe_exit(self.audio.exitcode))
        return reading


def describe_exit(code: int | None) -> str:
    """An exit code in words: ``killed by SIGKILL``, ``exit status 1``."""
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


class _FromControl:
    """The engine's command source: the shared slot, and STOP once the control side has died."""

    def __init__(self, slot: StateSlot, parent: int) -> None:
        self.slot, self.parent = slot, parent

    @property
    def serial(self) -> int:
        return self.slot.serial

    def take(self) -> PlayState | str | None:
        if os.getppid() != self.parent:          # orphaned: the control side is gone
            return STOP
        return self.slot.take()


def engine_main(settings: EngineSettings, state: PlayState, board_memory: Any, slot_memory: Any,
                results: Connection, parent: int, tap: tuple[Any, int] | None = None) -> None:
    """The audio process's body: load, settle, go real-time, run, and always report (if anyone listens)."""
    from .kit import load_kit
    from .player import Player

    stopping: list[Engine] = []
    requested = []

    def stop(signum: int, frame: object) -> None:
        requested.append(signum)
        for engine in stopping:
            engine.stop()

    for number in STOP_SIGNALS:
        signal.signal(number, stop)
    report: dict[str, Any] = {"error": ""}
    try:
        kit = load_kit(settings.kit_dir, rate=settings.rate)
        player = Player(kit, state, max_block=max(CHOICES), max_voices=settings.max_voices)
    except BreakageError as failure:
        _send_quietly(results, {**report, "error": str(failure)})
        return
    report["realtime"] = _ask_for_realtime(settings.realtime_priority)
    period, reason, cost = resolve(settings.period, kit, settings.max_voices)   # measured as it will run
    step_up = StepUp(period, settings.rate) if settings.period == AUTO_PERIOD else None
    board = StatusBoard(board_memory)
    engine = Engine(player, lambda: make_sink(replace(settings, period=step_up.period if step_up else period)),
                    _FromControl(StateSlot(slot_memory), parent), board, step_up=step_up,
                    period_reason=reason, block_cost=cost, tap=None if tap is None else FrameRing(*tap))
    stopping.append(engine)
    if requested:
        engine.stop()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        engine.run(settings.frames, settings.wait_for_device)
    except BreakageError as failure:
        report["error"] = str(failure)
    _send_quietly(results, {
        **report, "blocks": engine.blocks, "xruns": engine.xruns, "device_lost": engine.device_lost,
        "frames": player.frame, "frames_written": engine.frames_written, "opens": engine.opens,
        "states_taken": engine.states_taken,
        "final_state": (player.state.tempo, player.state.swing, player.state.volume),
        "worst_block_ms": engine.worst_block * 1e3,
        "block_latency_p99_ms": engine.latency_percentile(99) * 1e3,
        "block_latency_median_ms": engine.latency_percentile(50) * 1e3,
        "misses": engine.recorded_misses(), "last_error": engine.last_error,
        "rss_mb": resident_mb(), "stopped_by": [signal.Signals(n).name for n in requested],
        "period": step_up.period if step_up else period, "period_reason": engine.period_reason,
    })


def _send_quietly(results: Connection, report: dict[str, Any]) -> None:
    """Send the report; a control side that has gone cannot read it, and that is no error."""
    try:
        results.send(report)
    except OSError:
        pass


def resident_mb(pid: int | str = "self") -> float:
    """Resident memory of a process in MB (``VmRSS``), 0.0 if it cannot be read."""
    return _proc_mb(f"/proc/{pid}/status", "VmRSS:")


def proportional_mb(pid: int | str = "self") -> float:
    """Proportional set size in MB (shared pages split among their users), 0.0 if it cannot be read."""
    return _proc_mb(f"/proc/{pid}/smaps_rollup", "Pss:")


def _proc_mb(path: str, key: str) -> float:
    """The kB figure after ``key`` in a /proc file, in MB; 0.0 if the process is gone or the file unreadable."""
    try:
        with open(path) as lines:
            for line in lines:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _ask_for_realtime(priority: int) -> str:
    """SCHED_FIFO and locked memory where the system grants them; a description of what was granted.

    Memory is locked as it is touched (``MCL_ONFAULT``) rather than all at
    once: locking every mapped page made each shared library resident in
    full (~108 MB); what the engine has touched by now is what it runs on.
    """
    granted = []
    try:
        if priority <= 0:
            raise OSError(0, "asked for")
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        granted.append(f"SCHED_FIFO {priority}")
    except (PermissionError, OSError, AttributeError) as error:
        granted.append(f"normal priority ({error.strerror if isinstance(error, OSError) else error})")
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        if libc.mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0:
            granted.append("memory locked as touched")
        elif libc.mlockall(MCL_CURRENT | MCL_FUTURE) == 0:
            granted.append("memory locked")
        else:
            granted.append(f"memory not locked ({os.strerror(ctypes.get_errno())})")
    return ", ".join(granted)
