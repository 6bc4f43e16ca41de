"""Xruns on a device that really keeps time: a dummy JACK server, opened through libasound as ``plug:jack``.

ALSA's file plugin never underruns, so these tests run the engine into JACK's dummy driver, which
consumes a period every 128 frames of real time (``pcm.jack`` ships with libasound2-plugins; the
``plug`` layer turns JACK's FLOAT_LE into the S16_LE the engine writes). The engine is starved on
purpose by a late block (a test hook between render and write), not by SIGSTOP: the JACK client's
thread lives in the engine's process, so stopping the process would stop the device's clock too.
`make test` installs jackd2 and libasound2-plugins.
"""

import os
import shutil
import subprocess
import time

import numpy as np
import pytest
from builders import bank_file, impulse_kit

from breakage_pi.audio.engine import Engine
from breakage_pi.audio.kit import load_kit
from breakage_pi.audio.player import Player
from breakage_pi.audio.render import render_pattern
from breakage_pi.audio.sinks import AlsaSink, SinkLost
from breakage_pi.audio.status import StatusBoard
from breakage_pi.cli import main
from breakage_pi.core import Pattern
from breakage_pi.core.playstate import PlayState
from emulation import patience

KICKS = Pattern().with_channel(0, [200] * 16)
PERIOD = 128
LATE_SECONDS = 0.2                   # far longer than the device's 3 x 128 frames (8 ms) of buffer


@pytest.fixture(scope="module")
def jack_server(tmp_path_factory):
    """A dummy JACK server of this test run's own (its own name, never auto-started by a client)."""
    if shutil.which("jackd") is None:
        pytest.skip("jackd is not installed (`make test` installs jackd2 and libasound2-plugins)")
    name = f"breakage-pi-test-{os.getpid()}"
    saved = {key: os.environ.get(key) for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    os.environ.update(JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1")
    log = tmp_path_factory.mktemp("jack") / "jackd.log"
    with open(log, "w") as output:
        server = subprocess.Popen(["jackd", "--no-realtime", "-n", name, "-d", "dummy", "-r", "48000",
                                   "-p", str(PERIOD)], stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + patience(30)
        while True:                                      # ready when a client can connect
            try:
                sink = AlsaSink("plug:jack", period=PERIOD)
                sink.open()
                sink.close()
                break
            except SinkLost:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the JACK server never came up: " + log.read_text()
                time.sleep(0.05)
        yield name
    finally:
        server.terminate()
        server.wait(patience(10))
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Recording:
    """Wraps a sink: records every block handed to it and counts its openings."""

    def __init__(self, inner, log):
        self.inner, self.log = inner, log

    @property
    def period(self):
        return self.inner.period

    @property
    def latency(self):
        return self.inner.latency

    def open(self):
        self.log["opens"] += 1
        self.inner.open()

    def write(self, block):
        self.log["blocks"].append(block.copy())
        return self.inner.write(block)

    def close(self):
        self.inner.close()


@pytest.mark.timeout(120)
def test_each_underrun_is_one_xrun_the_device_stays_open_and_the_audio_stays_on_the_grid(jack_server, tmp_path):
    kit = load_kit(impulse_kit(tmp_path / "kit"))
    log = {"opens": 0, "blocks": []}
    late_blocks = (60, 200)

    def starve(block):
        if block in late_blocks:
            time.sleep(LATE_SECONDS)                     # a deliberately late block: the device runs dry

    board = StatusBoard()
    blocks = 300
    engine = Engine(Player(kit, PlayState(KICKS), max_block=1024),
                    lambda: Recording(AlsaSink("plug:jack", period=PERIOD, periods=3), log),
                    status=board, late_block=starve)
    engine.run(blocks * PERIOD)
    missed = [int(row[0]) for row in engine.recorded_misses()]
    for late in late_blocks:                             # the late block's write finds the underrun, once:
        assert [block for block in missed if late <= block <= late + 2] == [late]    # and only once
    assert board.read().xruns == engine.xruns == len(missed)
    assert log["opens"] == 1 and engine.device_lost == 0                 # never closed and reopened for an xrun
    played = np.concatenate(log["blocks"])
    timeline = render_pattern(kit, KICKS, 1, 120.0, block=PERIOD)
    assert np.array_equal(played, np.concatenate([timeline, timeline])[:blocks * PERIOD])   # nothing shifted


@pytest.mark.timeout(120)
def test_play_through_jack_in_real_time(jack_server, tmp_path, capsys):
    bank = bank_file(tmp_path / "bank.json", KICKS)
    started = time.monotonic()
    assert main(["play", str(bank), "--slot", "1", "--device", "plug:jack", "--period", str(PERIOD),
                 "--seconds", "1"]) == 0
    assert time.monotonic() - started >= 0.9                # the device, not the engine, kept the time
    assert "blocks 375, xruns" in capsys.readouterr().out
