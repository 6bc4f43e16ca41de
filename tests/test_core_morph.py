"""The NET knob's morph (pure): each net at its detent, a continuous crossfade between."""

import numpy as np
import pytest

from breakage_pi.core import FormatError
from breakage_pi.core.morph import morph_weights, morphed

RNG = np.random.default_rng(3)
NETS = [RNG.uniform(0.0, 255.0, size=(2, 16)) for _ in range(3)]


@pytest.mark.parametrize("position, index", [(0.0, 0), (0.5, 1), (1.0, 2)])
def test_at_each_detent_the_morph_is_that_net_exactly(position: float, index: int) -> None:
    assert np.array_equal(morphed(NETS, position), NETS[index])
    assert morph_weights(position, 3) == ((index, 1.0),)


def test_between_detents_it_crossfades_the_two_neighbours_only() -> None:
    np.testing.assert_allclose(morphed(NETS, 0.25), 0.5 * NETS[0] + 0.5 * NETS[1])
    np.testing.assert_allclose(morphed(NETS, 0.9), 0.2 * NETS[1] + 0.8 * NETS[2])
    weights = morph_weights(0.6, 3)
    assert [index for index, _ in weights] == [1, 2] and sum(w for _, w in weights) == pytest.approx(1.0)


def test_turning_the_knob_moves_every_output_continuously() -> None:
    positions = np.linspace(0.0, 1.0, 1001)
    sweep = np.stack([morphed(NETS, p) for p in positions])
    largest = np.abs(np.diff(sweep, axis=0)).max()
    assert largest <= 2 * 255 / 500 + 1e-9, "a thousandth of a turn moves an output by at most 2/1000 of the range"


def test_one_or_two_nets_morph_too() -> None:
    assert np.array_equal(morphed(NETS[:1], 0.7), NETS[0])
    np.testing.assert_allclose(morphed(NETS[:2], 0.5), 0.5 * (NETS[0] + NETS[1]))


@pytest.mark.parametrize("position", [-0.1, 1.01, float("nan"), True, "0.5"])
def test_a_position_off_the_knob_is_refused(position: object) -> None:
    with pytest.raises(FormatError, match="position"):
        morphed(NETS, position)  # type: ignore[arg-type]
