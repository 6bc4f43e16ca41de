"""Every example of issue 9 at the command line: one clear line naming the file or argument, a non-zero exit,
nothing overwritten that should not be, nothing left behind."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import pytest
from builders import bank_file, impulse_kit, read_wav, write_kit
from ml_builders import MODELS, seed_example_bank

from breakage_pi.cli import main
from breakage_pi.core import Bank, Pattern, Slot
from breakage_pi.ml.errors import NetError
from breakage_pi.ml.netfile import parse_net
from breakage_pi.ml.netfile import read_net
from breakage_pi.store import save_bank
from emulation import patience

KICKS = Pattern().with_channel(0, [200, 0, 0, 0] * 4)


def _error(argv: list[str], capsys: pytest.CaptureFixture[str], code: int = 2) -> str:
    """Run a command that must fail cleanly; its stderr (one line, no traceback)."""
    try:
        status = main(argv)
    except SystemExit as exit_:            # argparse's usage errors
        status = exit_.code
    assert status == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip(), err
    assert len([line for line in err.splitlines() if "error" in line]) == 1, err
    return err


def _render(bank: Path, out: Path | str, *extra: str) -> list[str]:
    return ["render", str(bank), "--slot", "1", "--bars", "1", "--out", str(out), *extra]


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    return bank_file(tmp_path / "bank.json", KICKS)


def test_render_writes_its_wav_atomically_and_durably_in_the_umask_mode(bank: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    old = os.umask(0o077)
    try:
        assert main(_render(bank, tmp_path / "take.wav")) == 0
    finally:
        os.umask(old)
    assert events == ["fsync", "replace", "fsync"]          # data, rename, then the folder
    assert (tmp_path / "take.wav").stat().st_mode & 0o777 == 0o600


def test_render_never_replaces_its_own_input(bank: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = bank.read_bytes()
    assert "bank.json: is also an input of this command" in _error(_render(bank, bank), capsys)
    assert "is also an input" in _error(_render(bank, bank, "--force"), capsys)
    assert bank.read_bytes() == before


def test_render_replaces_a_wav_but_not_another_file_unless_forced(bank: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.wav"
    notes.write_text("my lyrics")
    err = _error(_render(bank, notes), capsys)
    assert "notes.wav: not overwriting a file that is not a WAV file; use --force" in err
    assert notes.read_text() == "my lyrics"
    assert main(_render(bank, notes, "--force")) == 0
    assert read_wav(notes)[1] == 48000
    assert main(_render(bank, notes)) == 0                   # a WAV may be replaced


@pytest.mark.parametrize("out,words", [("", "empty"), (".", "names a folder"), ("..", "names a folder"),
                                       ("somewhere/", "names a folder")])
def test_an_out_that_is_no_file_name_is_a_usage_error(bank: Path, capsys: pytest.CaptureFixture[str],
                                                      out: str, words: str) -> None:
    assert words in _error(_render(bank, out), capsys)


def test_an_out_that_is_a_folder_is_refused(bank: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "take.wav").mkdir()
    assert "take.wav: is a folder" in _error(_render(bank, tmp_path / "take.wav"), capsys)
    assert "is a folder" in _error(_render(bank, tmp_path), capsys)
    assert "is a folder" in _error(["demo", "--bars", "1", "--out", str(tmp_path / "take.wav")], capsys)


def test_train_into_a_folder_holding_a_folder_named_like_its_summary(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    save_bank(tmp_path / "seed.json", seed_example_bank())
    (tmp_path / "nets" / "summary.txt").mkdir(parents=True)
    (tmp_path / "nets" / "net-medium.onnx").mkdir()
    err = _error(["train", str(tmp_path / "seed.json"), "--out", str(tmp_path / "nets")], capsys)
    assert "net-medium.onnx: is a folder" in err


def test_a_disk_that_fills_during_render_is_reported_and_leaves_nothing(bank: Path, tmp_path: Path) -> None:
    """The file-size limit makes the kernel refuse writes past 200 kB, as a full disk refuses them."""
    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    out = tmp_path / "take.wav"
    command = "import sys; from breakage_pi.cli import main; sys.exit(main(sys.argv[1:]))"
    run = subprocess.run([sys.executable, "-c", command, "render", str(bank), "--slot", "1", "--bars", "4",
                          "--out", str(out)], preexec_fn=limited, capture_output=True, text=True, timeout=patience(120))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.startswith(f"breakage-pi: error: {out}: cannot write") and len(run.stderr.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank.json"]


def test_demo_streams_to_disk(tmp_path: Path) -> None:
    """Twelve takes of 3 bars are ~15 MB of audio; the demo holds a few blocks of it at a time (the kit and
    the net are most of what it holds)."""
    tracemalloc.start()
    try:
        assert main(["demo", "--bars", "3", "--out", str(tmp_path / "demo.wav"),
                     "--net", str(MODELS / "net-medium.onnx")]) == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = (tmp_path / "demo.wav").stat().st_size
    assert size > 14_000_000 and peak < size / 2


def test_demo_bars_beyond_an_hour_are_refused_before_any_work(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["demo", "--bars", "9" * 4000, "--out", str(tmp_path / "new" / "demo.wav")], capsys)
    assert "render at most 60 minutes" in err and len(err) < 300
    assert "render at most 60 minutes" in _error(["demo", "--bars", "400", "--out",
                                                  str(tmp_path / "new" / "demo.wav")], capsys)
    assert not (tmp_path / "new").exists()


def test_an_output_folder_is_created_only_once_the_inputs_are_good(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert "no such file" in _error(["demo", "--out", str(tmp_path / "new" / "demo.wav"),
                                     "--net", str(tmp_path / "missing.onnx")], capsys)
    assert not (tmp_path / "new").exists()


def test_train_of_slots_that_contradict_each_other_still_makes_its_folder_and_three_nets(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two training slots with the same kicks and snares but other hats: tight counts from what no net can
    explain (see breakage_pi.ml.train), so every net is trained."""
    from ml_builders import groove

    save_bank(tmp_path / "odd.json", Bank(slots=(Slot("a", True, groove((0, 8), (0, 4))),
                                                 Slot("b", True, groove((0, 8), (2, 6, 10))))))
    assert main(["train", str(tmp_path / "odd.json"), "--out", str(tmp_path / "new" / "nets")]) == 0
    assert "same input channels but different outputs" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "new" / "nets").glob("*.onnx")) == \
        ["net-loose.onnx", "net-medium.onnx", "net-tight.onnx"]


