"""Training: several targets, determinism, progress and abort, and nets a musician would accept."""

from __future__ import annotations

import numpy as np
import pytest

from breakage_pi.core import Pattern
from breakage_pi.ml.dataset import bank_training_set, input_vector, training_set
from breakage_pi.ml.errors import TrainingError
from breakage_pi.ml.train import DEFAULT_TARGETS, TrainConfig, reachable_targets, target_label, train
from ml_builders import (EIGHTHS_KICKS, SIXTEENTHS_KICKS, SPARSE_KICKS, groove, random_patterns, seed_example_bank,
                         seed_example_run)


def test_three_targets_give_three_nets_with_strictly_ordered_errors() -> None:
    _, result, nets = seed_example_run()
    assert result.stopped == "targets" and result.unreached == ()
    assert [s.target for s in result.snapshots] == list(DEFAULT_TARGETS)
    errors = [s.error for s in result.snapshots]
    assert errors[0] > errors[1] > errors[2]
    assert all(s.relative_error <= s.target and s.error <= s.error_target for s in result.snapshots)
    assert [s.epochs for s in result.snapshots] == sorted(s.epochs for s in result.snapshots)
    assert len({s.epochs for s in result.snapshots}) == 3
    assert [net.info.relative_target for net in nets] == list(DEFAULT_TARGETS)
    assert result.reference_error == pytest.approx(float(data_variance()))
    tight = result.snapshots[-1]
    data = bank_training_set(seed_example_bank())
    assert float(np.mean((tight.mlp.forward(data.inputs) - data.targets) ** 2)) == pytest.approx(tight.error)


def data_variance() -> float:
    """The variance of the seed example's hats: what always playing their average leaves unexplained."""
    return float(bank_training_set(seed_example_bank()).targets.var(axis=0).mean())


def test_training_is_deterministic_for_a_seed() -> None:
    data = bank_training_set(seed_example_bank())
    first, second = train(data, TrainConfig(seed=7)), train(data, TrainConfig(seed=7))
    other = train(data, TrainConfig(seed=8))
    for a, b in zip(first.snapshots, second.snapshots):
        assert (a.epochs, a.error) == (b.epochs, b.error)
        assert all(np.array_equal(p, q) for p, q in zip(a.mlp.parameters(), b.mlp.parameters()))
    assert not np.array_equal(first.snapshots[-1].mlp.weights[0], other.snapshots[-1].mlp.weights[0])


def test_progress_reports_epochs_and_errors_including_each_crossing() -> None:
    data = bank_training_set(seed_example_bank())
    reports: list[tuple[int, float]] = []
    result = train(data, TrainConfig(report_every=5), progress=lambda epoch, error: reports.append((epoch, error)))
    epochs = [epoch for epoch, _ in reports]
    assert epochs[0] == 0 and epochs == sorted(set(epochs))
    assert set(range(0, result.epochs + 1, 5)) <= set(epochs)
    for snapshot in result.snapshots:
        assert (snapshot.epochs, snapshot.relative_error) in reports
    assert reports[-1] == (result.epochs, result.relative_error)


def test_abort_stops_early_and_keeps_the_nets_already_reached() -> None:
    data = bank_training_set(seed_example_bank())
    seen: list[float] = []
    result = train(data, TrainConfig(targets=(0.05, 1e-9), report_every=1), progress=lambda e, err: seen.append(err),
                   abort=lambda: bool(seen) and seen[-1] < 0.03)
    assert result.stopped == "aborted"
    assert [s.target for s in result.snapshots] == [0.05] and result.unreached == (1e-9,)
    assert result.error < 0.03


def test_max_epochs_leaves_targets_unreached() -> None:
    data = bank_training_set(seed_example_bank())
    result = train(data, TrainConfig(max_epochs=30))
    assert result.stopped == "max_epochs" and result.epochs == 30
    assert result.unreached and all(t < result.relative_error for t in result.unreached)


def test_targets_are_sorted_loose_to_tight() -> None:
    assert TrainConfig(targets=(0.01, 0.1, 0.03)).targets == (0.1, 0.03, 0.01)
    assert [target_label(i, 3) for i in range(3)] == ["loose", "medium", "tight"]


@pytest.mark.parametrize("changes, message", [
    ({"targets": ()}, "at least one"),
    ({"targets": (0.05, 0.05)}, "distinct"),
    ({"targets": (0.0,)}, "0 < target < 1"),
    ({"targets": (1.5,)}, "0 < target < 1"),
    ({"targets": (float("nan"),)}, "0 < target < 1"),
    ({"seed": -1}, "seed"),
    ({"max_epochs": 0}, "max epochs"),
    ({"hidden": (0,)}, "hidden"),
    ({"learning_rate": 2.0}, "learning rate"),
])
def test_bad_configs_are_clear_errors(changes: dict, message: str) -> None:
    with pytest.raises(TrainingError, match=message):
        TrainConfig(**changes)


