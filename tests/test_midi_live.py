"""Live MIDI out: notes land on the rendered hits, the clock keeps 24 per quarter, the writer never blocks."""

import fcntl
import logging
import os

import mido
import numpy as np
import pytest

from breakage_pi.audio.kit import load_kit
from breakage_pi.audio.player import Player
from breakage_pi.core import Pattern, StepClock
from breakage_pi.core.playstate import PlayState
from breakage_pi.midi import MidiScheduler, RawMidiWriter, midi_velocity
from builders import impulse_kit, onsets

RATE = 48_000
BLOCK = 256


def groove():
    rng = np.random.default_rng(7)
    return Pattern((rng.integers(40, 256, (4, 16)) * (rng.random((4, 16)) < 0.35)).astype(np.uint8))


def play(kit, script, frames):
    """Render with the player and schedule MIDI side by side, applying each (frame, state) at that block's start."""
    player, midi = Player(kit, script[0][1], max_block=BLOCK), MidiScheduler(kit.rate)
    midi.apply(script[0][1], 0)
    pending = list(script[1:])
    pcm, messages = [], []
    while player.frame < frames:
        if pending and pending[0][0] <= player.frame:
            state = pending.pop(0)[1]
            player.set_state(state)
            midi.apply(state, player.frame)
        pcm.append(player.render(BLOCK).copy())
        messages += midi.window(player.frame)
    return np.concatenate(pcm), messages


def test_notes_match_the_rendered_hits_through_tempo_swing_and_stop(tmp_path):
    kit = load_kit(impulse_kit(tmp_path / "kit"))
    pattern = groove()
    script = [(0, PlayState(pattern, 120.0, 0.5)), (30_000, PlayState(pattern, 150.0, 0.66)),
              (70_000, PlayState(pattern, 97.0, 0.55, mutes=(False, True, False, False))),
              (110_000, PlayState(pattern, 97.0, 0.55, playing=False)),
              (120_000, PlayState(pattern, 140.0, 0.6))]
    pcm, messages = play(kit, script, 160_000)
    note_ons = [m for m in messages if m.message.type == "note_on"]
    assert sorted({m.frame for m in note_ons}) == onsets(pcm).tolist()
    assert [m.frame for m in messages] == sorted(m.frame for m in messages)
    assert all(m.message.channel == 9 for m in note_ons)
    assert [m.message.type for m in messages].count("start") == 2
    assert [m.message.type for m in messages].count("stop") == 1
    for note in (36, 38, 46, 42):  # on, off, on, off...: no note hangs, none is retriggered while sounding
        kinds = [m.message.type for m in messages if m.message.type.startswith("note") and m.message.note == note]
        assert kinds[::2] == ["note_on"] * len(kinds[::2]) and kinds[1::2] == ["note_off"] * len(kinds[1::2])


def test_each_hit_becomes_one_gm_note_with_its_velocity():
    pattern = Pattern().with_velocity(0, 0, 255).with_velocity(1, 4, 128).with_velocity(2, 2, 3).with_velocity(3, 3, 60)
    midi = MidiScheduler(RATE)
    midi.apply(PlayState(pattern, 120.0), 0)
    clock = StepClock(120.0, 0.5, RATE)
    notes = [(m.frame, m.message.note, m.message.velocity) for m in midi.window(clock.step_start(16))
             if m.message.type == "note_on"]
    assert notes == [(0, 36, 127), (clock.step_start(2), 46, midi_velocity(3)), (clock.step_start(3), 42, 30),
                     (clock.step_start(4), 38, 64)]


@pytest.mark.parametrize("tempo, swing", [(120.0, 0.5), (97.0, 0.7), (300.0, 0.75)])
def test_clock_is_24_per_quarter_and_its_beats_are_the_steps(tempo, swing):
    midi = MidiScheduler(RATE)
    midi.apply(PlayState(Pattern(), tempo, swing), 1000)
    clock = StepClock(tempo, swing, RATE, origin_sample=1000)
    messages = []
    for stop in range(1000, clock.step_start(64), 333):
        messages += midi.window(stop)
    messages += midi.window(clock.step_start(64) + 1)
    pulses = [m.frame for m in messages if m.message.type == "clock"]
    assert [m.message.type for m in messages[:2]] == ["songpos", "start"] and messages[0].message.pos == 0
    assert len(pulses) == 16 * 24 + 1
    assert pulses[::6 * 4] == [clock.step_start(4 * beat) for beat in range(17)]
    assert pulses[::12] == [clock.step_start(2 * pair) for pair in range(33)]  # swing never moves a pair
    gaps = np.diff(pulses)
    assert gaps.max() - gaps.min() <= 1 and abs(gaps.mean() - RATE * 60 / tempo / 24) < 1