def _nan_net(path: Path) -> Path:
    """The default medium net with Log(-x) after its sigmoid: a valid file whose every output is NaN."""
    model = onnx.load(str(MODELS / "net-medium.onnx"))
    last = model.graph.node[-1]
    final = last.output[0]
    last.output[0] = "sigmoid_out"
    model.graph.node.extend([onnx.helper.make_node("Neg", ["sigmoid_out"], ["negated"]),
                             onnx.helper.make_node("Log", ["negated"], [final])])
    path.write_bytes(model.SerializeToString())
    return path


def test_a_net_that_yields_nan_is_refused_at_load(bank: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    net = _nan_net(tmp_path / "nan.onnx")
    parse_net(net.read_bytes(), str(net))                     # the file itself passes every check
    err = _error(_render(bank, tmp_path / "take.wav", "--net", str(net)), capsys)
    assert "nan.onnx: refused: its output holds NaN" in err
    assert not (tmp_path / "take.wav").exists()


def test_a_net_that_fails_when_run_is_refused_at_load(bank: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A Gather whose index 99 is out of range: a valid file that onnxruntime can only fail to run."""
    model = onnx.load(str(MODELS / "net-medium.onnx"))
    last = model.graph.node[-1]
    final = last.output[0]
    last.output[0] = "sigmoid_out"
    model.graph.initializer.append(onnx.numpy_helper.from_array(np.array([*range(31), 99], dtype=np.int64), "bad"))
    model.graph.node.append(onnx.helper.make_node("Gather", ["sigmoid_out", "bad"], [final], axis=1))
    net = tmp_path / "fails.onnx"
    net.write_bytes(model.SerializeToString())
    parse_net(net.read_bytes(), str(net))
    err = _error(_render(bank, tmp_path / "take.wav", "--net", str(net)), capsys)
    assert "fails.onnx: refused: onnxruntime fails to run it" in err


def test_a_device_given_as_a_net_or_sample_is_refused_without_reading_it(bank: Path, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """``/dev/zero`` reports size 0 and never ends: read whole, it would eat the memory."""
    assert "/dev/zero: not a regular file" in _error(_render(bank, tmp_path / "t.wav", "--net", "/dev/zero"), capsys)
    impulse_kit(tmp_path / "kit")
    (tmp_path / "kit" / "snare.wav").unlink()
    (tmp_path / "kit" / "snare.wav").symlink_to("/dev/zero")
    assert "snare.wav: not a regular file" in _error(_render(bank, tmp_path / "t.wav", "--kit", str(tmp_path / "kit")),
                                                     capsys)


def test_a_number_of_thousands_of_digits_in_a_nets_metadata_is_a_short_error() -> None:
    model = onnx.load(str(MODELS / "net-medium.onnx"))
    for key in ("epochs", "error_target"):
        for prop in model.metadata_props:
            if prop.key == key:
                prop.value = "9" * 5000
        with pytest.raises(NetError) as caught:
            parse_net(model.SerializeToString(), "huge.onnx")
        assert str(caught.value).startswith("huge.onnx: metadata") and len(str(caught.value)) < 500


def test_names_from_files_are_escaped_and_shortened_when_printed(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bank = tmp_path / "bank.json"
    save_bank(bank, Bank(slots=(Slot("\x1b[2J\x1b[Hgotcha", True, KICKS), Slot("x" * 10_000, True, KICKS))))
    assert main(_render(bank, tmp_path / "a.wav")) == 0
    assert main(["render", str(bank), "--slot", "2", "--bars", "1", "--out", str(tmp_path / "b.wav")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2J\\x1b[Hgotcha" in out
    assert max(len(line) for line in out.splitlines()) < 300


def test_a_stray_argument_with_terminal_codes_is_echoed_escaped(bank: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["render", str(bank), "\x1b[2J", "--slot", "1", "--bars", "1", "--out", "t.wav"], capsys)
    assert "\x1b" not in err and "unrecognized arguments: \\x1b[2J" in err


def test_a_bank_written_by_notepad_with_a_byte_order_mark_renders(bank: Path, tmp_path: Path) -> None:
    bank.write_bytes(b"\xef\xbb\xbf" + bank.read_bytes())
    assert main(_render(bank, tmp_path / "take.wav")) == 0


def test_a_folder_given_as_a_bank_says_it_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert f"{tmp_path}: is a folder, expected a file" in _error(_render(tmp_path, tmp_path / "t.wav"), capsys)


def test_a_bad_slot_number_names_the_bank(bank: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["render", str(bank), "--slot", "9", "--bars", "1", "--out", str(tmp_path / "t.wav")], capsys)
    assert "bank.json: --slot 9: the bank has slots 1-1" in err
    assert "expected a slot number" in _error(["render", str(bank), "--slot", "one", "--bars", "1",
                                               "--out", str(tmp_path / "t.wav")], capsys)


def test_an_empty_device_or_config_variable_is_refused(bank: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert "--device: empty" in _error(["play", str(bank), "--slot", "1", "--device", ""], capsys)
    monkeypatch.setenv("BREAKAGE_PI_CONFIG", "")
    assert "BREAKAGE_PI_CONFIG: is set but empty" in _error(["config"], capsys)
    assert "BREAKAGE_PI_CONFIG: is set but empty" in _error(["play", str(bank), "--slot", "1", "--device", "null",
                                                             "--seconds", "0.01"], capsys)


def test_play_loads_the_kit_before_it_announces_playing(bank: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    write_kit(tmp_path / "kit", {"kick": np.zeros(10)})
    assert main(["play", str(bank), "--slot", "1", "--device", "null", "--kit", str(tmp_path / "kit"),
                 "--seconds", "0.1"]) == 2
    captured = capsys.readouterr()
    assert "snare.wav: missing sample file" in captured.err and "playing" not in captured.out


def test_a_config_of_thousands_of_digits_or_deep_nesting_is_a_clear_error(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f"[audio]\nperiod = {'9' * 5000}\n")
    assert "c.toml" in _error(["config", str(config)], capsys)
    config.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert "c.toml" in _error(["config", str(config)], capsys)
    config.write_bytes(b"\xef\xbb\xbf[audio]\nperiod = 128\n")
    assert main(["config", str(config)]) == 0


def test_ctrl_c_during_train_says_it_aborted_and_what_it_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from breakage_pi.cli import nets

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(nets, "_run_training", interrupted)
    save_bank(tmp_path / "seed.json", seed_example_bank())
    shutil.copy(MODELS / "net-medium.onnx", tmp_path / "net-medium.onnx")
    assert main(["train", str(tmp_path / "seed.json"), "--out", str(tmp_path)]) == 130
    assert "training aborted (Ctrl-C): nothing written" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net-medium.onnx", "seed.json"]


def test_a_retrain_moves_aside_the_nets_it_did_not_make(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("net-tight.onnx", "net-0.1.onnx"):
        shutil.copy(MODELS / "net-tight.onnx", tmp_path / name)   # nets of another bank (the demo's)
    (tmp_path / "net-notes.onnx").write_text("not a net: mine")
    save_bank(tmp_path / "seed.json", seed_example_bank())
    assert main(["train", str(tmp_path / "seed.json"), "--out", str(tmp_path), "--max-epochs", "200"]) == 0
    err = capsys.readouterr().err          # out of epochs, every net is still written (tight the closest)
    assert sorted(p.name for p in tmp_path.glob("*.onnx")) == \
        ["net-loose.onnx", "net-medium.onnx", "net-notes.onnx", "net-tight.onnx"]
    assert read_net(tmp_path / "net-tight.onnx").info.examples == 3, "the demo's tight net was replaced"
    assert len(list(tmp_path.glob("net-0.1.onnx.stale-*"))) == 1 and not list(tmp_path.glob("net-tight.onnx.stale-*"))
    assert "net-0.1.onnx is not from this run: moved aside" in err


def test_a_net_of_another_training_set_is_noted_when_it_plays(bank: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_render(bank, tmp_path / "t.wav", "--net", str(MODELS / "net-medium.onnx"))) == 0
    assert "trained on another training set than this bank's" in capsys.readouterr().err
    assert main(["demo", "--bars", "1", "--out", str(tmp_path / "d.wav"), "--net", str(MODELS / "net-medium.onnx")]) == 0
    assert "another training set" not in capsys.readouterr().err


def test_channel_names_never_lead_the_kit_outside_its_folder(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    impulse_kit(tmp_path / "kit")
    (tmp_path / "secret.wav").write_bytes((tmp_path / "kit" / "kick.wav").read_bytes())
    bank = tmp_path / "bank.json"
    save_bank(bank, Bank(slots=(Slot("a", True, KICKS),), channels=("../secret", "snare", "open_hat", "closed_hat")))
    err = _error(_render(bank, tmp_path / "t.wav", "--kit", str(tmp_path / "kit")), capsys)
    assert "channel name '../secret' cannot name a sample file" in err


def test_the_unchanged_bank_of_a_failed_command_keeps_its_bytes(bank: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(bank.read_text())
    data["comment"] = "kept"
    bank.write_text(json.dumps(data))
    before = bank.read_bytes()
    _error(_render(bank, bank), capsys)
    assert bank.read_bytes() == before and os.listdir(tmp_path) == ["bank.json"]


@pytest.mark.parametrize("argv", [["render", "", "--slot", "1", "--bars", "1", "--out", "t.wav"],
                                  ["render", "b.json", "--slot", "1", "--bars", "1", "--out", "t.wav", "--kit", ""],
                                  ["predict", "", "b.json", "--slot", "1"], ["config", ""],
                                  ["train", "b.json", "--out", ""]])
def test_an_empty_file_or_folder_argument_is_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert "empty" in _error(argv, capsys)
