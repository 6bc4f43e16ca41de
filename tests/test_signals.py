"""SIGTERM and SIGHUP (systemd stopping a service, a terminal closing) do what Ctrl-C does, through the real
entry point (the installed ``breakage-pi`` script), whose module the spawned audio process re-runs."""

import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from builders import bank_file
from ml_builders import DEMO_BANK

from breakage_pi.core import Pattern
from emulation import patience

ENTRY = Path(sys.executable).parent / "breakage-pi"


def audio_child(pid):
    """The spawned audio process among ``pid``'s children (not multiprocessing's resource tracker)."""
    with open(f"/proc/{pid}/task/{pid}/children") as listed:
        for child in listed.read().split():
            with open(f"/proc/{child}/cmdline", "rb") as cmdline:
                if b"spawn_main" in cmdline.read():
                    return int(child)
    return None


@pytest.mark.realtime                                   # "xruns 0": the paced device kept up
@pytest.mark.timeout(120)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_play_stops_cleanly_and_prints_its_summary(tmp_path, signum):
    bank = bank_file(tmp_path / "bank.json", Pattern().with_channel(0, [200] * 16))
    take = tmp_path / "take.wav"
    play = subprocess.Popen([str(ENTRY), "play", str(bank), "--slot", "1", "--device", f"file:FILE={take},FORMAT=wav",
                             "--pace"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + patience(60)
        while not (take.exists() and take.stat().st_size > 48_000):       # the engine's own output: playing
            assert play.poll() is None and time.monotonic() < deadline, play.stderr.read()
            time.sleep(0.01)
        engine = audio_child(play.pid)
        with open(f"/proc/{engine}/maps") as maps:
            assert "onnxruntime" not in maps.read()      # the entry module re-run in the child imports nothing heavy
        play.send_signal(signum)
        out, err = play.communicate(timeout=patience(60))
    finally:
        if play.poll() is None:
            play.kill()
    assert play.returncode == 0                          # as after Ctrl-C: play was asked to stop, and did
    assert out.startswith("playing slot 1") and "blocks " in out and "xruns 0" in out
    assert "Traceback" not in err


@pytest.mark.timeout(120)
def test_train_stopped_by_sigterm_shows_the_cursor_again(tmp_path):
    controller, terminal = pty.openpty()
    train = subprocess.Popen([str(ENTRY), "train", str(DEMO_BANK), "--out", str(tmp_path / "nets"),
                              "--targets", "1e-12", "--max-epochs", "1000000000"],
                             stdin=terminal, stdout=terminal, stderr=terminal, env={**os.environ, "TERM": "xterm"})
    os.close(terminal)
    shown = b""
    try:
        while b"epoch" not in shown:                     # the progress bar is up (the cursor hidden)
            shown += os.read(controller, 4096)
        train.send_signal(signal.SIGTERM)
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:                              # the terminal closed: train has exited
                break
            if not chunk:
                break
            shown += chunk
        train.wait(patience(60))
    finally:
        if train.poll() is None:
            train.kill()
        os.close(controller)
    hide, show = b"\x1b[?25l", b"\x1b[?25h"
    assert hide in shown and shown.rfind(show) > shown.rfind(hide)
    assert train.returncode == 128 + signal.SIGTERM and b"Traceback" not in shown
