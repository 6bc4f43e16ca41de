"""The nets' commands: train, predict, render --net, and their errors (no tracebacks)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from breakage_pi.cli import main
from breakage_pi.core import Bank, Slot
from breakage_pi.ml.netfile import read_net
from breakage_pi.store import save_bank
from ml_builders import DEMO_BANK, groove, seed_example_bank


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed's example bank trained once by the command, into a folder shared by this module's tests."""
    folder = tmp_path_factory.mktemp("nets")
    save_bank(folder / "seed.json", seed_example_bank())
    assert main(["train", str(folder / "seed.json"), "--out", str(folder), "--seed", "1"]) == 0
    return folder


def test_train_writes_one_net_per_target_and_a_summary(trained: Path) -> None:
    names = sorted(path.name for path in trained.glob("*.onnx"))
    assert names == ["net-loose.onnx", "net-medium.onnx", "net-tight.onnx"]
    infos = [read_net(trained / name).info for name in ("net-loose.onnx", "net-medium.onnx", "net-tight.onnx")]
    assert [info.relative_target for info in infos] == [0.2, 0.1, 0.03]
    assert [info.label for info in infos] == ["loose", "medium", "tight"]
    assert {info.target_measure for info in infos} == {"unexplained_variance"}
    assert infos[0].error_reached > infos[1].error_reached > infos[2].error_reached
    for info in infos:
        assert info.error_target == pytest.approx(info.relative_target * info.reference_error)
        assert info.error_reached <= info.error_target
    assert {info.seed for info in infos} == {1}
    summary = (trained / "summary.txt").read_text()
    assert summary.startswith("Breakage Pi nets")
    for word in ("net-loose.onnx", "loose", "medium", "tight", "sparse", "kick, snare -> open_hat, closed_hat"):
        assert word in summary


def test_train_reports_progress_and_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save_bank(tmp_path / "seed.json", seed_example_bank())
    assert main(["train", str(tmp_path / "seed.json"), "--out", str(tmp_path / "out"),
                 "--targets", "0.1,0.01"]) == 0
    captured = capsys.readouterr()
    assert "target 0.1 reached at epoch" in captured.err and "target 0.01 reached" in captured.err
    assert "net-loose.onnx: loose, target 0.1" in captured.out
    assert "net-tight.onnx: tight, target 0.01" in captured.out


def test_out_of_epochs_train_still_writes_every_net_says_how_close_and_exits_0(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save_bank(tmp_path / "seed.json", seed_example_bank())
    assert main(["train", str(tmp_path / "seed.json"), "--out", str(tmp_path), "--max-epochs", "150"]) == 0
    err = capsys.readouterr().err
    assert "net-tight.onnx is the closest to target 0.03 that 150 epochs reached" in err
    assert sorted(p.name for p in tmp_path.glob("*.onnx")) == ["net-loose.onnx", "net-medium.onnx", "net-tight.onnx"]
    assert "not reached: the closest net" in (tmp_path / "summary.txt").read_text()


def test_a_bank_with_conflicting_examples_trains_three_nets_and_says_why_tight_is_looser(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank = Bank(slots=(Slot("quarters", True, groove((0, 8), range(0, 16, 4))),
                       Slot("sixteenths", True, groove((0, 8), range(16)))))
    save_bank(tmp_path / "same.json", bank)
    assert main(["train", str(tmp_path / "same.json"), "--out", str(tmp_path)]) == 0
    assert "same input channels but different outputs" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.glob("*.onnx")) == ["net-loose.onnx", "net-medium.onnx", "net-tight.onnx"]


def test_predict_prints_the_slot_and_the_nets_pattern(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(trained / "net-tight.onnx"), str(trained / "seed.json"), "--slot", "2"]) == 0
    out = capsys.readouterr().out
    assert "slot 2 (eighths) as written" in out and "from the net" in out
    grid_rows = [line for line in out.splitlines() if line.startswith("closed_hat")]
    assert len(grid_rows) == 3 and grid_rows[1].endswith("net")
    numbers = [int(v) for v in grid_rows[2].split()[1:]]
    assert len(numbers) == 16 and all(0 <= v <= 255 for v in numbers)


def test_render_with_a_net_plays_the_nets_outputs(trained: Path, tmp_path: Path) -> None:
    bank = Bank(slots=(Slot("no hats", False, groove((0, 6, 8, 11))),))
    save_bank(tmp_path / "bank.json", bank)
    plain, with_net = tmp_path / "plain.wav", tmp_path / "net.wav"
    common = ["render", str(tmp_path / "bank.json"), "--slot", "1", "--bars", "1"]
    assert main([*common, "--out", str(plain)]) == 0
    assert main([*common, "--out", str(with_net), "--net", str(trained / "net-tight.onnx")]) == 0
    plain_pcm, _ = soundfile.read(str(plain), dtype="int16")
    net_pcm, _ = soundfile.read(str(with_net), dtype="int16")
    assert plain_pcm.shape == net_pcm.shape
    assert np.abs(net_pcm.astype(int) - plain_pcm.astype(int)).max() > 1000, "the net's hats are heard"


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("breakage-pi: error: ") and "Traceback" not in err
    return err


