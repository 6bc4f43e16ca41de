"""The real-time engine through real libasound (ALSA's file plugin), proven from the captured WAV."""

import numpy as np
import pytest
from builders import ScriptedControl, impulse_kit, onsets, read_wav, write_kit

from breakage_pi.audio.engine import STOP, Engine
from breakage_pi.audio.kit import load_kit
from breakage_pi.audio.player import Player
from breakage_pi.core.playstate import PlayState
from breakage_pi.audio.sinks import AlsaSink, SinkLost
from breakage_pi.audio.status import StatusBoard
from breakage_pi.core import Pattern

KICKS = Pattern().with_channel(0, [200] * 16)


def capture(tmp_path, kit, state, frames, script=(), period=64):
    """Run the engine into an ALSA file PCM for ``frames`` frames; returns the WAV's frames and the engine."""
    path = tmp_path / "capture.wav"
    player = Player(kit, state, max_block=1024)
    control = ScriptedControl(player, list(script))
    engine = Engine(player, lambda: AlsaSink(f"file:FILE={path},FORMAT=wav", period=period), control)
    engine.run(frames)
    pcm, rate = read_wav(path)
    assert rate == 48000 and len(pcm) == frames
    return pcm, engine


@pytest.mark.parametrize("period", [64, 100, 256])
def test_onsets_are_exact_whatever_the_period(tmp_path, period):
    pcm, engine = capture(tmp_path, load_kit(impulse_kit(tmp_path / "kit")), PlayState(KICKS, 133.0, 0.6),
                          60_000, period=period)
    per_pair = 48000 * 60 / 133.0 / 2
    expected = [round((k // 2) * per_pair + (k % 2) * 0.6 * per_pair) for k in range(100)]
    assert onsets(pcm).tolist() == [at for at in expected if at < 60_000]
    assert engine.blocks == -(-60_000 // period) and engine.xruns == 0


def test_tempo_change_lands_on_the_next_step_boundary(tmp_path):
    kit = load_kit(impulse_kit(tmp_path / "kit"))
    change_at = 6000 * 5 + 1000            # mid step 5 at 120 BPM
    pcm, _ = capture(tmp_path, kit, PlayState(KICKS, 120.0), 90_000,
                     script=[(change_at, PlayState(KICKS, 60.0))])
    found = onsets(pcm).tolist()
    assert found[:7] == [6000 * k for k in range(7)]        # step 6 keeps its old place ...
    assert found[7:10] == [36000 + 12000 * k for k in (1, 2, 3)]   # ... then 60 BPM steps


def test_edits_and_mutes_take_effect_at_the_first_step_after_the_block(tmp_path):
    kit = load_kit(impulse_kit(tmp_path / "kit"))
    muted = PlayState(KICKS, 120.0, mutes=(True, False, False, False))
    edited = PlayState(KICKS.with_velocity(0, 9, 0), 120.0)
    script = [(3 * 6000 + 64, muted), (6 * 6000 - 64, PlayState(KICKS, 120.0)), (8 * 6000 + 640, edited)]
    pcm, engine = capture(tmp_path, kit, PlayState(KICKS, 120.0), 16 * 6000, script=script)
    steps = [at // 6000 for at in onsets(pcm)]
    assert steps == [0, 1, 2, 3, 6, 7, 8, 10, 11, 12, 13, 14, 15]
    assert engine.status.read().state_frame == 8 * 6000 + 640     # the block start the last edit was adopted at
    # the mute arrives in step 3's first block: 3 still sounds; the unmute one block before step 6


def test_stop_and_start_are_click_free(tmp_path):
    hum = np.sin(2 * np.pi * 110 * np.arange(48000) / 48000) * 0.9      # a low tone: any click stands out
    silence = np.zeros(16)
    kit = load_kit(write_kit(tmp_path / "kit", {"kick": silence, "snare": silence, "open_hat": hum,
                                                "closed_hat": silence}))
    ringing = Pattern().with_velocity(2, 0, 255)
    stop_at, start_at = 4000, 30000
    pcm, _ = capture(tmp_path, kit, PlayState(ringing, 120.0), 60_000,
                     script=[(stop_at, PlayState(ringing, 120.0, playing=False)),
                             (start_at, PlayState(ringing, 120.0))])
    left = pcm[:, 0].astype(np.int64)
    smooth = 32767 * 0.9 * 2 * np.pi * 110 / 48000                     # the tone's own largest step
    assert np.abs(left[stop_at - 64: stop_at]).max() > 10000           # loud when stopped ...
    assert not left[stop_at + 64 + 200: start_at].any()                # ... silent within 4 ms of the block
    assert np.abs(np.diff(left)).max() < 1.5 * smooth                  # stop and start: no click
    restart = -(-start_at // 64) * 64                                   # the first block after the command
    assert np.flatnonzero(left[start_at:])[0] + start_at == restart + 1  # step 0 there (the tone starts at sin 0)


class FlakySink:
    """Stands in for a USB DAC that vanishes after ``fail_after`` writes and refuses ``refusals`` reopenings."""

    period, latency = 64, 0.004

    def __init__(self, log, fail_after=None, refusals=0, xrun_every=0):
        self.log, self.fail_after, self.refusals, self.xrun_every = log, fail_after, refusals, xrun_every

    def open(self):
        if self.log["refuse"] > 0:
            self.log["refuse"] -= 1
            raise SinkLost("audio device 'usb': No such device")
        self.log["opens"] += 1

    def write(self, block):
        self.log["writes"] += 1
        if self.fail_after is not None and self.log["writes"] == self.fail_after:
            self.log["refuse"] = self.refusals
            raise SinkLost("audio device 'usb': No such device")
        self.log["frames"].append(block.copy())
        return bool(self.xrun_every) and self.log["writes"] % self.xrun_every == 0

    def close(self):
        self.log["closes"] += 1


def test_a_vanished_device_is_reopened_and_playing_resumes(tmp_path):
    log = {"writes": 0, "opens": 0, "closes": 0, "refuse": 0, "frames": []}
    slept = []
    player = Player(load_kit(impulse_kit(tmp_path / "kit")), PlayState(KICKS, 120.0), max_block=64)
    engine = Engine(player, lambda: FlakySink(log, fail_after=50, refusals=6),
                    sleep=slept.append)
    engine.run(64 * 400)
    assert engine.device_lost == 1 and log["opens"] == 2 and log["closes"] == 2
    assert len(slept) == 7 and max(slept) <= 0.5      # back-off capped: back within 0.5 s of its return
    played = np.concatenate(log["frames"])
    assert len(played) == 64 * 399                      # only the block in flight was lost
    assert player.frame == 64 * 400                     # the state and the clock went on


def test_xruns_are_counted_and_not_fatal(tmp_path):
    log = {"writes": 0, "opens": 0, "closes": 0, "refuse": 0, "frames": []}
    board = StatusBoard()
    engine = Engine(Player(load_kit(), PlayState(KICKS), max_block=64),
                    lambda: FlakySink(log, xrun_every=10), status=board)
    engine.run(64 * 100)
    assert engine.xruns == 10 and board.read().xruns == 10 and engine.blocks == 100


def test_stop_fades_out_ends_the_run_and_status_tells(tmp_path):
    log = {"writes": 0, "opens": 0, "closes": 0, "refuse": 0, "frames": []}
    board = StatusBoard()
    player = Player(load_kit(), PlayState(KICKS), max_block=64)
    readings = []

    class Reading(ScriptedControl):
        def take(self):
            readings.append(board.read())
            return super().take()

    engine = Engine(player, lambda: FlakySink(log), Reading(player, [(64 * 200, STOP)]), status=board)
    engine.run()
    assert readings[-1].running and readings[-1].latency_frames == 192 and readings[-1].period == 64
    assert [r.step for r in readings[:200]] == [max((64 * j - 1) // 6000, 0) % 16 for j in range(200)]
    status = board.read()
    fade = 3                                          # 4 ms at 48 kHz in 64-frame blocks, then the device closes
    assert status.frame == 64 * (200 + fade) and status.blocks == 200 + fade and not status.running
    played = np.concatenate(log["frames"])
    assert np.abs(played[-64 * fade - 64:-64 * fade]).max() > 1000 and not played[-1].any()   # loud, then faded
    assert log["closes"] == 1


def test_a_missing_alsa_device_is_reported_as_lost():
    with pytest.raises(SinkLost, match="hw:CARD=NoSuchCard"):
        AlsaSink("hw:CARD=NoSuchCard,DEV=0").open()


def test_a_queued_pattern_starts_exactly_at_the_next_bar_line(tmp_path):
    kit = load_kit(impulse_kit(tmp_path / "kit"))
    snares = Pattern().with_channel(0, [0, 200] + [0] * 14)       # one hit, on step 1 of each bar
    bar = 16 * 6000
    queued = PlayState(KICKS, 120.0, queued=snares, queue_token=1)
    # queued mid-bar 0; later snapshots (an edit) still carry the token: the switch happens once
    script = [(5 * 6000 + 7, queued), (bar + 20_000, PlayState(KICKS, 120.0, queued=snares, queue_token=1))]
    pcm, engine = capture(tmp_path, kit, PlayState(KICKS, 120.0), 3 * bar, script=script)
    found = onsets(pcm).tolist()
    assert found[:16] == [6000 * k for k in range(16)]             # bar 0 as it was
    assert found[16:] == [bar + 6000, 2 * bar + 6000]               # the new pattern from the bar line on
    assert engine.player.switched == 1 and engine.status.read().switched == 1     # told to the control side


def test_the_state_slot_carries_a_queued_pattern_and_its_token():
    from breakage_pi.audio.handover import StateSlot

    slot = StateSlot()
    queued = Pattern().with_velocity(1, 4, 180)
    slot.send(PlayState(KICKS, 120.0, queued=queued, queue_token=7))
    taken = slot.take()
    assert taken.pattern == KICKS and taken.queued == queued and taken.queue_token == 7
    slot.send(PlayState(KICKS, 120.0))
    assert slot.take().queued is None
