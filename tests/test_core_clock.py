from fractions import Fraction

import pytest

from breakage_pi.core import FormatError, StepClock


@pytest.mark.parametrize("tempo", [30.0, 97.3, 120.0, 133.0, 300.0])
def test_straight_steps_follow_the_formula(tempo):
    clock = StepClock(tempo)
    for k in list(range(64)) + [999, 10_000, 123_457]:
        assert clock.step_start(k) == round(k * 48000 * 60 / tempo / 4)


@pytest.mark.parametrize("tempo,swing", [(120.0, 0.6), (91.0, 0.75), (174.0, 0.54)])
def test_no_drift_after_ten_thousand_steps(tempo, swing):
    clock = StepClock(tempo, swing)
    per_pair = Fraction(48000 * 60 * 2) / (4 * Fraction(tempo))
    for k in (10_000, 10_001, 1_000_000, 1_000_001):
        exact = (k // 2) * per_pair + (k % 2) * Fraction(swing) * per_pair
        assert abs(clock.step_start(k) - exact) <= Fraction(1, 2)


def test_swing_delays_odd_steps_only():
    straight, swung = StepClock(120.0), StepClock(120.0, 0.75)
    assert [swung.step_start(k) for k in range(4)] == [0, 9000, 12000, 21000]
    assert all(swung.step_start(k) == straight.step_start(k) for k in range(0, 100, 2))


def test_steps_in_finds_every_step_once_for_any_block_size():
    clock = StepClock(137.0, 0.61)
    expected = [(k, clock.step_start(k)) for k in range(200)]
    end = clock.step_start(200)
    for block in (1, 64, 100, 4096):
        found = [hit for start in range(0, end, block) for hit in clock.steps_in(start, min(start + block, end))]
        assert found == expected


def test_retimed_keeps_earlier_steps_and_starts_new_tempo_at_the_boundary():
    old = StepClock(120.0)
    new = old.retimed(60.0, 0.5, at_step=5)
    assert new.step_start(5) == old.step_start(5)
    assert new.step_start(6) - new.step_start(5) == 12000
    assert new.step_at(old.step_start(5)) == 5


@pytest.mark.parametrize("tempo,swing", [(29.9, 0.5), (301.0, 0.5), (120.0, 0.49), (120.0, 0.76)])
def test_out_of_range_is_refused(tempo, swing):
    with pytest.raises(FormatError):
        StepClock(tempo, swing)
