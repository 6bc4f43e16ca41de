"""Patterns to net vectors and back; training sets from banks; clear errors for unusable banks."""

from __future__ import annotations

import numpy as np
import pytest

from breakage_pi.core import Bank, Pattern, Slot
from breakage_pi.core.bank import Correction
from breakage_pi.core.errors import BreakageError
from breakage_pi.ml.dataset import (bank_training_set, input_vector, output_velocities, split_roles, training_set,
                                    with_outputs)
from breakage_pi.ml.errors import TrainingError
from ml_builders import groove, random_patterns, seed_example_bank


def test_input_vector_is_channel_major_and_scaled() -> None:
    pattern = Pattern().with_velocity(0, 3, 255).with_velocity(2, 15, 51)
    x = input_vector(pattern, (0, 2))
    assert x.shape == (32,)
    assert x[3] == 1.0 and x[16 + 15] == pytest.approx(0.2)
    assert np.count_nonzero(x) == 2


def test_output_velocities_round_clamp_and_shape() -> None:
    values = np.zeros(32)
    values[:6] = [-0.5, 0.4 / 255, 0.6 / 255, 0.5, 1.0, 7.0]
    values[31] = np.nan
    velocities = output_velocities(values, 2)
    assert velocities.dtype == np.uint8 and velocities.shape == (2, 16)
    assert velocities[0, :6].tolist() == [0, 0, 1, 128, 255, 255]
    assert velocities[1, 15] == 0


def test_with_outputs_replaces_only_the_output_channels() -> None:
    pattern = groove((0, 8), range(16))
    result = with_outputs(pattern, (2, 3), np.full((2, 16), 9, dtype=np.uint8))
    assert np.array_equal(result.velocities[:2], pattern.velocities[:2])
    assert (result.velocities[2:] == 9).all()


@pytest.mark.parametrize("roles, inputs, outputs", [
    (("in", "in", "out", "out"), (0, 1), (2, 3)),
    (("out", "in", "in", "in"), (1, 2, 3), (0,)),
    (("in", "out", "in", "out"), (0, 2), (1, 3)),
])
def test_any_split_of_roles(roles: tuple[str, ...], inputs: tuple[int, ...], outputs: tuple[int, ...]) -> None:
    data = training_set(random_patterns(3, seed=1), roles)
    assert (data.input_channels, data.output_channels) == (inputs, outputs)
    assert data.inputs.shape == (3, 16 * len(inputs)) and data.targets.shape == (3, 16 * len(outputs))


def test_bank_training_set_uses_only_marked_slots() -> None:
    bank = seed_example_bank().with_slot(4, Slot("not trained", False, groove((1, 2, 3))))
    data = bank_training_set(bank)
    assert len(data) == 3
    assert data.channels == bank.channels and data.roles == bank.roles


def test_no_training_slot_is_a_clear_error() -> None:
    bank = Bank(slots=(Slot("a", False, groove((0,))), Slot("b", False, groove((8,)))))
    with pytest.raises(TrainingError, match="no slot marked for training"):
        bank_training_set(bank)


@pytest.mark.parametrize("roles, missing", [(("in",) * 4, "no output channel"), (("out",) * 4, "no input channel")])
def test_roles_without_inputs_or_outputs_are_clear_errors(roles: tuple[str, ...], missing: str) -> None:
    bank = seed_example_bank().with_changes(roles=roles)
    with pytest.raises(TrainingError, match=missing) as caught:
        bank_training_set(bank)
    assert isinstance(caught.value, BreakageError) and isinstance(caught.value, ValueError)
    with pytest.raises(TrainingError, match=missing):
        split_roles(roles)


def test_empty_pattern_list_is_a_clear_error() -> None:
    with pytest.raises(TrainingError, match="no training patterns"):
        training_set([], ("in", "in", "out", "out"))


def test_digest_follows_patterns_roles_and_names() -> None:
    patterns = random_patterns(3, seed=2)
    roles = ("in", "in", "out", "out")
    base = training_set(patterns, roles).digest
    assert base.startswith("sha256:") and base == training_set(patterns, roles).digest
    assert training_set(patterns[:2], roles).digest != base
    assert training_set(patterns, ("in", "out", "in", "out")).digest != base
    assert training_set(patterns, roles, ("k", "s", "o", "c")).digest != base


def test_error_floor_is_zero_for_distinct_inputs_and_positive_for_contradictions() -> None:
    assert training_set(random_patterns(4, seed=3), ("in", "in", "out", "out")).error_floor() == 0.0
    contradiction = [groove((0, 8), range(0, 16, 4)), groove((0, 8), range(0, 16, 2))]
    floor = training_set(contradiction, ("in", "in", "out", "out")).error_floor()
    # 4 hat steps differ by 120/255 between the two; the best net predicts their mean.
    assert floor == pytest.approx(4 * (60 / 255) ** 2 / 32)


def test_corrections_join_the_training_set_and_outrank_a_slot_with_the_same_inputs() -> None:
    played = groove((0, 8), hats=(2, 6))
    other = groove((0, 6), hats=(1, 5))
    fresh = groove((3,), hats=(9,))
    corrected = played.with_velocity(3, 10, 200)                # the same inputs, a hat added
    bank = Bank(slots=(Slot("a", True, played), Slot("b", True, other)),
                corrections=(Correction(corrected), Correction(fresh)))
    data = bank_training_set(bank)
    outputs = bank.output_channels
    assert len(data) == 3                                       # the slot corrected in place is left out
    assert [row.tolist() for row in data.targets] == [
        input_vector(pattern, outputs).tolist() for pattern in (other, corrected, fresh)]
    assert data.error_floor() == 0.0
    assert data.digest != bank_training_set(Bank(slots=bank.slots)).digest


def test_the_later_correction_of_the_same_inputs_wins_and_corrections_alone_train() -> None:
    first = groove((0,), hats=(2,))
    second = first.with_velocity(3, 2, 0).with_velocity(3, 5, 180)
    data = bank_training_set(Bank(corrections=(Correction(first), Correction(second))))
    assert len(data) == 1
    assert data.targets[0].tolist() == input_vector(second, Bank().output_channels).tolist()
