"""The gate and chance (pure), and the bank's two settings for them."""

import numpy as np
import pytest

from breakage_pi.core import Bank, FormatError, bank_from_data, bank_to_data
from breakage_pi.core.gate import AUDIBLE, DEFAULT_GATE, DEFAULT_KNEE, gated, hit_chances, kneed, uncertain

OUTPUTS = np.array([[0.0, 3.4, 23.9, 24.0, 36.0, 47.4, 47.6, 48.0, 60.0, 71.9, 72.0, 254.6],
                    [255.0, 300.0, -5.0, np.nan, 10.0, 100.0, 50.0, 30.0, 70.0, 40.0, 200.0, 20.0]])


def test_with_a_hard_knee_outputs_under_the_gate_are_silent_and_the_rest_play_rounded() -> None:
    played = gated(OUTPUTS, 48, knee=0)
    assert played.dtype == np.uint8 and played.shape == OUTPUTS.shape
    assert played[0].tolist() == [0, 0, 0, 0, 0, 0, 48, 48, 60, 72, 72, 255]
    assert played[1].tolist() == [255, 255, 0, 0, 0, 100, 50, 0, 70, 0, 200, 0]
    assert gated(OUTPUTS, 0, knee=0)[0].tolist() == [0, 0, 24, 24, 36, 47, 48, 48, 60, 72, 72, 255], \
        "under audibility nothing plays"
    assert not gated(OUTPUTS, 255, knee=0)[0, :-1].any()


def test_the_knee_fades_outputs_in_from_its_lower_edge_to_their_own_velocity_at_its_top() -> None:
    played = gated(np.array([0.0, 31.0, 40.0, 48.0, 56.0, 64.0, 65.0, 200.0]), 48, knee=32)
    assert played.tolist() == [0, 0, 10, 24, 42, 64, 65, 200]
    assert DEFAULT_KNEE == 32 and gated(np.array([48.0]), 48).tolist() == [24]


@pytest.mark.parametrize("gate, knee", [(48, DEFAULT_KNEE), (48, 16), (30, 48), (100, 32), (0, 32)])
def test_sweeping_an_output_through_the_knee_never_jumps_more_than_a_few_units(gate: int, knee: int) -> None:
    outputs = np.linspace(0.0, 255.0, 2551)                    # a tenth of a velocity unit apart
    played = gated(outputs, gate, knee=knee).astype(int)
    steps = np.abs(np.diff(played))
    assert steps.max() <= AUDIBLE, "the only step beyond rounding is silence to the quietest audible hit"
    assert (np.diff(played[played > 0]) >= 0).all(), "louder outputs never play quieter"
    assert played[-1] == 255 and not played[outputs < gate - knee / 2].any()


def test_per_unit_of_output_the_played_velocity_moves_at_most_three_units_with_the_default_knee() -> None:
    outputs = np.arange(256.0)
    slope = np.abs(np.diff(kneed(outputs, DEFAULT_GATE, DEFAULT_KNEE)))
    assert slope.max() <= 3.0 + 1e-9


def test_ghosts_under_audibility_never_play_so_they_never_reach_the_mixer_nor_choke() -> None:
    outputs = np.full((2, 16), 38.0)                            # kneed to 38 * 6/32 = 7.1: under audible
    assert not gated(outputs, 48).any()
    assert gated(np.full((2, 16), 40.0), 48).min() == 10


def test_the_uncertain_band_runs_from_half_to_one_and_a_half_times_the_gate() -> None:
    chances = hit_chances(np.array([0.0, 24.0, 36.0, 48.0, 60.0, 72.0, 200.0]), 48)
    np.testing.assert_allclose(chances, [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0])
    assert uncertain(np.array([24.0, 25.0, 71.0, 72.0]), 48).tolist() == [False, True, True, False]


def test_chance_is_the_same_bars_for_the_same_seed_and_new_draws_every_bar() -> None:
    outputs = np.full((2, 16), 48.0)                            # every step a coin toss
    bars = [gated(outputs, 48, chance=True, seed=7, bar=bar) for bar in range(8)]
    again = [gated(outputs, 48, chance=True, seed=7, bar=bar) for bar in range(8)]
    other = [gated(outputs, 48, chance=True, seed=8, bar=bar) for bar in range(8)]
    assert all(np.array_equal(a, b) for a, b in zip(bars, again))
    assert len({bar.tobytes() for bar in bars}) == 8, "each bar draws anew"
    assert any(not np.array_equal(a, b) for a, b in zip(bars, other))
    hits = np.concatenate([bar.reshape(-1) for bar in bars])
    assert set(np.unique(hits).tolist()) == {0, 48}
    assert 0.35 < np.count_nonzero(hits) / hits.size < 0.65, "about half play at the gate"


def test_chance_plays_certain_hits_always_and_never_what_is_far_under_the_gate() -> None:
    outputs = np.array([[10.0, 23.0, 80.0, 200.0] * 4] * 2)
    for bar in range(20):
        played = gated(outputs, 48, chance=True, seed=1, bar=bar)
        assert not played[:, 0::4].any() and not played[:, 1::4].any()
        assert (played[:, 2::4] == 80).all() and (played[:, 3::4] == 200).all()


def test_chance_hits_under_the_gate_play_at_the_gate_so_they_are_heard() -> None:
    outputs = np.full((2, 16), 40.0)                            # 1/3 chance each
    played = np.stack([gated(outputs, 48, chance=True, seed=3, bar=bar) for bar in range(10)])
    assert set(np.unique(played).tolist()) == {0, 48}


@pytest.mark.parametrize("gate", [-1, 256, 4.5, True, "48"])
def test_a_bad_gate_is_refused(gate: object) -> None:
    with pytest.raises(FormatError, match="gate"):
        gated(OUTPUTS, gate)  # type: ignore[arg-type]


def test_the_bank_keeps_its_gate_and_chance_and_older_banks_load_with_the_defaults() -> None:
    bank = Bank(gate=60, chance=True, chance_seed=42)
    data = bank_to_data(bank)
    assert data["gate"] == 60 and data["chance"] == {"on": True, "seed": 42}
    assert bank_from_data(data) == bank
    assert bank_from_data(bank_to_data(Bank(knee=10))).knee == 10
    older = bank_to_data(Bank())
    del older["gate"], older["chance"], older["knee"]
    loaded = bank_from_data(older)
    assert (loaded.gate, loaded.knee, loaded.chance, loaded.chance_seed) == (DEFAULT_GATE, DEFAULT_KNEE, False, 0)


@pytest.mark.parametrize("changes, field", [
    ({"gate": 300}, "gate"), ({"gate": "high"}, "gate"), ({"knee": -1}, "knee"), ({"knee": 2.5}, "knee"),
    ({"chance": True}, "chance"),
    ({"chance": {"on": "yes", "seed": 0}}, "chance.on"), ({"chance": {"on": True, "seed": -2}}, "chance.seed"),
])
def test_bad_gate_or_chance_settings_name_the_field(changes: dict, field: str) -> None:
    data = {**bank_to_data(Bank()), **changes}
    with pytest.raises(FormatError) as caught:
        bank_from_data(data)
    assert caught.value.field == field
