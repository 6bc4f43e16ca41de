"""The committed default nets in models/ are what `make models` makes from the shipped demo bank."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from breakage_pi.cli import main
from breakage_pi.ml.netfile import read_net, reference_net
from breakage_pi.ml.session import NetSession
from breakage_pi.store import load_bank
from ml_builders import DEMO_BANK, MODELS

NETS = ("net-loose.onnx", "net-medium.onnx", "net-tight.onnx")


def test_models_come_from_the_shipped_demo_bank() -> None:
    assert load_bank(MODELS / "demo_bank.json") == load_bank(DEMO_BANK), \
        "the demo bank changed: run `make models` and commit models/"


def test_regenerated_models_match_the_committed_ones(tmp_path: Path) -> None:
    assert main(["train", str(MODELS / "demo_bank.json"), "--out", str(tmp_path), "--seed", "0"]) == 0
    bank = load_bank(MODELS / "demo_bank.json")
    for name in NETS:
        committed, fresh = read_net(MODELS / name), read_net(tmp_path / name)
        assert fresh.info.training_set_hash == committed.info.training_set_hash
        assert (fresh.info.channels, fresh.info.roles, fresh.info.error_target) == \
            (committed.info.channels, committed.info.roles, committed.info.error_target)
        assert abs(fresh.info.epochs - committed.info.epochs) <= 1
        assert fresh.info.error_reached == pytest.approx(committed.info.error_reached, rel=0.05)
        for a, b in zip(reference_net(fresh).mlp.parameters(), reference_net(committed).mlp.parameters()):
            np.testing.assert_allclose(a, b, atol=1e-3)
        for slot in bank.slots:
            difference = NetSession(fresh).predict(slot.pattern).astype(int) - \
                NetSession(committed).predict(slot.pattern).astype(int)
            assert np.abs(difference).max() <= 2, f"{name} on slot {slot.name!r}"
    assert (tmp_path / "summary.txt").read_text().splitlines()[:8] == \
        (MODELS / "summary.txt").read_text().splitlines()[:8]


def test_default_nets_play_the_demo_bank() -> None:
    bank = load_bank(MODELS / "demo_bank.json")
    for name in NETS:
        info = read_net(MODELS / name).info
        assert info.roles == bank.roles and info.channels == bank.channels
        assert info.error_reached <= info.error_target
        assert (MODELS / name).stat().st_size < 64_000


def test_a_version_1_net_with_an_absolute_target_still_loads_and_plays() -> None:
    """The first default net (MSE target 0.005, no target_measure key), kept as a fixture."""
    net_file = read_net(Path(__file__).parent / "data" / "v1-net-tight.onnx")
    info = net_file.info
    assert info.target_measure == "mse" and info.error_target == 0.005
    assert (info.relative_target, info.relative_error, info.label) == (None, None, "")
    assert "target MSE 0.005" in info.describe()
    bank = load_bank(MODELS / "demo_bank.json")
    played = NetSession(net_file).predict(bank.slot(2).pattern)
    np.testing.assert_array_equal(played, reference_net(net_file).predict(bank.slot(2).pattern))
    assert played.shape == (2, 16) and played[1].max() > 64
