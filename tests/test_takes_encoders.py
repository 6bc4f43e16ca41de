"""Encoder knobs in scripts and takes: ``T turn NAME DETENTS`` and ``T push NAME down|up`` drive the encoder's
mock pins that the real gpiozero RotaryEncoder and push button read; a take records them (live: from the
hardware's events) and replays byte for byte from its own files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from breakage_pi.core import Pattern
from breakage_pi.core.events import ButtonEvent, KnobEvent, PadEvent
from breakage_pi.core.instrument import Instrument, step
from breakage_pi.core.settings import TakesConfig
from breakage_pi.daemon.take_folder import read_take
from breakage_pi.daemon.takes import Takes
from breakage_pi.store import load_bank
from test_daemon import bank_of, data_dir
from test_takes import TAKE_PAD, cli, record_take

ENCODERS = ('[knobs.tempo]\nkind = "encoder"\na = 22\nb = 23\npush = 24\n'
            '[knobs.swing]\nkind = "encoder"\na = 25\nb = 26\n')
SESSION = TAKE_PAD.format(t=100, t2=150, t3=200, t4=250) + """
400 button play down
450 button play up
1000 turn tempo +5
1500 push tempo down
1600 push tempo up
2000 button mode down
2050 button mode up
2500 turn swing +16
3000 turn tempo -2
""" + TAKE_PAD.format(t=3500, t2=3550, t3=3600, t4=3650)


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A scripted session on a panel whose TEMPO and SWING knobs are encoders: (data dir, config, the take)."""
    tmp_path = tmp_path_factory.mktemp("take-encoders")
    pattern = Pattern().with_velocity(0, 0, 220).with_velocity(1, 4, 180)
    root = data_dir(tmp_path, bank_of(pattern))
    take, _ = record_take(root, f'[audio]\nperiod = 64\n[midi]\nout = "none"\n[sync]\nport = "none"\n{ENCODERS}',
                          SESSION, 4)
    return root, root.parent / "config.toml", take


def test_a_take_keeps_the_encoders_turns_and_pushes_and_they_turned_what_they_edit(session) -> None:
    root, _, take = session
    recorded = read_take(take)
    assert [(e.kind, e.name, e.detents or e.down) for e in recorded.script if e.kind in ("turn", "push")] == [
        ("turn", "tempo", 5), ("push", "tempo", True), ("push", "tempo", False), ("turn", "swing", 16),
        ("turn", "tempo", -2)]
    lines = (take / "performance.txt").read_text()
    assert "turn tempo +5\n" in lines and "turn swing +16\n" in lines and "push tempo down\n" in lines
    info = recorded.info
    assert info["tempo"] == 120 and [bpm for _, bpm in info["tempo_changes"]] == [125, 123]    # a BPM a detent
    turned = Instrument(bank_of(Pattern()))
    for _ in range(16):                                     # the state machine's own detents, one by one
        turned, _ = step(turned, KnobEvent("swing", 1.0, delta=1))
    assert load_bank(root / "bank.json").swing == turned.bank.swing > 0.55


def test_a_take_with_encoder_turns_replays_byte_for_byte_on_the_same_panel(session, tmp_path) -> None:
    root, config, take = session
    assert read_take(take).info["replays_exactly"]
    replay = tmp_path / "replay.wav"
    cli("run", "--sim", "--headless", "--take", str(take), "--data", str(root), "--config", str(config),
        "--device", f"wav:{replay}")
    assert replay.read_bytes() == (take / "take.wav").read_bytes()


def test_lines_the_panel_cannot_play_are_refused_before_the_session_starts(session, tmp_path) -> None:
    """A take of encoder turns on a panel of pots (the default config), a pot's position for an encoder: one
    line saying which action and why, nothing opened."""
    root, config, take = session
    done = subprocess.run([sys.executable, "-m", "breakage_pi.cli", "run", "--sim", "--headless", "--take",
                           str(take), "--data", str(root), "--device", "null"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    turn_ms = next(e.time_ms for e in read_take(take).script if e.kind == "turn")
    assert (f"the action at {turn_ms:g} ms cannot be played on this panel: knob tempo is a pot in the config: "
            "a turn line needs an encoder") in done.stderr
    script = tmp_path / "pot.txt"
    script.write_text("0 button play down\n20 button play up\n300 knob tempo 0.5\n")
    done = subprocess.run([sys.executable, "-m", "breakage_pi.cli", "run", "--sim", "--headless", "--script",
                           str(script), "--config", str(config), "--data", str(tmp_path / "fresh"),
                           "--device", "null"], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "the action at 300 ms cannot be played on this panel: knob tempo is an encoder in the config" in done.stderr
    assert not (tmp_path / "fresh").exists()


def test_a_take_records_an_encoders_hardware_events_as_turn_and_push_lines(tmp_path) -> None:
    """The live daemon hands the takes every hardware event (``Takes.input``): each detent an encoder reports is
    a ``turn`` line, its push button a ``push`` line (its hold is the debouncer's, not an action), as the buttons,
    pads and pots are theirs."""
    root = tmp_path / "data"
    root.mkdir()
    takes = Takes(TakesConfig(), root, 48_000, 64, shared=False)
    state = Instrument(bank_of(Pattern()))
    takes.start(state, "a test")
    for event in (KnobEvent("tempo", 1.0, delta=1), KnobEvent("tempo", 1.0, delta=1), KnobEvent("net", 1.1, delta=-1),
                  ButtonEvent("tempo.push", "pressed", 1.2), ButtonEvent("tempo.push", "held", 2.0),
                  ButtonEvent("tempo.push", "released", 2.1), ButtonEvent("play", "pressed", 2.2),
                  PadEvent(0, 3, True, 2.3), KnobEvent("volume", 2.4, value=0.25)):
        takes.input(event, state)
    takes.close()
    (take,) = (root / "takes").iterdir()
    assert (take / "performance.txt").read_text().splitlines()[-8:] == [
        "0 turn tempo +1", "0 turn tempo +1", "0 turn net -1", "0 push tempo down", "0 push tempo up",
        "0 button play down", "0 press 0 3", "0 knob volume 0.25"]
    assert read_take(take).info["ended"] == "the session ended"
