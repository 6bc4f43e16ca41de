"""The audio process end to end: spawned engine, shared state slot and status board, real libasound.

Nothing here waits on wall time: every wait is for the engine's own counters on the status board
(``wait_for_engine``), with a deadline only to fail instead of hanging.
"""

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from builders import bank_file, impulse_kit, onsets, read_wav, write_kit

from breakage_pi.audio import status
from breakage_pi.audio.process import AudioProcess, EngineMonitor, EngineSettings
from breakage_pi.audio.sinks import NullSink, PacedSink
from breakage_pi.audio.status import StatusBoard
from breakage_pi.cli import main
from breakage_pi.core import FormatError, Pattern
from breakage_pi.core.pattern import DEFAULT_CHANNEL_NAMES
from breakage_pi.core.playstate import PlayState
from emulation import patience

KICKS = Pattern().with_channel(0, [200] * 16)


def wait_for_engine(audio, condition, seconds=30.0, why=""):
    """The first status reading that satisfies ``condition``; fails after ``seconds`` rather than hang."""
    deadline = time.monotonic() + seconds
    while not condition(reading := audio.status()):
        assert time.monotonic() < deadline, why or f"engine never got there: {reading}"
        time.sleep(0.002)
    return reading


@pytest.mark.parametrize("period", [64, 100])
def test_play_equals_render_sample_for_sample(tmp_path, capsys, period):
    bank = bank_file(tmp_path / "bank.json", Pattern([[200, 0, 90, 0] * 4, [0, 0, 0, 0, 220] + [0] * 11,
                                                      [0] * 14 + [150, 0], [80, 120] * 8]), 133.0, 0.6)
    played, rendered = tmp_path / "played.wav", tmp_path / "rendered.wav"
    assert main(["play", str(bank), "--slot", "1", "--device", f"file:FILE={played},FORMAT=wav",
                 "--period", str(period), "--seconds", "1.5"]) == 0
    assert "blocks" in capsys.readouterr().out
    assert main(["render", str(bank), "--slot", "1", "--bars", "1", "--out", str(rendered)]) == 0
    a, _ = read_wav(played)
    b, _ = read_wav(rendered)
    assert len(a) == 72000 and np.array_equal(a, b[:72000])


def test_a_44100_hz_device_plays_at_the_right_tempo_and_pitch(tmp_path, capsys):
    """The kit is resampled to the device's rate and the clock runs at it: step k at round(k * 44100 * 60 / tempo / 4),
    and `render --rate 44100` is what `play` sends, sample for sample."""
    impulse = np.zeros(32, dtype=np.float32)
    impulse[0] = 1.0
    kit = write_kit(tmp_path / "kit", {name: impulse for name in DEFAULT_CHANNEL_NAMES}, rate=44100)
    tone = write_kit(tmp_path / "tone", {name: np.sin(2 * np.pi * 441 * np.arange(48000) / 48000) * 0.5
                                         for name in DEFAULT_CHANNEL_NAMES}, rate=48000)
    bank = bank_file(tmp_path / "bank.json", KICKS, 97.0)
    config = tmp_path / "audio.toml"
    config.write_text("[audio]\nrate = 44100\n")
    played = tmp_path / "played.wav"
    assert main(["play", str(bank), "--slot", "1", "--device", f"file:FILE={played},FORMAT=wav", "--config",
                 str(config), "--kit", str(kit), "--seconds", "2"]) == 0
    pcm, rate = read_wav(played)
    assert rate == 44100 and len(pcm) == 88200
    assert onsets(pcm).tolist() == [at for k in range(16) if (at := round(k * 44100 * 60 / 97 / 4)) < 88200]
    rendered = tmp_path / "rendered.wav"
    assert main(["render", str(bank), "--slot", "1", "--bars", "1", "--kit", str(kit), "--rate", "44100",
                 "--out", str(rendered)]) == 0
    assert np.array_equal(pcm, read_wav(rendered)[0][:88200])
    # pitch: a 441 Hz sample recorded at 48 kHz still sounds at 441 Hz on the 44.1 kHz device
    assert main(["render", str(bank), "--slot", "1", "--bars", "1", "--kit", str(tone), "--rate", "44100",
                 "--out", str(rendered)]) == 0
    left = read_wav(rendered)[0][:4410, 0].astype(float)
    spectrum = np.abs(np.fft.rfft(left))
    assert np.argmax(spectrum) == 44                                   # 44 cycles in 0.1 s = 440-450 Hz bin


