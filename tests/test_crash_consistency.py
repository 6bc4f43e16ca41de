"""SIGKILL during saves: every file is always the old or the new version, and a restart leaves no temporary file.

A forked child saves a bank (``save_bank``) and a net (``atomic_write_bytes``
of an ``.onnx``) in a loop, alternating two versions of each, and reports
each finished save on a pipe. The parent lets it run a random number of
saves, spins a random few microseconds, kills it with SIGKILL, then checks
the files and sweeps as the daemon does at start.
"""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

import pytest

from breakage_pi.core import Bank, Pattern, Slot
from breakage_pi.ml.netfile import read_net
from breakage_pi.store import load_bank, save_bank, sweep_stale_temps, atomic_write_bytes

MODELS = Path(__file__).resolve().parent.parent / "models"
BANKS = (Bank(slots=(Slot("old", True, Pattern().with_velocity(0, 0, 1)),)),
         Bank(slots=tuple(Slot(f"new {i}", True, Pattern().with_channel(3, [i] * 16)) for i in range(16)),
              tempo=97.0, extra={"comment": "x" * 20_000}))
NETS = tuple((MODELS / name).read_bytes() for name in ("net-loose.onnx", "net-tight.onnx"))


def _saver(folder: Path, report: int) -> None:
    """The child: save forever, alternating versions; one byte on ``report`` after each save."""
    try:
        for count in range(10**9):
            save_bank(folder / "bank.json", BANKS[count % 2])
            atomic_write_bytes(folder / "net.onnx", NETS[count % 2])
            os.write(report, b".")
    finally:
        os._exit(0)


def _kill_during_saves(folder: Path, kills: int, seed: int) -> int:
    """Kill a saving child ``kills`` times; returns how many kills left a temporary file (hit a save mid-way)."""
    rng = random.Random(seed)
    save_bank(folder / "bank.json", BANKS[0])
    atomic_write_bytes(folder / "net.onnx", NETS[0])
    torn_saves = 0
    for kill in range(kills):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            _saver(folder, write_end)
        os.close(write_end)
        for _ in range(1 + rng.randrange(3)):
            os.read(read_end, 1)                        # wait on the child's own count of saves, never on time
        for _ in range(rng.randrange(200_000)):         # and a random stretch (0-5 ms) into the next save
            pass
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)
        assert load_bank(folder / "bank.json") in BANKS, f"kill {kill}: the bank is neither old nor new"
        assert (folder / "net.onnx").read_bytes() in NETS, f"kill {kill}: the net is neither old nor new"
        if kill % 100 == 0:
            read_net(folder / "net.onnx")               # and it is a net that loads
        torn_saves += bool(sweep_stale_temps(folder, recursive=True))
        assert sorted(p.name for p in folder.iterdir()) == ["bank.json", "net.onnx"], f"kill {kill}: leftovers"
    return torn_saves


def test_1000_kills_during_saves_leave_old_or_new_files_and_no_temporary(tmp_path: Path) -> None:
    torn = _kill_during_saves(tmp_path, 1000, seed=9)
    print(f"{torn} of 1000 kills left a temporary file")
    assert torn > 50, f"only {torn} of 1000 kills hit a save mid-way: the test would not see a torn file"


@pytest.mark.soak
def test_5000_kills_during_saves(tmp_path: Path) -> None:
    assert _kill_during_saves(tmp_path, 5000, seed=11) > 250
