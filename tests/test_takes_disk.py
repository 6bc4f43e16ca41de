"""Takes when things go wrong: the daemon killed mid-take leaves a readable WAV of all but the last second;
a data directory that fills up ends the take with a message while the instrument plays on."""

from __future__ import annotations

import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from builders import read_wav
from breakage_pi.core import Pattern
from breakage_pi.daemon.take_stats import take_stats
from test_daemon import STEP, bank_of, data_dir

RATE = 48_000


def declared_frames(wav: Path) -> int:
    """The frames a WAV's header counts (what a reader will read)."""
    if not wav.exists():
        return 0                                            # the take's folder is made before its WAV
    with open(wav, "rb") as file:
        header = file.read(44)
    return struct.unpack("<I", header[40:44])[0] // 4 if len(header) == 44 else 0


def wait_for(condition, timeout: float = 120.0, what: str = "") -> None:
    """Poll a counter the daemon writes (a file's header) until ``condition()``; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_sigkill_during_a_take_leaves_a_readable_wav_of_all_but_the_last_second(tmp_path) -> None:
    pattern = Pattern().with_velocity(0, 0, 200).with_velocity(1, 4, 180)
    root = data_dir(tmp_path, bank_of(pattern))
    config = tmp_path / "config.toml"
    config.write_text('[instrument]\nautoplay = true\n[takes]\nauto = true\n[midi]\nout = "none"\n'
                      '[sync]\nport = "none"\n')
    daemon = subprocess.Popen([sys.executable, "-m", "breakage_pi.cli", "run", "--sim", "--headless", "--pace",
                               "--device", "none", "--config", str(config), "--data", str(root)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (root / "takes").is_dir() and any((root / "takes").iterdir()), what="the take to start")
        (take,) = (root / "takes").iterdir()
        wav = take / "take.wav"
        wait_for(lambda: declared_frames(wav) >= 3 * RATE, what="three seconds of take on disk")
    finally:
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(30)
    assert daemon.returncode == -signal.SIGKILL
    appended = (wav.stat().st_size - 44) // 4             # all the audio that reached the file
    pcm, rate = read_wav(wav)
    assert rate == RATE and len(pcm) == declared_frames(wav) >= 3 * RATE
    assert appended - len(pcm) <= RATE                     # at most the last second is not counted
    hits = np.flatnonzero(pcm[:, 0])                       # the offset kit: one frame a hit, at step + channel
    assert len(hits) >= 4 and np.all((hits - hits[0]) % STEP <= 3)     # on the steps: nothing torn or shifted
    stats = take_stats(take)
    assert stats.info["ended"].startswith("cut off") and stats.info["frames"] == len(pcm)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MB tmpfs (root only; skipped where mounting is refused)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("floor_mb, says", [(0.3, "under the floor of 0 MB"), (0.0, "No space left on device")])
def test_a_full_data_directory_ends_the_take_and_the_instrument_plays_on(tmp_path, tiny_disk, floor_mb, says):
    pattern = Pattern().with_velocity(0, 0, 200).with_velocity(1, 4, 180)
    made = data_dir(tmp_path, bank_of(pattern))
    root = tiny_disk / "data"
    shutil.copytree(made, root)
    config = tmp_path / "config.toml"
    config.write_text(f'[takes]\nauto = true\nfloor_mb = {floor_mb}\n[midi]\nout = "none"\n[sync]\nport = "none"\n')
    script = tmp_path / "play.txt"
    script.write_text("100 button play down\n150 button play up\n")
    played = tmp_path / "played.wav"                      # the session's own output is on the big disk
    done = subprocess.run([sys.executable, "-m", "breakage_pi.cli", "run", "--sim", "--headless", "--config",
                           str(config), "--data", str(root), "--script", str(script), "--seconds", "9",
                           "--device", f"wav:{played}"], capture_output=True, text=True, timeout=180)
    # with no floor the card is really full at the end, so the final save fails too and run says so (status 3):
    # the floor is what keeps room for the instrument's own saves
    assert done.returncode == (0 if floor_mb else 3), done.stderr
    assert "the instrument plays on" in done.stderr and says in done.stderr
    (take,) = (root / "takes").iterdir()
    pcm, _ = read_wav(take / "take.wav")
    session, _ = read_wav(played)
    assert len(session) == 9 * RATE                        # the session played to its end
    assert RATE < len(pcm) < 7 * RATE                      # the take ended early, readable
    hits = np.flatnonzero(session[:, 0])
    assert hits[-1] > 7.5 * RATE                            # and the instrument still played after it ended
