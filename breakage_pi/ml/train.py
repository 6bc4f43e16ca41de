"""Training: full-batch Adam, one net snapshotted as the error crosses each target; always every net.

Error targets are relative to the training set (see
:meth:`~.dataset.TrainingSet.reference_error`): the fraction of the training
outputs' variance a net leaves unexplained (1 - R^2), so "loose" is better than
the average pattern on any bank and "tight" is always close to the player's
patterns. They count only what a net *can* explain: when some training
patterns share their inputs but differ in hats, no net can go below the
:meth:`~.dataset.TrainingSet.error_floor`, so a target ``t`` is reached at
``floor + t * (1 - floor)`` (:func:`reachable_targets`): tight sits just
above the floor and every bank trains all three nets.

Two runs make the nets. The looser ones (loose, medium) learn from the
training patterns *and* copies circularly shifted by 4, 8 and 12 steps (same
place in the beat, other place in the bar), which teaches them a groove is
not tied to its bar position: on the shipped evaluation set's unseen styles
(leave one style out, ``breakage-pi bench nets``) that brought loose from
worse than the average hats to better, and held out within known styles to
within 10 % of ridge regression. Shrinking their outputs towards the
training average, with the amount chosen by cross-validation, was measured
too and chose no shrinkage (0.9-1.0), so it is not done. The tight net
carries on from there on the patterns alone (which took about half the
epochs of starting afresh), with Gaussian noise on the inputs
(std :attr:`TrainConfig.input_noise`) so it does not fit single velocities.
Targets the shifted run has not reached after
:attr:`TrainConfig.shifted_epochs` (at most half of ``max_epochs``) are taken by the plain run, and a target
still not reached after ``max_epochs`` gets the closest net (flagged
unreached): a run that is not aborted always yields every net.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..core.pattern import STEPS
from .adam import Adam
from .dataset import TrainingSet
from .errors import TrainingError
from .mlp import Mlp, init_mlp

DEFAULT_TARGETS = (0.2, 0.1, 0.03)
TARGET_MEASURE = "unexplained_variance"
"""How targets are measured: error / :meth:`~.dataset.TrainingSet.reference_error` (1 - R^2)."""

MIN_EXPLAINABLE = 0.1
"""The least explainable fraction of the variance a target counts from (when identical inputs with
different outputs leave a net less than that to explain)."""

Progress = Callable[[int, float], None]
"""Called with ``(epoch, relative error)``: epochs done so far and the fraction of variance unexplained."""


def target_label(index: int, count: int) -> str:
    """What the ``index``-th of ``count`` targets (loose to tight) means to a player: loose, medium, tight."""
    if count == 1:
        return "only"
    return "loose" if index == 0 else "tight" if index == count - 1 else "medium"


def net_file_name(index: int, count: int, target: float) -> str:
    """The file for the ``index``-th of ``count`` targets (loose to tight): ``net-loose.onnx``,
    ``net-medium.onnx``, ``net-tight.onnx``; with one target ``net-only.onnx``; with more than three
    the middle ones carry their target, ``net-medium-0.2.onnx``."""
    label = target_label(index, count)
    return f"net-{label}-{target:g}.onnx" if label == "medium" and count > 3 else f"net-{label}.onnx"


@dataclass(frozen=True)
class TrainConfig:
    """How to train: error targets (fractions of variance unexplained), limits, and the seed that makes it
    repeatable. ``input_noise`` is the std of the noise added to the 0-1 inputs while training."""

    targets: tuple[float, ...] = DEFAULT_TARGETS
    seed: int = 0
    hidden: tuple[int, ...] = (32,)
    learning_rate: float = 0.003
    input_noise: float = 0.05
    max_epochs: int = 20_000
    report_every: int = 10
    shifts: tuple[int, ...] = (4, 8, 12)
    shifted_epochs: int = 3_000

    def __post_init__(self) -> None:
        targets = tuple(self.targets)
        if not targets:
            raise TrainingError("give at least one error target")
        for target in targets:
            if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0.0 < target < 1.0:
                raise TrainingError("an error target is the fraction of the training outputs' variance left "
                                    f"unexplained, 0 < target < 1; got {target!r}")
        if len(set(targets)) != len(targets):
            raise TrainingError(f"error targets must be distinct, got {list(targets)}")
        object.__setattr__(self, "targets", tuple(sorted((float(t) for t in targets), reverse=True)))
        object.__setattr__(self, "hidden", tuple(self.hidden))
        object.__setattr__(self, "shifts", tuple(self.shifts))
        if any(isinstance(shift, bool) or not isinstance(shift, int) or not 0 < shift < STEPS
               for shift in self.shifts):
            raise TrainingError(f"shifts are steps 1-{STEPS - 1}, got {list(self.shifts)}")
        if isinstance(self.shifted_epochs, bool) or not isinstance(self.shifted_epochs, int) \
                or self.shifted_epochs < 0:
            raise TrainingError(f"shifted epochs must be a whole number, got {self.shifted_epochs!r}")
        if any(isinstance(size, bool) or not isinstance(size, int) or size < 1 for size in self.hidden):
            raise TrainingError(f"hidden layer sizes must be positive integers, got {list(self.hidden)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise TrainingError(f"the seed must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.max_epochs, int) or self.max_epochs < 1:
            raise TrainingError(f"max epochs must be a positive integer, got {self.max_epochs!r}")
        if not isinstance(self.report_every, int) or self.report_every < 1:
            raise TrainingError(f"report_every must be a positive integer, got {self.report_every!r}")
        if not 0.0 < self.learning_rate < 1.0:
            raise TrainingError(f"learning rate must be 0-1, got {self.learning_rate!r}")
        if not 0.0 <= self.input_noise < 1.0:
            raise TrainingError(f"input noise must be 0-1, got {self.input_noise!r}")


@dataclass(frozen=True)
class Snapshot:
    """The net as it was when its relative error first fell to ``target`` (the asked target made reachable,
    see :func:`reachable_targets`); ``error`` is its MSE then. ``index`` is its place loose (0) to tight;
    ``reached`` is false for the closest net to a target training ran out of epochs for."""

    mlp: Mlp
    target: float
    error: float
    epochs: int
    reference_error: float
    index: int = 0
    reached: bool = True

    @property
    def error_target(self) -> float:
        """The target as an MSE on 0-1 velocities for this training set."""
        return self.target * self.reference_error

    @property
    def relative_error(self) -> float:
        return self.error / self.reference_error


@dataclass(frozen=True)
class TrainingResult:
    """Snapshots (loose to tight) and why training stopped.

    ``stopped`` is ``"targets"`` (all reached), ``"max_epochs"`` (every net there, the unreached ones as
    close as training got) or ``"aborted"`` (only the nets reached); ``unreached`` lists the (reachable)
    targets not reached; ``error`` is the last MSE, ``reference_error`` the average pattern's MSE the
    targets are relative to, ``floor`` the fraction of it no net can explain.
    """

    snapshots: tuple[Snapshot, ...]
    unreached: tuple[float, ...]
    stopped: str
    epochs: int
    error: float
    reference_error: float
    config: TrainConfig = field(default_factory=TrainConfig)
    floor: float = 0.0

    @property
    def relative_error(self) -> float:
        return self.error / self.reference_error

    @property
    def complete(self) -> bool:
        """Whether there is a net for every target (all but an aborted run)."""
        return len(self.snapshots) == len(self.config.targets)


def reachable_targets(targets: tuple[float, ...], floor: float) -> tuple[float, ...]:
    """The targets as reached on a training set whose ``floor`` (0-1) of the variance no net can explain:
    each leaves its fraction of the *explainable* variance, ``floor + t * (1 - floor)`` (with at least
    :data:`MIN_EXPLAINABLE` counted as explainable, so that a target never sits on the floor itself,
    which a net only approaches).

    >>> reachable_targets((0.2, 0.1, 0.03), 0.0)
    (0.2, 0.1, 0.03)
    >>> [round(t, 3) for t in reachable_targets((0.2, 0.1, 0.03), 0.5)]
    [0.6, 0.55, 0.515]
    """
    floor = min(max(floor, 0.0), 1.0)
    return tuple(floor + target * max(1.0 - floor, MIN_EXPLAINABLE) for target in targets)


def train(data: TrainingSet, config: TrainConfig = TrainConfig(), progress: Progress | None = None,
          abort: Callable[[], bool] | None = None) -> TrainingResult:
    """Train every target's net: the looser ones on shifted copies too, the tightest on the patterns alone.

    ``progress`` is called every ``report_every`` epochs and whenever a target
    is crossed, with epochs counted across both runs and the error on the
    training patterns; ``abort`` is polled as often. Deterministic for a seed.
    """
    reference = data.reference_error()
    floor = data.error_floor() / reference
    reachable = reachable_targets(config.targets, floor)
    rng = np.random.default_rng(config.seed)
    pending = list(enumerate(reachable))
    snapshots: list[Snapshot] = []
    loops = _Loops(data, config, reference, progress, abort)
    mlp = init_mlp(data.inputs.shape[1], config.hidden, data.targets.shape[1], rng)
    shifted_epochs = min(config.shifted_epochs, config.max_epochs // 2)
    if len(pending) > 1 and config.shifts and shifted_epochs:
        looser = pending[:-1]
        mlp = loops.run(mlp, shifted(data, config.shifts), looser, snapshots, rng, shifted_epochs, force=False)
        pending = looser + pending[-1:]
        loops.epoch += 1
    if not loops.aborted:
        loops.run(mlp, data, pending, snapshots, rng, config.max_epochs - loops.epoch, force=True)
    snapshots.sort(key=lambda snapshot: snapshot.index)
    unreached = tuple(target for index, target in enumerate(reachable)
                      if not any(s.index == index and s.reached for s in snapshots))
    stopped = "aborted" if loops.aborted else "targets" if not unreached else "max_epochs"
    return TrainingResult(tuple(snapshots), unreached, stopped, loops.epoch, loops.error, reference, config, floor)


def shifted(data: TrainingSet, shifts: tuple[int, ...]) -> TrainingSet:
    """``data`` followed by copies of every pattern rotated by each of ``shifts`` steps, all channels alike."""
    def rotate(rows: np.ndarray, shift: int) -> np.ndarray:
        return np.roll(rows.reshape(len(rows), -1, STEPS), shift, axis=2).reshape(len(rows), -1)

    inputs = np.concatenate([data.inputs, *(rotate(data.inputs, shift) for shift in shifts)])
    targets = np.concatenate([data.targets, *(rotate(data.targets, shift) for shift in shifts)])
    return TrainingSet(inputs, targets, data.channels, data.roles, data.digest)


class _Loops:
    """The training loops of one run: shared epoch count, progress, abort and the last error."""

    def __init__(self, data: TrainingSet, config: TrainConfig, reference: float, progress: Progress | None,
                 abort: Callable[[], bool] | None) -> None:
        self.data, self.config, self.reference = data, config, reference
        self.progress, self.abort = progress, abort
        self.epoch, self.error, self.aborted = 0, math.inf, False

    def run(self, mlp: Mlp, learn: TrainingSet, pending: list[tuple[int, float]], snapshots: list[Snapshot],
            rng: np.random.Generator, epochs: int, force: bool) -> Mlp:
        """Train ``mlp`` on ``learn`` for at most ``epochs``, snapshotting each of ``pending`` (index, target)
        it reaches on the training patterns (removed from ``pending``); with ``force`` the rest get the
        closest net seen. Returns the net as training left it."""
        config, x, y = self.config, learn.inputs, learn.targets
        optimiser = Adam(mlp.parameters(), config.learning_rate)
        best: tuple[float, Mlp, int] | None = None
        start = self.epoch
        while True:
            error = float(np.mean((mlp.forward(self.data.inputs) - self.data.targets) ** 2))
            noisy = x + rng.normal(0.0, config.input_noise, x.shape) if config.input_noise else x
            _, gradients = mlp.loss_and_gradients(noisy, y)
            self.error = error
            crossed = False
            while pending and error <= pending[0][1] * self.reference:
                index, target = pending.pop(0)
                snapshots.append(Snapshot(mlp, target, error, self.epoch, self.reference, index))
                crossed = True
            if force and (best is None or error < best[0]):
                best = (error, mlp, self.epoch)
            last = not pending or self.epoch - start >= epochs
            if self.progress is not None and (crossed or self.epoch % config.report_every == 0 or last):
                self.progress(self.epoch, error / self.reference)
            if last:
                break
            if self.abort is not None and self.epoch % config.report_every == 0 and self.abort():
                self.aborted = True
                return mlp
            mlp = mlp.with_parameters(optimiser.step(mlp.parameters(), gradients))
            self.epoch += 1
        if force and best is not None:
            error, closest, epoch = best
            snapshots.extend(Snapshot(closest, target, error, epoch, self.reference, index, reached=False)
                             for index, target in pending)
            pending.clear()
        return mlp