def test_train_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    no_training = tmp_path / "none.json"
    save_bank(no_training, Bank(slots=(Slot("a", False, groove((0,))),)))
    all_inputs = tmp_path / "inputs.json"
    save_bank(all_inputs, seed_example_bank().with_changes(roles=("in",) * 4))
    out = str(tmp_path / "out")
    assert "no slot marked for training" in _error(["train", str(no_training), "--out", out], capsys)
    assert "no output channel" in _error(["train", str(all_inputs), "--out", out], capsys)
    assert "no such file" in _error(["train", str(tmp_path / "missing.json"), "--out", out], capsys)
    assert "0 < target < 1" in _error(["train", str(DEMO_BANK), "--out", out, "--targets", "2"], capsys)
    (tmp_path / "file").write_text("x")
    assert "not a directory" in _error(["train", str(DEMO_BANK), "--out", str(tmp_path / "file")], capsys)


def test_train_refuses_to_overwrite_what_is_not_a_net(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "net-loose.onnx").write_text("my notes")
    err = _error(["train", str(DEMO_BANK), "--out", str(tmp_path)], capsys)
    assert "net-loose.onnx: not overwriting" in err and "--force" in err
    assert (tmp_path / "net-loose.onnx").read_text() == "my notes"
    (tmp_path / "net-loose.onnx").unlink()
    (tmp_path / "summary.txt").write_text("my diary")
    assert "summary.txt: not overwriting" in _error(["train", str(DEMO_BANK), "--out", str(tmp_path)], capsys)


def test_bad_arguments_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["train", str(DEMO_BANK), "--out", "x", "--targets", "loose"],
                 ["train", str(DEMO_BANK), "--out", "x", "--seed", "-1"]):
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2
        assert "Traceback" not in capsys.readouterr().err


def test_predict_errors_are_clear(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net, bank = str(trained / "net-loose.onnx"), str(trained / "seed.json")
    assert "no such file" in _error(["predict", str(tmp_path / "no.onnx"), bank, "--slot", "1"], capsys)
    assert "looks like JSON" in _error(["predict", bank, net, "--slot", "1"], capsys)
    assert "seed.json: --slot 9: the bank has slots 1-3" in _error(["predict", net, bank, "--slot", "9"], capsys)
    (tmp_path / "cut.onnx").write_bytes((trained / "net-loose.onnx").read_bytes()[:500])
    assert "cut.onnx: not an ONNX model" in _error(["predict", str(tmp_path / "cut.onnx"), bank, "--slot", "1"],
                                                   capsys)


def test_a_net_for_other_roles_is_noted(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save_bank(tmp_path / "other.json", seed_example_bank().with_changes(roles=("in", "out", "in", "out")))
    assert main(["predict", str(trained / "net-loose.onnx"), str(tmp_path / "other.json"), "--slot", "1"]) == 0
    assert "using the net's roles" in capsys.readouterr().err


def test_predict_at_a_knob_position_plays_that_net_at_its_detent_and_a_blend_between(
        trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank = str(trained / "seed.json")

    def steps(*argv: str) -> list:
        assert main(["predict", *argv, bank, "--slot", "2", "--json"]) == 0
        return json.loads(capsys.readouterr().out)["steps"]

    for position, name in (("0", "net-loose.onnx"), ("0.5", "net-medium.onnx"), ("1", "net-tight.onnx")):
        assert steps("--nets", str(trained), "--position", position) == steps(str(trained / name))
    assert main(["predict", "--nets", str(trained), "--position", "0.75", bank, "--slot", "2"]) == 0
    assert "NET knob at 0.75 (50% medium + 50% tight)" in capsys.readouterr().out


def test_predict_with_nets_and_a_net_file_or_a_lone_position_is_a_clear_error(
        trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank, net = str(trained / "seed.json"), str(trained / "net-tight.onnx")
    assert "predict takes only the bank" in _error(["predict", "--nets", str(trained), net, bank, "--slot", "1"],
                                                  capsys)
    assert "--position goes with --nets" in _error(["predict", net, bank, "--position", "0.5", "--slot", "1"], capsys)
    assert "not a folder of nets" in _error(["predict", "--nets", net, bank, "--slot", "1"], capsys)
