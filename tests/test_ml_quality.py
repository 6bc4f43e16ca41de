"""The nets measured on the shipped evaluation set (trained on its 16 training patterns, scored on the 34
held out), and the gate heard: the goals in docs/player.md (Nets), checked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from breakage_pi.audio.kit import load_kit
from breakage_pi.audio.render import render_pattern
from breakage_pi.bench.nets import quality_figures
from breakage_pi.cli import main
from breakage_pi.core import Bank, Pattern, Slot
from breakage_pi.core.clock import StepClock
from breakage_pi.core.gate import AUDIBLE, DEFAULT_GATE, gated
from breakage_pi.core.pattern import MAX_VELOCITY
from breakage_pi.ml.evalset import load_eval_set
from breakage_pi.ml.net import result_nets
from breakage_pi.ml.train import train
from breakage_pi.store import save_bank
from ml_builders import MODELS

LABELS = ("loose", "medium", "tight")


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    return quality_figures()


def test_the_evaluation_set_is_realistic_grooves_in_five_styles() -> None:
    evaluation = load_eval_set()
    assert len(evaluation.train) == 16 and len(evaluation.held_out) == 34
    assert set(evaluation.train_styles) == set(evaluation.held_out_styles) == \
        {"house", "breakbeat", "hip-hop", "half-time", "drum and bass"}
    hats = np.concatenate([evaluation.train.targets, evaluation.held_out.targets]) * MAX_VELOCITY
    empty = np.count_nonzero(hats == 0, axis=1)
    assert 18 <= empty.mean() <= 24, "about 21 of 32 hat steps are empty, as in real grooves"
    assert hats[hats > 0].min() >= DEFAULT_GATE, "every real hat is above the default gate"


def test_every_net_beats_the_average_hats_on_its_training_data(figures: dict[str, float]) -> None:
    for label in LABELS:
        assert figures[f"nets.quality.{label}.train_mse"] < figures["nets.quality.average.train_mse"], label


def test_medium_and_tight_beat_the_average_hats_on_held_out_patterns(figures: dict[str, float]) -> None:
    for label in ("medium", "tight"):
        assert figures[f"nets.quality.{label}.held_out_mse"] < figures["nets.quality.average.held_out_mse"], label


def test_tight_reproduces_its_training_hits_and_every_net_stays_smooth(figures: dict[str, float]) -> None:
    assert figures["nets.quality.tight.train_f1"] >= 0.95
    for label in LABELS:
        assert figures[f"nets.quality.{label}.smoothness_max_step"] <= 4.0, label


def test_loose_generalises_beyond_the_average_on_unseen_styles_and_near_ridge_on_known_ones(
        figures: dict[str, float]) -> None:
    assert figures["nets.quality.loose.unseen_style_mse"] <= figures["nets.quality.average.unseen_style_mse"]
    assert figures["nets.quality.loose.held_out_mse"] <= 1.1 * figures["nets.quality.ridge.held_out_mse"]


def test_sweeping_an_input_moves_the_played_hats_continuously_through_the_gate(figures: dict[str, float]) -> None:
    for label in LABELS:
        assert figures[f"nets.quality.{label}.hard_gate_sweep_max_jump"] >= DEFAULT_GATE - 8, "a hard gate jumps"
        assert figures[f"nets.quality.{label}.gate_sweep_max_jump"] <= AUDIBLE + 4, label
    assert figures["nets.quality.morph.max_played_step"] <= 16, "a hundredth of a NET knob turn"


def test_loose_answers_most_one_hit_edits_and_tight_fewer(figures: dict[str, float]) -> None:
    assert figures["nets.quality.loose.responsive_answered"] >= 0.6
    assert figures["nets.quality.tight.responsive_answered"] < figures["nets.quality.loose.responsive_answered"]
    assert figures["nets.quality.average.responsive_answered"] == 0.0


def test_the_three_nets_differ_in_training_error_and_on_unseen_patterns() -> None:
    evaluation = load_eval_set()
    result = train(evaluation.train)
    nets = result_nets(result, evaluation.train)
    assert [net.info.label for net in nets] == list(LABELS)
    errors = [net.info.error_reached for net in nets]
    assert errors[0] > 2 * errors[1] > 4 * errors[2], "each tighter net at least halves the error"
    played = [gated(net.mlp.forward(evaluation.held_out.inputs) * MAX_VELOCITY, DEFAULT_GATE) for net in nets]
    for first, second in ((0, 1), (1, 2), (0, 2)):
        apart = np.abs(played[first].astype(int) - played[second].astype(int))
        audibly = np.count_nonzero((apart >= 16).any(axis=1))       # 16 of 255: ~2.5 dB at velocity 100
        assert audibly >= len(evaluation.held_out) // 2, (LABELS[first], LABELS[second], audibly)
        assert np.count_nonzero((played[first] > 0) != (played[second] > 0)) >= 20, "hits one plays, not the other"


def _open_hat_with_closed_hat_ghosts(ghost: float) -> Pattern:
    """An open hat on step 0 and the net's closed hats at ``ghost`` on steps 0-7, gated."""
    outputs = np.zeros((2, 16))
    outputs[0, 0] = 150.0
    outputs[1, :8] = ghost
    grid = np.zeros((4, 16), dtype=np.uint8)
    grid[2:] = gated(outputs, DEFAULT_GATE)
    return Pattern(grid)


