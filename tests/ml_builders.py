"""Test-data builders for the nets' tests: the seed's example, small banks, trained nets (cached)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np

from breakage_pi.core import Bank, Pattern, Slot
from breakage_pi.ml.dataset import TrainingSet, bank_training_set
from breakage_pi.ml.net import Net, result_nets
from breakage_pi.ml.train import TrainConfig, TrainingResult, train

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "models"
DEMO_BANK = REPO / "breakage_pi" / "data" / "demo_bank.json"


def groove(kicks: Iterable[int], hats: Iterable[int] = (), kick: int = 220, hat: int = 120) -> Pattern:
    """Kicks on ``kicks``, snares on the backbeat (steps 4 and 12), closed hats on ``hats``."""
    grid = np.zeros((4, 16), dtype=np.uint8)
    grid[0, list(kicks)] = kick
    grid[1, [4, 12]] = 200
    grid[3, list(hats)] = hat
    return Pattern(grid)


SPARSE_KICKS = (0, 8)
EIGHTHS_KICKS = (0, 6, 8, 10)
SIXTEENTHS_KICKS = (0, 3, 6, 8, 10, 11)


def seed_example_bank() -> Bank:
    """The seed's own example: sparse, every-other-step and every-step closed hats as kicks are added."""
    return Bank(slots=(
        Slot("sparse", True, groove(SPARSE_KICKS, range(0, 16, 4))),
        Slot("eighths", True, groove(EIGHTHS_KICKS, range(0, 16, 2))),
        Slot("sixteenths", True, groove(SIXTEENTHS_KICKS, range(16))),
    ))


@lru_cache(maxsize=None)
def seed_example_run(seed: int = 0) -> tuple[TrainingSet, TrainingResult, tuple[Net, ...]]:
    """The seed's example trained with the default targets (cached: several tests share it)."""
    data = bank_training_set(seed_example_bank())
    result = train(data, TrainConfig(seed=seed))
    return data, result, tuple(result_nets(result, data))


def random_patterns(count: int, seed: int) -> list[Pattern]:
    """Patterns with random velocities (a third of the steps hit), for contract tests."""
    rng = np.random.default_rng(seed)
    grids = rng.integers(1, 256, size=(count, 4, 16)) * (rng.random((count, 4, 16)) < 0.33)
    return [Pattern(grid.astype(np.uint8)) for grid in grids]
