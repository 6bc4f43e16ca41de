"""The simulator in a real terminal: `breakage-pi run --sim` under tmux, driven by keys and mouse clicks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from breakage_pi.hw.sim.terminal import pad_at, pad_origin
from breakage_pi.store import load_bank
from emulation import patience

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (make test installs it)")


class Tmux:
    """One tmux server of our own (its own socket) running one command in a 140x32 window."""

    def __init__(self, command: str) -> None:
        self.socket = f"breakage-pi-test-{os.getpid()}"
        self._tmux("new-session", "-d", "-s", "sim", "-x", "140", "-y", "32", command)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=patience(10))
        return done.stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "sim", *keys)

    def literal(self, text: str) -> None:
        self._tmux("send-keys", "-t", "sim", "-l", text)

    def click(self, row: int, column: int) -> None:
        """A left click on a pad, as an xterm reports it (SGR mouse: press, then release; 1-based)."""
        x, y = pad_origin(row, column)
        self.literal(f"\x1b[<0;{x + 1};{y + 1}M")
        self.literal(f"\x1b[<0;{x + 1};{y + 1}m")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-t", "sim", "-p")

    def wait_for(self, text: str, seconds: float = 20.0) -> str:
        """The screen once ``text`` is on it (polled: the terminal is the only thing we can watch)."""
        deadline = time.monotonic() + seconds
        while text not in (screen := self.screen()):
            assert time.monotonic() < deadline, f"{text!r} never appeared on:\n{screen}"
            time.sleep(0.05)
        return screen

    def close(self) -> None:
        self._tmux("kill-server")


def cell(screen: str, row: int, column: int) -> str:
    x, y = pad_origin(row, column)
    return screen.splitlines()[y][x:x + 2]


def test_pads_are_found_where_they_are_drawn():
    for row in range(4):
        for column in range(16):
            x, y = pad_origin(row, column)
            assert pad_at(x, y) == pad_at(x + 1, y) == (row, column)
            assert pad_at(x + 2, y) is None


def test_the_simulator_plays_in_a_real_terminal(tmp_path):
    data = tmp_path / "data"
    command = (f"TERM=xterm-256color {sys.executable} -m breakage_pi.cli run --sim --data {data} "
               f"--device 'file:FILE={tmp_path / 'sim.wav'},FORMAT=wav' --pace; echo EXITED $?; sleep 60")
    tmux = Tmux(command)
    try:
        screen = tmux.wait_for("grid board 3 (0x31): online")
        assert "EDIT  slot 1" in screen and "stopped" in screen
        assert cell(screen, 0, 1) == "··"                 # the demo bank's kick: nothing on step 2
        tmux.keys("Space")
        tmux.wait_for("PLAYING")
        tmux.click(0, 1)
        screen = tmux.wait_for("kick step 2: 200")
        screen = tmux.wait_for("PLAYING")
        assert cell(tmux.screen(), 0, 1) == "██"          # the LED is lit on the grid
        tmux.keys("2", "Up")                               # TEMPO: the pot moves (112 BPM waits to be passed)
        tmux.wait_for("2 tempo 0.10")
        tmux.keys("m")
        tmux.wait_for("PERFORM")
        tmux.keys("s")
        screen = tmux.wait_for("SHIFT held")
        tmux.click(0, 2)                                    # SHIFT page: slot 3 queued for the next bar
        tmux.wait_for("slot 3 queued for the next bar")
        tmux.wait_for("slot 3 playing")
        tmux.keys("s", "q")
        tmux.wait_for("EXITED 0")
    finally:
        tmux.close()
    saved = load_bank(data / "bank.json")
    assert saved.slots[0].pattern.velocity(0, 1) == 200
    assert (data / "state.json").read_text().count('"mode": "perform"') == 1