def test_gated_ghosts_never_reach_the_mixer_nor_choke_the_open_hat() -> None:
    kit = load_kit()
    alone = Pattern().with_velocity(2, 0, 150)
    reference = render_pattern(kit, alone, 1, 120.0)
    with_ghosts = render_pattern(kit, _open_hat_with_closed_hat_ghosts(20.0), 1, 120.0)
    assert np.array_equal(with_ghosts, reference), "no closed hat voice started: nothing reached the mixer"
    ungated = alone.with_channel(3, [20] * 8 + [0] * 8)
    choked = render_pattern(kit, ungated, 1, 120.0)
    ring = slice(6000 // 2, 6000 * 4)          # from half a step after the hit to step 4 (120 BPM: 6000 frames/step)
    level = [10 * np.log10(np.mean(pcm[ring].astype(float) ** 2) + 1e-9) for pcm in (reference, choked)]
    assert level[0] - level[1] > 10.0, f"an ungated ghost cuts the open hat's ring ({level[0] - level[1]:.1f} dB)"


def test_predict_json_prints_the_slot_as_it_plays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pattern = Pattern().with_channel(0, [230, 0, 0, 0] * 4).with_channel(1, [0, 0, 0, 0, 210, 0, 0, 0] * 2)
    save_bank(tmp_path / "bank.json", Bank(slots=(Slot("floor", False, pattern),)))
    net = str(MODELS / "net-tight.onnx")
    assert main(["predict", net, str(tmp_path / "bank.json"), "--slot", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["slot"] == 1 and shown["roles"] == ["in", "in", "out", "out"]
    assert shown["channels"] == ["kick", "snare", "open_hat", "closed_hat"]
    steps = np.array(shown["steps"])
    assert steps.shape == (4, 16) and steps[:2].tolist() == pattern.velocities[:2].tolist()
    hats = steps[2:]
    assert hats.any() and ((hats == 0) | (hats >= AUDIBLE)).all(), "only audible hits, no ghosts"
    assert main(["predict", net, str(tmp_path / "bank.json"), "--slot", "1", "--json", "--gate", "0"]) == 0
    ungated = np.array(json.loads(capsys.readouterr().out)["steps"])[2:]
    assert np.count_nonzero(ungated) > np.count_nonzero(hats)


def test_render_with_chance_redraws_every_bar_and_repeats_for_the_same_seed(tmp_path: Path) -> None:
    pattern = Pattern().with_channel(0, [230, 0, 0, 0] * 4).with_channel(1, [0, 0, 0, 0, 210, 0, 0, 0] * 2)
    takes = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        bank = Bank(slots=(Slot("floor", False, pattern),), gate=96, chance=True, chance_seed=seed)
        save_bank(tmp_path / f"{name}.json", bank)
        out = tmp_path / f"{name}.wav"
        assert main(["render", str(tmp_path / f"{name}.json"), "--slot", "1", "--bars", "4", "--out", str(out),
                     "--net", str(MODELS / "net-tight.onnx")]) == 0
        takes.append(out.read_bytes())
    assert takes[0] == takes[1] and takes[0] != takes[2]


@pytest.mark.parametrize("block", [64, 256])
def test_a_pattern_per_bar_changes_exactly_at_the_bar_line(block: int) -> None:
    kit = load_kit()
    groove = Pattern().with_channel(0, [230, 0, 0, 0] * 4).with_channel(3, [90, 0] * 8)
    same = render_pattern(kit, lambda bar: groove, 3, 97.0, 0.6, block=block)
    assert np.array_equal(same, render_pattern(kit, groove, 3, 97.0, 0.6, block=block))
    rest_in_bar_2 = render_pattern(kit, lambda bar: Pattern() if bar == 1 else groove, 3, 97.0, 0.6, block=block)
    clock = StepClock(97.0, 0.6)
    bar_2, bar_3, step_1 = clock.step_start(16), clock.step_start(32), clock.step_start(1)
    assert np.array_equal(rest_in_bar_2[:bar_2], same[:bar_2])
    assert not rest_in_bar_2[bar_3 - 1000:bar_3].any(), "bar 2 played nothing"
    first_step = render_pattern(kit, groove, 1, 97.0, 0.6)[:step_1]
    assert np.array_equal(rest_in_bar_2[bar_3:bar_3 + step_1], first_step), "bar 3 starts on its sample"


@pytest.mark.parametrize("name", ["net-loose.onnx", "net-medium.onnx", "net-tight.onnx"])
def test_raising_one_kick_slowly_never_makes_a_played_hat_jump(name: str) -> None:
    """The played output as the instrument plays it (onnxruntime, gate and knee), one velocity at a time."""
    from breakage_pi.ml.netfile import read_net
    from breakage_pi.ml.session import NetSession

    session = NetSession(read_net(MODELS / name))
    groove = Pattern().with_channel(0, [230, 0, 0, 0] * 4).with_channel(1, [0, 0, 0, 0, 210, 0, 0, 0] * 2)
    for step in (2, 6, 11):
        played = np.stack([session.play(groove.with_velocity(0, step, velocity)).velocities[2:].astype(int)
                           for velocity in range(256)])
        assert np.abs(np.diff(played, axis=0)).max() <= AUDIBLE + 4, (name, step)
