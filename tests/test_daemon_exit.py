"""How `breakage-pi run` ends: the exit status tells the truth about the final save, every script ends,
a long script costs the same per action however long it is, a stop signal at any moment of start-up
ends as one later does, and an unusable device leaves no data directory behind."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from emulation import EMULATION
from test_daemon import bank_of, data_dir

from breakage_pi.daemon import SAVE_FAILED_STATUS, RunOptions, run_lockstep
from breakage_pi.daemon.saver import Saver
from breakage_pi.core import Pattern
from breakage_pi.core.script import parse_script
from breakage_pi.core.settings import Config
from breakage_pi.daemon.datadir import DataDir
from breakage_pi.store import load_bank

ENTRY = Path(sys.executable).parent / "breakage-pi"
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def test_the_final_save_reports_why_it_failed(tmp_path):
    data = DataDir(tmp_path / "data")
    data.prepare()
    bank = data.load_bank()
    assert Saver(data).flush(bank, {}) is None
    shutil.rmtree(data.root)
    failure = Saver(data).flush(bank, {})
    assert failure is not None and "bank.json" in failure


@pytest.mark.timeout(120)
def test_run_exits_non_zero_with_one_line_when_the_final_save_fails(tmp_path):
    root = data_dir(tmp_path, bank_of(Pattern()), kit=False)
    daemon = subprocess.Popen([str(ENTRY), "run", "--sim", "--headless", "--data", str(root), "--device", "none"],
                              stderr=subprocess.PIPE, text=True)
    try:
        for line in daemon.stderr:
            if "sound: " in line:
                break
        shutil.rmtree(root)                                   # the data directory deleted under the daemon
        daemon.send_signal(signal.SIGTERM)
        err = daemon.communicate(timeout=60)[1]               # reading on: a full pipe would stop its logging
        assert daemon.returncode == SAVE_FAILED_STATUS, err[-600:]
    finally:
        if daemon.poll() is None:
            daemon.kill()
    failed = [line for line in err.splitlines() if "final save failed" in line]
    assert len(failed) == 1 and "bank.json" in failed[0] and "Traceback" not in err, err


@pytest.mark.parametrize("script", ["", "# nothing to play yet\n\n   # indented\n"], ids=["empty", "comments"])
def test_an_empty_or_comment_only_script_ends_after_its_grace_second(tmp_path, script):
    root = data_dir(tmp_path, bank_of(Pattern()), kit=False)
    path = tmp_path / "nothing.txt"
    path.write_text(script)
    done = subprocess.run([str(ENTRY), "run", "--sim", "--headless", "--script", str(path), "--data", str(root),
                           "--device", "none"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "breakage-pi: 1.00 s of audio" in done.stderr


def taps(count: int, apart_ms: float = 0.01) -> str:
    """``count`` pad taps, a press and its release ``apart_ms`` apart, walking over the 64 pads."""
    lines = []
    for tap in range(count):
        at = 2 * tap * apart_ms
        row, column = tap % 4, (tap // 4) % 16
        lines += [f"{at:.2f} press {row} {column}", f"{at + apart_ms:.2f} release {row} {column}"]
    return "\n".join(lines) + "\n"


def test_a_long_script_costs_one_key_scan_per_action_and_plays_every_tap(tmp_path):
    """Each scripted pad action costs one emulated key scan (no real-time wait), so time grows with the
    script's length, linearly; every tap of a dense script reaches the bank."""
    root = data_dir(tmp_path, bank_of(Pattern()), kit=False)
    count = 1500
    script = parse_script(taps(count))
    options = RunOptions(config=Config(), data_dir=root, sim=True, script=script, device="none")
    figures = run_lockstep(options)
    assert figures["status"] == 0
    assert figures["scans_waited"] == 2 * count                  # a press and a release: one scan each
    assert figures["frames"] == round((script[-1].time_ms / 1000 + 1.0) * 48000)
    pattern = load_bank(root / "bank.json").slots[0].pattern
    for pad in range(64):
        row, column = pad % 4, pad // 4
        tapped = sum(1 for tap in range(count) if (tap % 4, (tap // 4) % 16) == (row, column))
        assert (pattern.velocity(row, column) > 0) == (tapped % 2 == 1), (row, column, tapped)


@pytest.mark.soak
def test_a_200000_line_script_ends(tmp_path):
    root = data_dir(tmp_path, bank_of(Pattern()), kit=False)
    options = RunOptions(config=Config(), data_dir=root, sim=True, script=parse_script(taps(100_000)),
                         device="none")
    figures = run_lockstep(options)
    assert figures["status"] == 0 and figures["scans_waited"] == 200_000


def stop_signals_in(pid: int, mask: str) -> set[int]:
    """The stop signals in ``pid``'s ``mask`` now (``SigBlk``: blocked, ``SigCgt``: caught; from /proc)."""
    with open(f"/proc/{pid}/status") as status:
        bits = next(int(line.split()[1], 16) for line in status if line.startswith(f"{mask}:"))
    return {number for number in STOP_SIGNALS if bits >> (number - 1) & 1}


@pytest.mark.skipif(bool(EMULATION), reason="under qemu-user /proc's SigBlk and SigCgt are qemu's own masks "
                                            "(it catches every signal for the program it runs), not the program's")
@pytest.mark.timeout(600)
def test_a_stop_signal_at_any_moment_of_start_up_ends_as_one_later_does(tmp_path):
    """From the project's first instruction, which holds the stop signals back (before it, the interpreter's
    own start-up, ~20 ms, has only the default actions), SIGINT, SIGTERM or SIGHUP at a random moment of the
    next 1.5 s ends `run` with status 0, a summary and no traceback."""
    chance = random.Random(17)
    root = data_dir(tmp_path, bank_of(Pattern()), kit=False)
    for attempt in range(30):
        signum = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)[attempt % 3]
        delay = chance.uniform(0.0, 1.5)
        daemon = subprocess.Popen([str(ENTRY), "run", "--sim", "--headless", "--data", str(root), "--device",
                                   "none"], stderr=subprocess.PIPE, text=True)
        try:
            while True:                     # the interpreter starts, then the project's first instruction runs
                assert daemon.poll() is None
                if stop_signals_in(daemon.pid, "SigBlk") == STOP_SIGNALS:
                    break
                assert signal.SIGTERM not in stop_signals_in(daemon.pid, "SigCgt"), \
                    "SIGTERM was taken without being held back during the imports"
                time.sleep(0.0002)
            time.sleep(delay)
            daemon.send_signal(signum)
            err = daemon.communicate(timeout=60)[1]
        finally:
            if daemon.poll() is None:
                daemon.kill()
        where = f"{signal.Signals(signum).name} {delay:.3f} s after the first instruction: {err[-600:]}"
        assert daemon.returncode == 0, where
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, where
        summary = err.strip().splitlines()[-1]
        assert "audio:" in summary or "stopped before start-up" in summary, where


def test_an_unusable_device_leaves_no_data_directory(tmp_path):
    root = tmp_path / "never"
    script = tmp_path / "take.txt"
    script.write_text("0 button play down\n")
    done = subprocess.run([str(ENTRY), "run", "--sim", "--headless", "--script", str(script), "--data", str(root),
                           "--device", "hw:CARD=NoSuchCard,DEV=0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "NoSuchCard" in done.stderr.splitlines()[-1]
    assert not root.exists()


def test_the_control_loops_wait_ends_when_a_signal_handler_outlasts_it():
    """A stop signal's handler (it logs) may take longer than the loop's 5 ms wait on a busy machine: the
    wait must still end (CPython 3.11's SimpleQueue.get(timeout) then waits forever)."""
    code = """if True:
        import signal, time
        from breakage_pi.daemon.controller import Controller
        controller = Controller(None, None, None, None, print, print)
        signal.signal(signal.SIGALRM, lambda signum, frame: time.sleep(0.02))
        for _ in range(200):
            signal.setitimer(signal.ITIMER_REAL, 0.002)
            controller.wait(0.005)
        print("woke every time")
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "woke every time", done.stderr[-600:]
