"""Training from the grid: one run at a time in its own process, the new nets handed over in one step."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from ..core.bank import Bank
from ..core.errors import BreakageError
from ..core.instrument import TrainingFinished, TrainingProgress, TrainingStarted
from .nets import Nets
from .saver import Saver

LOCKSTEP_TRAIN_S = 2.0
"""In lockstep, new nets take over exactly this long (audio time) after TRAIN, waiting if need be."""
TRAINING_CONTEXT = "forkserver"
TRAINING_PRELOAD = ["breakage_pi.ml.process", "breakage_pi.ml.train", "breakage_pi.ml.dataset"]
"""Training runs fork from a server process that has these loaded (see :meth:`Trainer.warm_up`)."""


def _closest_note(result: Any) -> str:
    """A plain note on the nets that ran out of epochs before their target (they play as close as they got)."""
    from ..ml.train import target_label

    count = len(result.config.targets)
    short = [snapshot for snapshot in result.snapshots if not snapshot.reached]
    return "".join(f"; {target_label(s.index, count)} is as close as training got: {s.relative_error:.3g} of the "
                   f"variance unexplained, its target {s.target:.3g}" for s in short)


@dataclass
class _Outcome:
    """A finished run made ready off the control loop: the new nets' files and sessions, or why not."""

    detail: str
    files: list[tuple[str, bytes]] = field(default_factory=list)
    bank: Any = None


class Trainer:
    """One training run at a time in its own process; its reports come back as events.

    When the run ends, a worker thread turns the result into net files and
    ready sessions (tens of milliseconds the control loop must not stall
    for); the new nets then replace the old in one step, and their files are
    written by the saver. With ``lockstep_s`` set, that hand-over happens
    exactly ``lockstep_s`` after the start (audio time), waiting if need be,
    so scripted sessions stay deterministic.
    """

    def __init__(self, nets: Nets, saver: Saver, lockstep_s: float | None = None) -> None:
        self._nets, self._saver, self._lockstep_s = nets, saver, lockstep_s
        self._job: Any = None
        self._worker: threading.Thread | None = None
        self._outcome: _Outcome | None = None
        self._started = 0.0
        self.waits = 0
        """How often the lockstep hand-over found the run unfinished and the audio clock had to wait."""

    @staticmethod
    def warm_up() -> None:
        """Start the process that training runs fork from, with the training code loaded, off the
        loop (a spawned interpreter takes ~0.5 s to import numpy and the trainer; a fork of a
        warm one starts in milliseconds)."""
        import multiprocessing
        from multiprocessing import forkserver

        multiprocessing.get_context(TRAINING_CONTEXT).set_forkserver_preload(TRAINING_PRELOAD)
        threading.Thread(target=forkserver.ensure_running, name="training-warm-up", daemon=True).start()

    def start(self, bank: Bank, now: float) -> list[TrainingStarted]:
        from ..ml.dataset import bank_training_set
        from ..ml.process import TrainingProcess
        from ..ml.train import TrainConfig

        self.close()
        config = TrainConfig()
        training_set = bank_training_set(bank)
        self._job = TrainingProcess(training_set, config, context=TRAINING_CONTEXT)
        self._worker, self._outcome, self._started = None, None, now
        self._set = training_set
        return [TrainingStarted(config.targets, now)]

    def abort(self) -> None:
        self.close()

    def poll(self, now: float) -> list[TrainingProgress | TrainingFinished]:
        if self._job is None:
            return []
        events: list[TrainingProgress | TrainingFinished] = []
        due = self._lockstep_s is None or now >= self._started + self._lockstep_s
        if self._worker is None:
            if due and self._lockstep_s is not None and not self._job.finished:
                self.waits += 1
                self._job.result()                  # due now: wait for it (the audio clock waits too)
            events += [TrainingProgress(epoch, error, now) for epoch, error in self._job.progress()]
            if self._job.finished:
                self._worker = threading.Thread(target=self._prepare, args=(self._job, self._set),
                                                name="nets-ready", daemon=True)
                self._worker.start()
        if self._worker is not None and due:
            if self._lockstep_s is not None and self._worker.is_alive():
                self.waits += 1
                self._worker.join()
            if self._outcome is not None:
                events.append(self._hand_over(now))
        return events

    def _prepare(self, job: Any, training_set: Any) -> None:
        from ..ml.netbank import NetBank, trained_net_files
        from ..ml.netfile import parse_net

        try:
            result = job.result()
        except BreakageError as error:
            self._outcome = _Outcome(f"training failed: {error}; keeping the old nets")
            return
        if not result.complete:
            self._outcome = _Outcome(f"training stopped ({result.stopped}) before every net was there; "
                                     "keeping the old nets")
            return
        files = trained_net_files(result, training_set)
        bank = NetBank([parse_net(data, name) for name, data in files])
        self._outcome = _Outcome(f"trained {len(files)} nets in {result.epochs} epochs "
                                 f"({result.relative_error:.3g} of the variance unexplained); now playing them"
                                 + _closest_note(result), files, bank)

    def _hand_over(self, now: float) -> TrainingFinished:
        outcome, self._outcome = self._outcome, None
        assert outcome is not None
        self.close()
        if outcome.bank is None:
            return TrainingFinished(False, outcome.detail, time=now)
        self._saver.replace_nets(outcome.files)
        loaded = self._nets.adopt(outcome.bank)
        return TrainingFinished(True, outcome.detail, loaded.labels, loaded.roles, now)

    def close(self) -> None:
        """Stop the run (an abort keeps the old nets); a result being made ready is dropped."""
        if self._job is not None:
            self._job.close()
            self._job = None
        self._worker = None
        self._outcome = None