def test_the_clock_follows_a_tempo_change_from_the_next_step():
    midi = MidiScheduler(RATE)
    pattern = Pattern()
    midi.apply(PlayState(pattern, 120.0), 0)
    slow = StepClock(120.0, 0.5, RATE)
    change = slow.step_start(8) - 100
    messages = midi.window(change)
    midi.apply(PlayState(pattern, 240.0), change)
    fast = slow.retimed(240.0, 0.5, 8)
    messages += midi.window(fast.step_start(16) + 1)
    pulses = [m.frame for m in messages if m.message.type == "clock"]
    assert pulses[::6] == [slow.step_start(step) for step in range(8)] + [fast.step_start(s) for s in range(8, 17)]
    assert np.diff(pulses[48:]).max() <= round(RATE * 60 / 240 / 24) + 1


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "midiC1D0"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    fcntl.fcntl(reader, 1031, 4096)  # F_SETPIPE_SZ: a small host buffer fills fast
    yield path, reader
    os.close(reader)


def read_all(fd):
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return data
        if not chunk:
            return data
        data += chunk


def test_writer_sends_bytes_that_decode_to_the_messages(fifo):
    path, reader = fifo
    messages = [mido.Message("songpos", pos=0), mido.Message("start"), mido.Message("clock"),
                mido.Message("note_on", channel=9, note=36, velocity=127), mido.Message("stop")]
    writer = RawMidiWriter(path)
    writer.send(messages)
    assert mido.parse_all(read_all(reader)) == messages
    assert (writer.sent, writer.dropped) == (5, 0)


def test_a_full_buffer_drops_whole_messages_counts_and_logs_rarely(fifo, caplog):
    path, reader = fifo
    now = [0.0]
    writer = RawMidiWriter(path, log_interval_s=1.0, clock=lambda: now[0])
    note = mido.Message("note_on", channel=9, note=38, velocity=100)
    with caplog.at_level(logging.WARNING, logger="breakage_pi.midi.rawmidi"):
        for _ in range(20):
            writer.send([note] * 500)  # 30 000 bytes into a 4 KiB pipe nobody reads: must not block
        now[0] = 1.5
        writer.send([note] * 10)
    assert writer.dropped > 0 and writer.sent + writer.dropped == 10_010
    assert len(caplog.records) == 2 and "dropped" in caplog.records[0].getMessage()
    received = mido.parse_all(read_all(reader))
    assert received == [note] * writer.sent  # whole messages only: the stream stays parseable
    writer.send([note])
    assert mido.parse_all(read_all(reader)) == [note]


def test_a_missing_node_is_retried_later_without_raising(tmp_path):
    now = [0.0]
    writer = RawMidiWriter(tmp_path / "absent", clock=lambda: now[0])
    writer.send([mido.Message("clock")])
    assert writer.dropped == 1
    path = tmp_path / "absent"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        writer.send([mido.Message("clock")])  # still inside the back-off
        now[0] = 2.0
        writer.send([mido.Message("clock")])
        assert mido.parse_all(read_all(reader)) == [mido.Message("clock")]
    finally:
        os.close(reader)


def test_clock_follower_finds_the_tempo_and_the_transport():
    from breakage_pi.midi import ClockFollower

    follower = ClockFollower()
    rng = np.random.default_rng(3)
    assert follower.feed(mido.Message("start"), 0.0) == "start"
    assert follower.feed(mido.Message("start"), 0.0) is None
    interval = 60 / 133 / 24
    times = np.arange(200) * interval + rng.uniform(-0.001, 0.001, 200)  # 1 ms of USB jitter per pulse
    seen = []
    for t in times:
        follower.feed(mido.Message("clock"), float(t))
        seen.append(follower.tempo)
    assert seen[46] is None and follower.tempo == pytest.approx(133, abs=0.2)
    assert len({tempo for tempo in seen[48:]}) == 1  # steady: one tempo, no retiming on every pulse
    slower = float(times[-1]) + np.arange(1, 60) * 60 / 90 / 24  # the DAW slows to 90 BPM
    for t in slower:
        follower.feed(mido.Message("clock"), float(t))
    assert follower.tempo == pytest.approx(90, abs=0.5)  # within the hysteresis
    times = slower
    follower.check(float(times[-1]) + 0.4)
    assert follower.tempo is not None
    follower.check(float(times[-1]) + 0.6)
    assert follower.tempo is None
    assert follower.feed(mido.Message("stop"), 9.0) == "stop" and not follower.playing


def test_raw_midi_reader_decodes_what_arrives_without_waiting(fifo):
    from breakage_pi.midi import RawMidiReader

    path, reader_fd = fifo
    writer = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    try:
        reader = RawMidiReader(path)
        assert reader.poll() == []
        os.write(writer, bytes([0xFA, 0xF8, 0x99, 36]))  # start, clock, half a note-on
        assert reader.poll() == [mido.Message("start"), mido.Message("clock")]
        os.write(writer, bytes([100]))
        assert reader.poll() == [mido.Message("note_on", channel=9, note=36, velocity=100)]
        reader.close()
    finally:
        os.close(writer)


def test_the_gadget_midi_node_is_found_by_its_card_id(tmp_path):
    from breakage_pi.midi import gadget_midi_node

    assert gadget_midi_node(proc_asound=str(tmp_path)) is None
    (tmp_path / "BreakagePi").symlink_to("card2")
    assert gadget_midi_node(proc_asound=str(tmp_path)) == "/dev/snd/midiC2D0"