@pytest.mark.timeout(60)
def test_play_reports_a_bad_device_clearly(tmp_path, capsys):
    bank = bank_file(tmp_path / "bank.json", KICKS)
    assert main(["play", str(bank), "--slot", "1", "--device", "hw:CARD=NoSuchCard,DEV=0"]) == 2
    assert "breakage-pi: error: audio device 'hw:CARD=NoSuchCard,DEV=0'" in capsys.readouterr().err


@pytest.mark.timeout(60)
def test_play_gives_up_on_a_device_whose_every_write_fails_and_says_so_once(tmp_path, capsys):
    """A file device in a missing folder opens but fails every write: the back-off grows across reopenings,
    the failure is reported once, and play exits non-zero because no audio reached the device."""
    bank = bank_file(tmp_path / "bank.json", KICKS)
    device = f"file:FILE={tmp_path / 'missing' / 'out.wav'},FORMAT=wav"
    assert main(["play", str(bank), "--slot", "1", "--device", device, "--seconds", "60"]) == 2
    err = capsys.readouterr().err
    assert "failed 10 times in a row; no audio reached the device" in err
    assert err.count("breakage-pi") == 1 and "Traceback" not in err


def test_edits_reach_a_running_audio_process(tmp_path):
    out = tmp_path / "live.wav"
    settings = EngineSettings(f"wav:{out}", kit_dir=str(impulse_kit(tmp_path / "kit")), pace=True)
    with AudioProcess(settings, PlayState(KICKS, 240.0)) as audio:
        first = wait_for_engine(audio, lambda s: s.frame >= 24000)
        assert audio.send(PlayState(KICKS, 240.0, mutes=(True, False, False, False)))
        muted = wait_for_engine(audio, lambda s: s.state_serial == audio.serial)
        wait_for_engine(audio, lambda s: s.frame >= muted.frame + 6000)          # two steps that must be silent
    report = audio.report
    assert first.running and first.alive and 0 <= muted.step < 16
    assert report["blocks"] > 0 and report["frames"] >= muted.frame and not report["error"]
    pcm, _ = read_wav(out)
    found = onsets(pcm).tolist()
    assert found == [k * 3000 for k in range(len(found))]           # exact steps, then silence
    assert first.frame - 3000 <= found[-1] < muted.frame


@pytest.mark.realtime                   # the paced engine keeps up while the flood outnumbers its blocks
@pytest.mark.timeout(120)
def test_a_flood_of_edits_costs_the_engine_one_state_a_block_and_the_last_one_plays():
    """The control side sends as fast as it can while the engine plays paced 64-frame blocks: every block is
    rendered, the engine takes at most one state per block, and the last state sent is the one playing.
    (How long a send and a block take under the flood is measured by `breakage-pi bench engine`.)"""
    seconds = 2
    settings = EngineSettings("none", period=64, pace=True, frames=seconds * 48000)
    rng = np.random.default_rng(1)
    patterns = [Pattern(rng.integers(0, 256, (4, 16), dtype=np.uint8)) for _ in range(32)]
    with AudioProcess(settings, PlayState(KICKS)) as audio:
        wait_for_engine(audio, lambda s: s.blocks > 0)
        sent = 0
        while audio.status().frame < (seconds - 0.5) * 48000:
            audio.send(PlayState(patterns[sent % 32], 60.0 + sent % 200))
            sent += 1
        last = PlayState(KICKS, 123.0, 0.6, volume=0.5)
        audio.send(last)
        playing = wait_for_engine(audio, lambda s: s.state_serial == audio.serial)
        report = audio.wait(patience(60))
    assert playing.state_serial == sent + 1
    assert report["blocks"] == seconds * 48000 // 64 and report["frames"] == seconds * 48000
    assert report["states_taken"] <= report["blocks"] < sent
    assert report["final_state"] == (123.0, 0.6, 0.5)


