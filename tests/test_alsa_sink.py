"""The ALSA sink against real libasound (file plugin) and a stand-in PCM for what a card does."""

import errno
import subprocess
import sys

import numpy as np
import pytest
from builders import read_wav

from breakage_pi.audio.engine import Engine
from breakage_pi.audio.kit import load_kit
from breakage_pi.audio.player import Player
from breakage_pi.core.playstate import PlayState
from breakage_pi.audio.render import render_pattern
from breakage_pi.audio.sinks import AlsaSink, _refusal
from breakage_pi.core import Bank, Pattern, Slot
from breakage_pi.store import save_bank

GOOD = {"format_name": "S16_LE", "channels": 2, "rate": 48000, "period_size": 64, "buffer_size": 192}


@pytest.mark.parametrize("change,words", [
    ({"format_name": "FLOAT_LE"}, "opened as FLOAT_LE"),
    ({"channels": 1}, "1 channels"),
    ({"rate": 44100}, "runs at 44100 Hz"),
    ({"period_size": 4096}, "period of 4096"),
])
def test_a_device_opened_in_another_format_is_refused(change, words):
    assert _refusal(GOOD, 48000, 1024) == ""
    assert words in _refusal({**GOOD, **change}, 48000, 1024)


def test_the_granted_period_and_latency_are_reported(tmp_path):
    sink = AlsaSink(f"file:FILE={tmp_path / 'x.wav'},FORMAT=wav", period=128, periods=2)
    sink.open()
    assert sink.period == 128 and sink.latency == pytest.approx(256 / 48000)
    sink.close()


class UnderrunPCM:
    """Answers the first write with -EPIPE, as pyalsaaudio does after an underrun (PCM already re-prepared)."""

    def __init__(self):
        self.writes = []

    def write(self, block):
        self.writes.append(len(block))
        return -errno.EPIPE if len(self.writes) == 1 else len(block)


def test_an_underrun_is_reported_and_the_block_written_again():
    sink = AlsaSink("hw:CARD=Test,DEV=0")
    sink._pcm = UnderrunPCM()
    block = np.zeros((64, 2), np.int16)
    assert sink.write(block) is True and sink.write(block) is False
    assert sink._pcm.writes == [64, 64, 64]


def test_a_device_that_appears_later_is_opened_and_played(tmp_path):
    """Real libasound: the file plugin opens, but every write fails until its folder exists, like a
    half-connected DAC; the engine must back off (never spin) and play once it works."""
    folder = tmp_path / "usb"
    attempts = []

    def plug_in_after_three_tries(seconds):
        attempts.append(seconds)
        if len(attempts) == 3:
            folder.mkdir()

    kicks = Pattern().with_channel(0, [200] * 16)
    player = Player(load_kit(), PlayState(kicks), max_block=64)
    engine = Engine(player, lambda: AlsaSink(f"file:FILE={folder / 'out.wav'},FORMAT=wav"),
                    sleep=plug_in_after_three_tries)
    engine.run(48000)
    pcm, _ = read_wav(folder / "out.wav")
    assert len(attempts) == 3 and engine.device_lost == 3        # backed off after each failure
    lost = 48000 - len(pcm)
    assert 0 < lost <= 3 * 4 * 64 and lost % 64 == 0   # each loss: the 3 buffered periods and the failed one
    timeline = render_pattern(load_kit(), kicks, 1, 120.0, block=64)[:48000]
    assert np.array_equal(pcm, timeline[lost:])                     # then it played on, in time


@pytest.mark.parametrize("device", ["hw:CARD=NoSuchCard,DEV=0", "no_such_pcm"])
def test_a_missing_device_prints_the_projects_line_once_and_no_alsa_lib_lines(tmp_path, device):
    """libasound prints its own 'ALSA lib confmisc.c:…' lines on stderr unless its error handler is replaced."""
    bank = tmp_path / "b.json"
    save_bank(bank, Bank(slots=(Slot("a", False, Pattern().with_velocity(0, 0, 200)),)))
    result = subprocess.run([sys.executable, "-m", "breakage_pi.cli", "play", str(bank), "--slot", "1",
                             "--device", device, "--seconds", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "ALSA lib" not in result.stderr
    assert result.stderr.splitlines() == [result.stderr.splitlines()[0]]
    assert result.stderr.startswith(f"breakage-pi: error: audio device '{device}': ")


LOGGED = """
import logging, sys
from breakage_pi.audio.sinks import AlsaSink, SinkLost
logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(name)s %(message)s")
try:
    AlsaSink("no_such_pcm").open()
except SinkLost as error:
    print("lost:", error)
"""


def test_libasound_errors_go_to_the_log_at_debug_level():
    result = subprocess.run([sys.executable, "-c", LOGGED], capture_output=True, text=True, timeout=120)
    assert result.stderr == ""
    assert "breakage_pi.audio.alsa_log libasound pcm.c:" in result.stdout
    assert "(snd_pcm_open_noupdate) Unknown PCM" in result.stdout
    assert "lost: audio device 'no_such_pcm'" in result.stdout
