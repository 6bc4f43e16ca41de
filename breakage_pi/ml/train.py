"""Training: full-batch Adam on a training set, one net snapshotted as the error crosses each target.

Loose targets give nets that generalise (and surprise); tight ones give nets
that reproduce the training patterns closely (predictable). One run yields
them all, so the player can switch between them live.
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

DEFAULT_TARGETS = (0.05, 0.02, 0.005)

Progress = Callable[[int, float], None]
"""Called with ``(epoch, error)``: epochs done so far and the MSE (0-1 velocities) at that point."""


def target_label(index: int, count: int) -> str:
    """What the ``index``-th of ``count`` targets (loose to tight) means to a player: loose, medium, tight."""
    if count == 1:
        return "only"
    return "loose" if index == 0 else "tight" if index == count - 1 else "medium"


@dataclass(frozen=True)
class TrainConfig:
    """How to train: error targets (MSE on 0-1 velocities), limits, and the seed that makes it repeatable."""

    targets: tuple[float, ...] = DEFAULT_TARGETS
    seed: int = 0
    hidden: tuple[int, ...] = (32,)
    learning_rate: float = 0.003
    max_epochs: int = 20_000
    report_every: int = 10

    def __post_init__(self) -> None:
        targets = tuple(self.targets)
        if not targets:
            raise TrainingError("give at least one error target")
        for target in targets:
            if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0.0 < target < 1.0:
                raise TrainingError(f"an error target is an MSE on 0-1 velocities, 0 < target < 1; got {target!r}")
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


@dataclass(frozen=True)
class Snapshot:
    """The net as it was when the training error first fell to ``target``."""

    mlp: Mlp
    target: float
    error: float
    epochs: int


@dataclass(frozen=True)
class TrainingResult:
    """Snapshots for the targets reached (loose to tight) and why training stopped.

    ``stopped`` is ``"targets"`` (all reached), ``"max_epochs"`` or ``"aborted"``.
    """

    snapshots: tuple[Snapshot, ...]
    unreached: tuple[float, ...]
    stopped: str
    epochs: int
    error: float
    config: TrainConfig = field(default_factory=TrainConfig)


def train(data: TrainingSet, config: TrainConfig = TrainConfig(), progress: Progress | None = None,
          abort: Callable[[], bool] | None = None) -> TrainingResult:
    """Train until the tightest target is reached, ``max_epochs`` pass, or ``abort()`` is true.

    ``progress`` is called every ``report_every`` epochs and whenever a target
    is crossed; ``abort`` is polled as often. Deterministic for a seed.
    """
    floor = data.error_floor()
    if floor > 0.0 and config.targets[-1] <= floor:
        raise TrainingError(
            f"target {config.targets[-1]:g} cannot be reached: some training slots have the same input channels "
            f"but different outputs, so no net can get below error {floor:.4g}")
    x, y = data.inputs, data.targets
    mlp = init_mlp(x.shape[1], config.hidden, y.shape[1], np.random.default_rng(config.seed))
    optimiser = Adam(mlp.parameters(), config.learning_rate)
    pending = list(config.targets)
    snapshots: list[Snapshot] = []
    epoch, error, stopped = 0, math.inf, "max_epochs"
    while True:
        error, gradients = mlp.loss_and_gradients(x, y)
        crossed = False
        while pending and error <= pending[0]:
            snapshots.append(Snapshot(mlp, pending.pop(0), error, epoch))
            crossed = True
        if progress is not None and (crossed or epoch % config.report_every == 0 or epoch >= config.max_epochs):
            progress(epoch, error)
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
    return TrainingResult(tuple(snapshots), tuple(pending), stopped, epoch, error, config)
