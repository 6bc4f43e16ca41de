"""The gate and chance (pure), and the bank's two settings for them."""

import numpy as np
import pytest

from breakage_pi.core import Bank, FormatError, bank_from_data, bank_to_data
from breakage_pi.core.gate import DEFAULT_GATE, gated, hit_chances, uncertain

OUTPUTS = np.array([[0.0, 3.4, 23.9, 24.0, 36.0, 47.4, 47.6, 48.0, 60.0, 71.9, 72.0, 254.6],
                    [255.0, 300.0, -5.0, np.nan, 10.0, 100.0, 50.0, 30.0, 70.0, 40.0, 200.0, 20.0]])


def test_without_chance_outputs_under_the_gate_are_silent_and_the_rest_play_rounded() -> None:
    played = gated(OUTPUTS, 48)
    assert played.dtype == np.uint8 and played.shape == OUTPUTS.shape
    assert played[0].tolist() == [0, 0, 0, 0, 0, 0, 48, 48, 60, 72, 72, 255]
    assert played[1].tolist() == [255, 255, 0, 0, 0, 100, 50, 0, 70, 0, 200, 0]
    assert gated(OUTPUTS, 0)[0].tolist() == [0, 3, 24, 24, 36, 47, 48, 48, 60, 72, 72, 255]
    assert not gated(OUTPUTS, 255)[0, :-1].any()


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
    older = bank_to_data(Bank())
    del older["gate"], older["chance"]
    loaded = bank_from_data(older)
    assert (loaded.gate, loaded.chance, loaded.chance_seed) == (DEFAULT_GATE, False, 0)


@pytest.mark.parametrize("changes, field", [
    ({"gate": 300}, "gate"), ({"gate": "high"}, "gate"), ({"chance": True}, "chance"),
    ({"chance": {"on": "yes", "seed": 0}}, "chance.on"), ({"chance": {"on": True, "seed": -2}}, "chance.seed"),
])
def test_bad_gate_or_chance_settings_name_the_field(changes: dict, field: str) -> None:
    data = {**bank_to_data(Bank()), **changes}
    with pytest.raises(FormatError) as caught:
        bank_from_data(data)
    assert caught.value.field == field
