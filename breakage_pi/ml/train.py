"""Training: full-batch Adam on a training set, one net snapshotted as the error crosses each target.

Error targets are relative to the training set (see
:meth:`~.dataset.TrainingSet.reference_error`): the fraction of the training
outputs' variance a net leaves unexplained (1 - R^2), so "loose" is better than
the average pattern on any bank and "tight" is always close to the player's
patterns. Measured on the shipped evaluation set (``breakage-pi bench nets``):
loose (0.3) generalises best, tight (0.03) reproduces its training patterns.
Gaussian noise on the inputs (std :attr:`TrainConfig.input_noise`) while
training keeps the tight net from fitting single velocities: it cut the
tight net's held-out error from 0.022 to 0.018-0.019 (seeds 0-2) for about
twice the epochs. One run yields every
net, so the player can switch between them live.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .adam import Adam
from .dataset import TrainingSet
from .errors import TrainingError
from .mlp import Mlp, init_mlp

DEFAULT_TARGETS = (0.3, 0.1, 0.03)
TARGET_MEASURE = "unexplained_variance"
"""How targets are measured: error / :meth:`~.dataset.TrainingSet.reference_error` (1 - R^2)."""

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
    """The net as it was when its relative error first fell to ``target``; ``error`` is its MSE then."""

    mlp: Mlp
    target: float
    error: float
    epochs: int
    reference_error: float

    @property
    def error_target(self) -> float:
        """The target as an MSE on 0-1 velocities for this training set."""
        return self.target * self.reference_error

    @property
    def relative_error(self) -> float:
        return self.error / self.reference_error


@dataclass(frozen=True)
class TrainingResult:
    """Snapshots for the targets reached (loose to tight) and why training stopped.

    ``stopped`` is ``"targets"`` (all reached), ``"max_epochs"`` or ``"aborted"``;
    ``error`` is the last MSE, ``reference_error`` the average pattern's MSE the targets are relative to.
    """

    snapshots: tuple[Snapshot, ...]
    unreached: tuple[float, ...]
    stopped: str
    epochs: int
    error: float
    reference_error: float
    config: TrainConfig = field(default_factory=TrainConfig)

    @property
    def relative_error(self) -> float:
        return self.error / self.reference_error


def train(data: TrainingSet, config: TrainConfig = TrainConfig(), progress: Progress | None = None,
          abort: Callable[[], bool] | None = None) -> TrainingResult:
    """Train until the tightest target is reached, ``max_epochs`` pass, or ``abort()`` is true.

    ``progress`` is called every ``report_every`` epochs and whenever a target
    is crossed; ``abort`` is polled as often. Deterministic for a seed.
    """
    reference = data.reference_error()
    floor = data.error_floor() / reference
    if floor > 0.0 and config.targets[-1] <= floor:
        raise TrainingError(
            f"target {config.targets[-1]:g} cannot be reached: some training slots have the same input channels "
            f"but different outputs, so no net can leave less than {floor:.4g} of the variance unexplained")
    x, y = data.inputs, data.targets
    rng = np.random.default_rng(config.seed)
    mlp = init_mlp(x.shape[1], config.hidden, y.shape[1], rng)
    optimiser = Adam(mlp.parameters(), config.learning_rate)
    pending = list(config.targets)
    snapshots: list[Snapshot] = []
    epoch, error, stopped = 0, math.inf, "max_epochs"
    while True:
        if config.input_noise:
            error = float(np.mean((mlp.forward(x) - y) ** 2))
            _, gradients = mlp.loss_and_gradients(x + rng.normal(0.0, config.input_noise, x.shape), y)
        else:
            error, gradients = mlp.loss_and_gradients(x, y)
        crossed = False
        while pending and error <= pending[0] * reference:
            snapshots.append(Snapshot(mlp, pending.pop(0), error, epoch, reference))
            crossed = True
        if progress is not None and (crossed or epoch % config.report_every == 0 or epoch >= config.max_epochs):
            progress(epoch, error / reference)
        if not pending:
            stopped = "targets"
            break
        if epoch >= config.max_epochs:
            break
        if abort is not None and epoch % config.report_every == 0 and abort():
            stopped = "aborted"
            break
        mlp = mlp.with_parameters(optimiser.step(mlp.parameters(), gradients))
        epoch += 1
    return TrainingResult(tuple(snapshots), tuple(pending), stopped, epoch, error, reference, config)
