"""Training in a child process (the API the daemon uses): progress arrives, abort works, result returns."""

from __future__ import annotations

import os
import signal

import pytest

from breakage_pi.ml.dataset import bank_training_set, training_set
from breakage_pi.ml.errors import TrainingError
from breakage_pi.ml.process import TrainingProcess
from breakage_pi.ml.train import TrainConfig, train
from ml_builders import groove, seed_example_bank
from emulation import patience

UNREACHABLE = TrainConfig(targets=(0.05, 1e-12), max_epochs=10**9)


def test_progress_then_the_same_result_as_in_process() -> None:
    data = bank_training_set(seed_example_bank())
    job = TrainingProcess(data, TrainConfig(seed=3))
    assert job.pid is not None and job.pid != os.getpid()
    progress: list[tuple[int, float]] = []
    while not job.finished:
        progress += job.progress(timeout=1.0)
    result = job.result()
    job.close()
    expected = train(data, TrainConfig(seed=3))
    assert progress[0][0] == 0 and progress[-1] == (result.epochs, result.relative_error)
    assert [epoch for epoch, _ in progress] == sorted(epoch for epoch, _ in progress)
    assert [(s.epochs, s.error) for s in result.snapshots] == [(s.epochs, s.error) for s in expected.snapshots]
    assert result.stopped == "targets"


def test_abort_stops_a_run_that_would_never_end() -> None:
    job = TrainingProcess(bank_training_set(seed_example_bank()), UNREACHABLE)
    try:
        first = job.progress(timeout=patience(60.0))
        assert first, "no progress within a minute"
        job.abort()
        result = job.result()
    finally:
        job.close()
    assert result.stopped == "aborted"
    assert result.unreached[-1] == 1e-12


def test_conflicting_examples_train_every_net_in_the_child_too() -> None:
    same_inputs = training_set([groove((0, 8), range(0, 16, 4)), groove((0, 8), range(16))],
                               ("in", "in", "out", "out"))
    job = TrainingProcess(same_inputs, TrainConfig())
    try:
        result = job.result()
    finally:
        job.close()
    assert result.complete and result.stopped == "targets" and result.floor > 0.0


def test_a_killed_child_is_a_clear_error_not_a_hang() -> None:
    job = TrainingProcess(bank_training_set(seed_example_bank()), UNREACHABLE)
    try:
        assert job.progress(timeout=patience(60.0))
        assert job.pid is not None
        os.kill(job.pid, signal.SIGKILL)
        with pytest.raises(TrainingError, match="exited with code -9"):
            job.result()
    finally:
        job.close()


def test_fork_is_refused() -> None:
    with pytest.raises(TrainingError, match="spawn"):
        TrainingProcess(bank_training_set(seed_example_bank()), TrainConfig(), context="fork")
