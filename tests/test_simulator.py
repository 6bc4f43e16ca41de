"""The simulator in a real terminal: `breakage-pi run --sim` under tmux, played with keys only.

A newcomer's first minutes (issue 19): write a beat, set a velocity, set the
tempo, play, queue a chain, train, PERFORM, turn NET, at 80x24 and 200x50;
what the screen says after each step, and the saved bank afterwards. A
restart with no actions leaves every saved byte as it was. This machine has
no sound card: without --device the simulator says so in one line and plays
on silently.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import time
from typing import Any
from pathlib import Path

import pytest

from breakage_pi.hw.sim.terminal import KEY_MAP, pad_at, pad_origin
from breakage_pi.store import load_bank
from emulation import patience

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (make test installs it)")
NO_SOUND_CARD = not any(Path("/dev/snd").glob("pcmC*")) if Path("/dev/snd").exists() else True


class Tmux:
    """One tmux server of our own (its own socket) running one command in a window of the size given."""

    started = itertools.count()

    def __init__(self, command: str, width: int = 80, height: int = 24) -> None:
        self.socket = f"breakage-pi-test-{os.getpid()}-{next(self.started)}"
        self._tmux("new-session", "-d", "-s", "sim", "-x", str(width), "-y", str(height), command)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=patience(10))
        return done.stdout

    def keys(self, *keys: str) -> None:
        for key in keys:          # one at a time, as fingers type them
            self._tmux("send-keys", "-t", "sim", key)

    def literal(self, text: str) -> None:
        self._tmux("send-keys", "-t", "sim", "-l", text)

    def click(self, row: int, column: int) -> None:
        """A left click on a pad, as an xterm reports it (SGR mouse: press, then release; 1-based)."""
        x, y = pad_origin(row, column)
        self.literal(f"\x1b[<0;{x + 1};{y + 1}M")
        self.literal(f"\x1b[<0;{x + 1};{y + 1}m")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-t", "sim", "-p")

    def wait_for(self, text: str, seconds: float = 30.0) -> str:
        """The screen once ``text`` is on it (polled: the terminal is the only thing we can watch)."""
        deadline = time.monotonic() + seconds
        while text not in (screen := self.screen()):
            assert time.monotonic() < deadline, f"{text!r} never appeared on:\n{screen}"
            time.sleep(0.05)
        return screen

    def wait_for_line(self, text: str, settled: Any, seconds: float = 30.0) -> str:
        """The screen once its line holding ``text`` satisfies ``settled`` (a smoothed pot takes a few
        readings to come to rest)."""
        deadline = time.monotonic() + seconds
        while not settled(line_with(screen := self.wait_for(text, seconds), text)):
            assert time.monotonic() < deadline, f"the line with {text!r} never settled on:\n{screen}"
            time.sleep(0.05)
        return screen

    def close(self) -> None:
        self._tmux("kill-server")


def cell(screen: str, row: int, column: int) -> str:
    x, y = pad_origin(row, column)
    return screen.splitlines()[y][x:x + 2]


def line_with(screen: str, text: str) -> str:
    return next(line for line in screen.splitlines() if text in line)


def simulator(data: Path, device: str | None, width: int, height: int) -> Tmux:
    chosen = f"--device '{device}' --pace " if device else ""
    return Tmux(f"TERM=xterm-256color {sys.executable} -m breakage_pi.cli run --sim --data {data} {chosen}"
                f"; echo EXITED $?; sleep 60", width, height)


def test_pads_are_found_where_they_are_drawn():
    for row in range(4):
        for column in range(16):
            x, y = pad_origin(row, column)
            assert pad_at(x, y) == pad_at(x + 1, y) == (row, column)
            assert pad_at(x + 2, y) is None


def test_the_key_map_fits_80_columns():
    assert all(len(line) < 80 for line in KEY_MAP)


@pytest.mark.parametrize("width, height", [(80, 24), (200, 50)])
def test_a_newcomer_plays_everything_with_keys_only(tmp_path, width, height):
    data = tmp_path / "data"
    tmux = simulator(data, f"file:FILE={tmp_path / 'take.wav'},FORMAT=wav", width, height)
    try:
        tmux.wait_for("EDIT  slot 1")
        screen = tmux.wait_for("cursor: kick step 1")          # the boards are up
        assert "# stopped" in screen and "112 BPM" in screen
        assert line_with(screen, " 2 TEMPO").split()[3:5] == ["112", "BPM"]       # the value in force, not 0.00
        assert "pick up" not in screen                   # the simulated pots start on their values
        assert all(line[:79] in screen for line in KEY_MAP)
        if height >= 50:
            assert "SHIFT page (hold s):" in screen and "row 4 pads 16" in screen
        assert cell(screen, 0, 0) == "██" and cell(screen, 0, 4) == "::" and cell(screen, 0, 1) == "··"

        # write a beat: a kick on step 2 (the cursor starts on kick step 1)
        tmux.keys("l", "Enter")
        screen = tmux.wait_for("slot 1 kick step 2: velocity 200")
        assert cell(tmux.wait_for("cursor: kick step 2: velocity 200"), 0, 1) == "▇▇"

        # set a velocity: hold snare step 3 (x), VELOCITY down two steps, let go
        tmux.keys("j", "l", "x")
        screen = tmux.wait_for("holding snare step 3 (200)")
        assert "<" in screen.splitlines()[pad_origin(1, 2)[1]]
        tmux.keys("1", "[", "[")
        tmux.wait_for("snare step 3: velocity 192")
        tmux.keys("x")
        tmux.wait_for("slot 1 snare step 3: velocity 192")
        assert cell(tmux.screen(), 1, 2) == "▆▆"                 # 192 draws a step lower than 200

        # TEMPO to 120, one whole BPM at a time after a big turn
        tmux.keys("2", "}", "[", "[")
        screen = tmux.wait_for("tempo 120 BPM")
        assert "120 BPM" in screen.splitlines()[0]

        # play
        tmux.keys("Space")
        tmux.wait_for("> PLAYING")
        tmux.wait_for("▲▲")                                # the playhead moves under the grid

        # queue a chain on the SHIFT page: hold slot 2, tap slot 4
        tmux.keys("s")
        screen = tmux.wait_for("SHIFT held")
        assert "slots 1  2  3  4" in screen and "Lo Me Ti" in screen and "Cp Sv TR" in screen
        tmux.keys("k", "h", "x", "l", "l", "Enter")              # from snare step 3 up to slot 2
        tmux.wait_for("chain slots 2-4")
        tmux.keys("c")                                            # let go of everything held
        tmux.wait_for("slot 2 -> 3 chain 2-4")                  # the chain goes round: 2, 3, 4, 2...

        # train: back to slot 1, then hold TRAIN (row 4, pad 16) for a second
        tmux.keys("h", "h", "h", "Enter")
        tmux.wait_for("slot 1 queued for the next bar")
        tmux.keys("j", "j", "j", "L", "L", "L", "l", "l", "l")
        tmux.wait_for("cursor: TRAIN")
        tmux.keys("x")
        tmux.wait_for("training the nets on")
        tmux.keys("x")
        tmux.wait_for("nets trained: switch to PERFORM (MODE) to hear them", 90)

        # PERFORM: the net plays the hats
        tmux.keys("s", "m")
        screen = tmux.wait_for("PERFORM  slot")
        assert "net medium plays" in screen
        assert line_with(screen, "o-hat").rstrip().endswith("the net's")

        # NET: a big turn down is the loose net
        tmux.keys("5", "{")
        tmux.wait_for("net loose")
        tmux.wait_for_line("5 NET", lambda line: line.split()[2:4] == ["net", "loose"])   # the pot settles
        tmux.keys("q")
        tmux.wait_for("EXITED 0")
    finally:
        tmux.close()
    saved = load_bank(data / "bank.json")
    assert saved.slots[0].pattern.velocity(0, 1) == 200 and saved.slots[0].pattern.velocity(1, 2) == 192
    assert saved.tempo == 120.0
    state = (data / "state.json").read_text()
    assert '"mode": "perform"' in state and '"net": "loose"' in state
    assert len(list((data / "nets").glob("net-*.onnx"))) == 3


def test_a_restart_with_no_actions_changes_no_saved_byte(tmp_path):
    data = tmp_path / "data"
    device = f"file:FILE={tmp_path / 'take.wav'},FORMAT=wav"
    tmux = simulator(data, device, 80, 24)
    try:
        tmux.wait_for("cursor: kick step 1")
        tmux.keys("2", "}", "[", "3", "]", "4", "[", "[", "l", "Enter")      # tempo, swing, volume, a hit
        tmux.wait_for("kick step 2: velocity 200")
        tmux.wait_for("volume 78%")
        tmux.keys("q")
        tmux.wait_for("EXITED 0")
    finally:
        tmux.close()
    before = {path.name: path.read_bytes() for path in data.glob("*.json")}
    assert set(before) == {"bank.json", "state.json"} and b'"tempo": 121.0' in before["bank.json"]
    tmux = simulator(data, device, 80, 24)
    try:
        screen = tmux.wait_for("cursor: kick step 1")
        assert "121 BPM" in screen and "velocity 200" in screen
        assert "pick up" not in screen          # the pots rest where they were left: on their values
        tmux.keys("q")
        screen = tmux.wait_for("EXITED 0")
    finally:
        tmux.close()
    assert {path.name: path.read_bytes() for path in data.glob("*.json")} == before


@pytest.mark.skipif(not NO_SOUND_CARD, reason="this machine has a sound card")
def test_with_no_sound_device_it_says_so_once_and_plays_on_silently(tmp_path):
    tmux = simulator(tmp_path / "data", None, 120, 60)       # tall: libasound's own lines are in the log too
    try:
        screen = tmux.wait_for("cursor: kick step 1")
        assert screen.splitlines()[0].endswith("no sound")
        words = " ".join(screen.split())                          # the log pane wraps long lines
        assert words.count("no sound:") == 1 and "To record what you play: --device 'file:FILE=take.wav" in words
        assert "instrument running silently" in screen and "ALSA lib" not in screen
        tmux.keys("Space")
        tmux.wait_for("▲▲")                     # the engine keeps time with no device
        tmux.keys("q")
        tmux.wait_for("EXITED 0")
    finally:
        tmux.close()