def test_send_never_waits_even_when_the_engine_is_stopped(tmp_path):
    """A pipe would fill and block the sender within a few hundred states; the slot takes any number."""
    with AudioProcess(EngineSettings("none", pace=True), PlayState(KICKS)) as audio:
        wait_for_engine(audio, lambda s: s.blocks > 0)
        os.kill(audio.pid, signal.SIGSTOP)
        try:
            for count in range(20_000):
                audio.send(PlayState(KICKS, 30.0 + count % 270))
        finally:
            os.kill(audio.pid, signal.SIGCONT)
        assert wait_for_engine(audio, lambda s: s.state_serial == 20_000).running


def test_a_stop_signal_fades_out_closes_and_reports(tmp_path):
    out = tmp_path / "out.wav"
    loud = write_kit(tmp_path / "kit", {name: np.full(48000, 0.5, dtype=np.float32)
                                        for name in DEFAULT_CHANNEL_NAMES})
    settings = EngineSettings(f"wav:{out}", kit_dir=str(loud), pace=True)
    audio = AudioProcess(settings, PlayState(KICKS)).start()
    wait_for_engine(audio, lambda s: s.frame >= 4800)
    os.kill(audio.pid, signal.SIGTERM)
    report = audio.wait(patience(30))
    assert report["stopped_by"] == ["SIGTERM"] and not report["error"] and audio.exitcode == 0
    pcm, _ = read_wav(out)
    assert abs(int(pcm[-300, 0])) > 5000 and pcm[-1, 0] == 0            # loud until the stop, then faded out


def test_killing_the_audio_process_is_reported_at_once(caplog):
    audio = AudioProcess(EngineSettings("none", pace=True), PlayState(KICKS)).start()
    wait_for_engine(audio, lambda s: s.blocks > 0)
    os.kill(audio.pid, signal.SIGKILL)
    audio.wait(patience(10))
    reading = audio.status()                                             # bounded: never spins
    assert reading.alive is False and audio.exitcode == -signal.SIGKILL
    assert audio.send(PlayState(KICKS)) is False
    with caplog.at_level(logging.ERROR):
        EngineMonitor(audio).check(0.0)
    assert "the audio process has died (killed by SIGKILL)" in caplog.text


def test_a_board_left_mid_update_reads_as_stale_instead_of_spinning():
    memory = bytearray(8 * status.WORDS)
    board = StatusBoard(memory)
    board.publish(frame=640, blocks=10)
    assert board.read().frame == 640 and not board.read().stale
    words = np.frombuffer(memory, dtype=np.int64)
    words[0] += 1                                                        # the writer died between begin and end
    reading = board.read()
    assert reading.stale and reading.frame == 640


