"""The audio process: the engine runs apart from the control side, as norns' crone does.

Measured (DESIGN §3): Python work in another thread of the audio process
makes blocks late through the GIL, and a full garbage collection can take
~1 s on a Pi 4. So the engine gets a process of its own, started with
``spawn`` (nothing inherited but what it is given), fed PlayState snapshots
through a pipe it polls without waiting, and reporting on a shared
:class:`StatusBoard`. Inside it, after start-up, the garbage collector is
frozen and disabled, and real-time priority and memory locking are asked for
(granted under systemd with ``LimitRTPRIO``/``LimitMEMLOCK``; refused
harmlessly elsewhere).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import multiprocessing
import os
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from ..core.errors import BreakageError
from .engine import STOP, Engine
from ..core.playstate import PlayState
from .sinks import AlsaSink, NullSink, PacedSink, Sink, WavSink
from .status import FIELDS, EngineStatus, StatusBoard

log = logging.getLogger(__name__)

MCL_CURRENT, MCL_FUTURE = 1, 2


@dataclass(frozen=True)
class EngineSettings:
    """How the audio process opens its device and what it loads.

    ``device``: an ALSA PCM name, ``wav:PATH`` (offline capture) or ``none``.
    ``pace``: pace an unpaced device (file/null/wav/none) in real time.
    ``frames``: stop after this many frames (None: until stopped).
    """

    device: str
    rate: int = 48_000
    period: int = 64
    periods: int = 3
    kit_dir: str | None = None
    pace: bool = False
    frames: int | None = None
    realtime_priority: int = 70
    max_voices: int = 64
    wait_for_device: bool = True


def make_sink(settings: EngineSettings) -> Sink:
    """The sink ``settings.device`` names, paced if asked."""
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

    >>> with AudioProcess(EngineSettings("hw:CARD=Headphones,DEV=0"), PlayState(pattern)) as audio:
    ...     audio.send(PlayState(pattern, tempo=100.0))      # applied at the next block
    ...     audio.status().step                               # the playhead
    """

    def __init__(self, settings: EngineSettings, state: PlayState) -> None:
        context = multiprocessing.get_context("spawn")
        child_end, self._commands = context.Pipe(duplex=False)           # (receiving end, sending end)
        self._results, self._child_results = context.Pipe(duplex=False)
        self._shared = context.RawArray("b", 8 * len(FIELDS))
        self._board = StatusBoard(self._shared)
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")     # inherited by the spawned child
        self._process = context.Process(target=engine_main, name="breakage-pi-audio", daemon=True,
                                        args=(settings, state, child_end, self._child_results, self._shared))
        self.report: dict[str, Any] = {}

    def start(self) -> AudioProcess:
        self._process.start()
        return self

    def send(self, state: PlayState) -> bool:
        """Hand a new snapshot to the engine (never waits on the audio side); False if it has ended."""
        try:
            self._commands.send(state)
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def status(self) -> EngineStatus:
        return self._board.read()

    def is_alive(self) -> bool:
        return self._process.is_alive()

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the engine to finish by itself; returns its final report ({} if it died without one)."""
        wait([self._results, self._process.sentinel], timeout)
        if self._results.poll():
            self.report = self._results.recv()
        self._process.join(5.0 if timeout is None else timeout)
        return self.report

    def stop(self, timeout: float = 5.0) -> dict[str, Any]:
        """Stop the engine and return its final report (blocks, xruns, latencies)."""
        if self._process.is_alive():
            try:
                self._commands.send(STOP)
            except (BrokenPipeError, OSError):
                pass
        report = self.wait(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(1.0)
        return report

    def __enter__(self) -> AudioProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def engine_main(settings: EngineSettings, state: PlayState, commands: Connection, results: Connection,
                shared: Any) -> None:
    """The audio process's body: load, settle, go real-time, run, and always report."""
    from .kit import load_kit
    from .player import Player

    logging.basicConfig(level=logging.INFO, format="breakage-pi audio: %(message)s")
    report: dict[str, Any] = {"error": ""}
    try:
        player = Player(load_kit(settings.kit_dir), state, max_block=1024, max_voices=settings.max_voices)
    except BreakageError as failure:
        results.send({**report, "error": str(failure)})
        return

    def poll() -> object:
        return commands.recv() if commands.poll() else None

    engine = Engine(player, lambda: make_sink(settings), poll, StatusBoard(shared))
    report["realtime"] = _ask_for_realtime(settings.realtime_priority)
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        engine.run(settings.frames, settings.wait_for_device)
    except KeyboardInterrupt:
        pass
    except BreakageError as failure:
        report["error"] = str(failure)
    finally:
        results.send({
            **report, "blocks": engine.blocks, "xruns": engine.xruns, "device_lost": engine.device_lost,
            "frames": player.frame, "worst_block_ms": engine.worst_block * 1e3,
            "block_latency_p99_ms": engine.latency_percentile(99) * 1e3,
            "block_latency_median_ms": engine.latency_percentile(50) * 1e3,
        })


def _ask_for_realtime(priority: int) -> str:
    """SCHED_FIFO and locked memory where the system grants them; a description of what was granted."""
    granted = []
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        granted.append(f"SCHED_FIFO {priority}")
    except (PermissionError, OSError, AttributeError) as error:
        log.info("no real-time priority (%s); running at normal priority", error)
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        if libc.mlockall(MCL_CURRENT | MCL_FUTURE) == 0:
            granted.append("memory locked")
        else:
            log.info("memory not locked (%s)", os.strerror(ctypes.get_errno()))
    return ", ".join(granted) or "normal priority"
