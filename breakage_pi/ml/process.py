"""Training in a child process, so neither the audio engine nor the control loop ever waits on it.

The child is started with the ``spawn`` method (a clean interpreter: no
onnxruntime threads or audio state forked into it), streams ``(epoch, error)``
back through a pipe, stops early when asked, and sends the result.

    job = TrainingProcess(training_set, TrainConfig())
    while not job.finished:
        for epoch, error in job.progress(timeout=0.03):   # e.g. once per grid frame
            show(epoch, error)
    result = job.result()
"""

from __future__ import annotations

import signal
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

from ..children import child_context
from ..core.errors import BreakageError
from .dataset import TrainingSet
from .errors import TrainingError
from .train import TrainConfig, TrainingResult, train


class TrainingProcess:
    """One training run in a child process: progress, abort, result.

    ``context`` is a :mod:`multiprocessing` start method, ``"spawn"`` or
    ``"forkserver"``; never ``"fork"`` from a process that runs threads.
    """

    def __init__(self, data: TrainingSet, config: TrainConfig = TrainConfig(), context: str = "spawn") -> None:
        if context not in ("spawn", "forkserver"):
            raise TrainingError(f"start training with 'spawn' or 'forkserver', not {context!r}")
        ctx = child_context(context)
        receiver, sender = ctx.Pipe(duplex=False)
        self._abort = ctx.Event()
        self._receiver = receiver
        self._process = ctx.Process(target=_run_child, args=(data, config, sender, self._abort),
                                    name="breakage-pi-train", daemon=True)
        self._process.start()
        sender.close()
        self._result: TrainingResult | None = None
        self._failure: str | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id (e.g. to lower its priority)."""
        return self._process.pid

    @property
    def finished(self) -> bool:
        """Whether the result (or a failure) has arrived; only :meth:`progress` and :meth:`result` update it."""
        return self._result is not None or self._failure is not None

    def progress(self, timeout: float = 0.0) -> list[tuple[int, float]]:
        """Every ``(epoch, error)`` received so far, waiting up to ``timeout`` seconds for the first."""
        received: list[tuple[int, float]] = []
        wait = timeout
        while not self.finished and self._receiver.poll(wait):
            wait = 0.0
            try:
                kind, payload = self._receiver.recv()
            except EOFError:
                self._process.join()
                self._failure = f"the training process exited with code {self._process.exitcode} and no result"
                break
            if kind == "progress":
                received.append(payload)
            elif kind == "result":
                self._result = payload
            else:
                self._failure = payload
        return received

    def abort(self) -> None:
        """Ask the child to stop at its next report; :meth:`result` then has ``stopped == "aborted"``."""
        self._abort.set()

    def result(self) -> TrainingResult:
        """Wait for and return the result; raise :class:`TrainingError` if training failed."""
        while not self.finished:
            self.progress(timeout=1.0)
        self._process.join()
        self._receiver.close()
        if self._failure is not None:
            raise TrainingError(self._failure)
        assert self._result is not None
        return self._result

    def close(self, timeout: float = 5.0) -> None:
        """Abort, wait up to ``timeout`` seconds for the child to end, then kill it."""
        self._abort.set()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._receiver.close()


def _run_child(data: TrainingSet, config: TrainConfig, sender: Connection, abort: Event) -> None:
    """The child's whole life: train, streaming progress, then send the result or the user error.

    Ctrl-C in a terminal reaches the whole process group: the parent decides
    (it aborts), so the child ignores SIGINT rather than dying with a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        result = train(data, config, progress=lambda epoch, error: sender.send(("progress", (epoch, error))),
                       abort=abort.is_set)
    except BreakageError as error:
        sender.send(("failure", str(error)))
    else:
        sender.send(("result", result))
    finally:
        sender.close()