def test_a_bank_with_conflicting_examples_trains_three_nets_tight_just_above_its_floor() -> None:
    same_kicks = [groove((0, 8), range(0, 16, 4)), groove((0, 8), range(16)), groove((0, 6, 8, 10), range(0, 16, 2))]
    data = training_set(same_kicks, ("in", "in", "out", "out"))
    floor = data.error_floor() / data.reference_error()
    assert 0.1 < floor < 0.9
    result = train(data, TrainConfig())
    assert result.stopped == "targets" and result.complete and result.floor == pytest.approx(floor)
    assert [s.index for s in result.snapshots] == [0, 1, 2]
    assert [s.target for s in result.snapshots] == pytest.approx(reachable_targets(DEFAULT_TARGETS, floor))
    tight = result.snapshots[-1]
    assert floor < tight.relative_error <= floor + 0.03 * (1 - floor)
    errors = [s.error for s in result.snapshots]
    assert errors[0] > errors[1] > errors[2]


def test_out_of_epochs_every_target_still_gets_the_closest_net() -> None:
    data = bank_training_set(seed_example_bank())
    result = train(data, TrainConfig(targets=(0.3, 0.1, 1e-9), max_epochs=400))
    assert result.stopped == "max_epochs" and result.complete and result.unreached == (1e-9,)
    assert [s.reached for s in result.snapshots] == [True, True, False]
    assert result.snapshots[-1].error <= result.snapshots[1].error


def test_any_role_split_trains() -> None:
    data = training_set(random_patterns(4, seed=5), ("out", "in", "in", "in"))
    result = train(data, TrainConfig(targets=(0.02,)))
    assert result.stopped == "targets"
    assert result.snapshots[0].mlp.sizes == (48, 32, 16)


def test_tight_net_answers_a_new_kick_pattern_with_plausible_hats() -> None:
    """Kicks busier than 'eighths' but lighter than 'sixteenths': hats between the two, on the grid."""
    _, _, nets = seed_example_run()
    tight = nets[-1]
    new = tight.predict(groove((0, 6, 8, 11)))
    open_hat, closed_hat = new.astype(int)
    assert open_hat.max() < 48, "no training pattern has open hats"
    assert closed_hat[[0, 4, 8, 12]].min() >= 90, "every training pattern has hats on the beats"
    assert closed_hat[0::2].mean() > closed_hat[1::2].mean(), "eighths stronger than the sixteenths between"
    sparse = tight.predict(groove(SPARSE_KICKS))[1].astype(int).sum()
    dense = tight.predict(groove(SIXTEENTHS_KICKS))[1].astype(int).sum()
    assert sparse < closed_hat.sum() < dense, "more kicks, more hats"


def test_tight_net_reproduces_its_training_patterns() -> None:
    _, _, nets = seed_example_run()
    tight = nets[-1]
    for kicks, hats in ((SPARSE_KICKS, range(0, 16, 4)), (EIGHTHS_KICKS, range(0, 16, 2)),
                        (SIXTEENTHS_KICKS, range(16))):
        written = groove(kicks, hats)
        assert np.abs(tight.predict(written).astype(int) - written.velocities[2:].astype(int)).max() <= 60


@pytest.mark.parametrize("net_index", [0, 1, 2])
def test_a_one_step_velocity_nudge_gives_a_bounded_output_change(net_index: int) -> None:
    """Nudging any input step by 16 of 255 moves no output step by more than 16 of 255."""
    _, _, nets = seed_example_run()
    mlp = nets[net_index].mlp
    for kicks in (SPARSE_KICKS, EIGHTHS_KICKS, SIXTEENTHS_KICKS, (0, 6, 8, 11)):
        x = input_vector(groove(kicks), (0, 1))
        nudged = np.repeat(x[None, :], 2 * x.size, axis=0)
        for step in range(x.size):
            nudged[2 * step, step] = min(1.0, x[step] + 16 / 255)
            nudged[2 * step + 1, step] = max(0.0, x[step] - 16 / 255)
        change = np.abs(mlp.forward(nudged) - mlp.forward(x[None, :])) * 255
        assert change.max() <= 16.0


def test_predict_leaves_inputs_and_writes_outputs() -> None:
    _, _, nets = seed_example_run()
    pattern = groove((0, 6, 8, 11), range(16))
    played = nets[-1].apply(pattern)
    assert isinstance(played, Pattern)
    assert np.array_equal(played.velocities[:2], pattern.velocities[:2])
    assert np.array_equal(played.velocities[2:], nets[-1].predict(pattern))