@pytest.mark.timeout(120)
def test_killing_the_control_side_leaves_no_traceback_and_no_process(tmp_path):
    script = tmp_path / "control.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        from breakage_pi.audio.process import AudioProcess, EngineSettings
        from breakage_pi.core import Pattern
        from breakage_pi.core.playstate import PlayState
        if __name__ == "__main__":
            audio = AudioProcess(EngineSettings("none", pace=True), PlayState(Pattern())).start()
            while audio.status().blocks == 0:
                time.sleep(0.002)
            print(audio.pid, flush=True)
            while True:
                audio.send(PlayState(Pattern()))
                time.sleep(0.01)
    """))
    errors = tmp_path / "stderr.txt"
    with open(errors, "w") as stderr:
        control = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=stderr, text=True)
    audio_pid = int(control.stdout.readline())
    family = descendants(control.pid)
    assert audio_pid in family
    control.kill()
    control.wait()
    deadline = time.monotonic() + patience(30)
    while any(alive(pid) for pid in family):
        assert time.monotonic() < deadline, f"left behind: {[pid for pid in family if alive(pid)]}"
        time.sleep(0.01)
    assert errors.read_text() == ""


def descendants(pid):
    children = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as listed:
            children += [int(child) for child in listed.read().split()]
    return children + [grandchild for child in children for grandchild in descendants(child)]


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_paced_sink_blocks_like_a_device_and_reports_late_blocks():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    sink = PacedSink(NullSink(period=64), periods=3, clock=lambda: now[0], sleep=sleep)
    sink.open()
    block = np.zeros((64, 2), np.int16)
    assert [sink.write(block) for _ in range(3)] == [False] * 3 and slept == []     # fills the buffer
    assert sink.write(block) is False and slept == [pytest.approx(64 / 48000)]      # then waits a period
    now[0] += 1.0                                                                  # the writer stalls
    assert sink.write(block) is True                                               # an xrun


@pytest.mark.timeout(60)
def test_play_reports_a_bad_kit_from_the_audio_process(tmp_path, capsys):
    bank = bank_file(tmp_path / "bank.json", KICKS)
    assert main(["play", str(bank), "--slot", "1", "--device", "null", "--kit", str(tmp_path / "nokit"),
                 "--seconds", "0.1"]) == 2
    assert "kit folder not found" in capsys.readouterr().err


def test_a_bad_snapshot_is_refused_on_the_control_side():
    with pytest.raises(FormatError, match="tempo: must be 30-300 BPM, got 20"):
        PlayState(KICKS, 20.0)
    with pytest.raises(FormatError, match="volume"):
        PlayState(KICKS, volume=1.5)
    with pytest.raises(FormatError, match="4 mutes"):
        PlayState(KICKS, mutes=(True,))


class ScriptedAudio:
    """Stands in for an AudioProcess: hands out the given readings one by one."""

    exitcode = None

    def __init__(self, readings):
        self.readings = iter(readings)

    def status(self):
        return next(self.readings)


def test_the_monitor_logs_xruns_at_most_once_a_second_and_a_failing_device_once(caplog):
    from breakage_pi.audio.status import EngineStatus

    readings = [EngineStatus(xruns=1, alive=True), EngineStatus(xruns=5, alive=True),
                EngineStatus(xruns=9, alive=True)]
    readings += [EngineStatus(xruns=9, failing=n, error="audio device 'usb': No such device", alive=True)
                 for n in range(1, 188)]
    readings += [EngineStatus(xruns=9, alive=True)]
    monitor = EngineMonitor(ScriptedAudio(readings))
    with caplog.at_level(logging.WARNING):
        for now in [0.0, 0.5, 1.2] + [2.0 + n / 100 for n in range(188)]:
            monitor.check(now)
    lines = caplog.messages
    assert lines[:2] == ["audio: 1 xrun(s) (underruns), recovered; 1 in all",
                         "audio: 8 xrun(s) (underruns), recovered; 9 in all"]
    assert lines[2:] == ["audio device 'usb': No such device; retrying with back-off",
                         "audio device playing again after 187 failure(s)"]


def test_an_engine_waiting_for_its_device_still_shows_it_is_alive(tmp_path):
    """The daemon's watchdog proof of life: the board moves on every reopening attempt, not only with blocks,
    so an unplugged USB DAC is waited for instead of being taken for a hung engine."""
    settings = EngineSettings(f"file:FILE={tmp_path}/gone/take.wav,FORMAT=wav", wait_for_device=True)
    with AudioProcess(settings, PlayState(KICKS)) as audio:
        first = wait_for_engine(audio, lambda s: s.failing > 0)
        later = wait_for_engine(audio, lambda s: s.failing > first.failing + 1)
        assert later.updated_ns > first.updated_ns and later.alive
