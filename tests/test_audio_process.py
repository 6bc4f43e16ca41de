"""The audio process end to end: spawned engine, pipe of snapshots, shared status, real libasound."""

import time

import numpy as np
import pytest
from builders import bank_file, impulse_kit, onsets, read_wav

from breakage_pi.core.playstate import PlayState
from breakage_pi.audio.process import AudioProcess, EngineSettings
from breakage_pi.audio.sinks import NullSink, PacedSink
from breakage_pi.cli import main
from breakage_pi.core import FormatError, Pattern

KICKS = Pattern().with_channel(0, [200] * 16)


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


@pytest.mark.timeout(60)
def test_play_reports_a_bad_device_clearly(tmp_path, capsys):
    bank = bank_file(tmp_path / "bank.json", KICKS)
    assert main(["play", str(bank), "--slot", "1", "--device", "hw:CARD=NoSuchCard,DEV=0"]) == 2
    assert "breakage-pi: error: audio device 'hw:CARD=NoSuchCard,DEV=0'" in capsys.readouterr().err


def test_edits_reach_a_running_audio_process(tmp_path):
    out = tmp_path / "live.wav"
    settings = EngineSettings(f"wav:{out}", kit_dir=str(impulse_kit(tmp_path / "kit")), pace=True)
    with AudioProcess(settings, PlayState(KICKS, 240.0)) as audio:
        deadline = time.monotonic() + 20
        while audio.status().frame < 48000 and time.monotonic() < deadline:
            time.sleep(0.01)
        first = audio.status()
        audio.send(PlayState(KICKS, 240.0, mutes=(True, False, False, False)))
        time.sleep(0.3)
        second = audio.status()
    report = audio.report
    assert first.running and second.frame > first.frame and 0 <= second.step < 16
    assert report["blocks"] > 0 and report["frames"] >= second.frame
    pcm, _ = read_wav(out)
    found = onsets(pcm).tolist()
    assert found == [k * 3000 for k in range(len(found))]          # exact steps, then silence
    assert first.frame <= found[-1] + 3000 and found[-1] < len(pcm) - 3000


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
