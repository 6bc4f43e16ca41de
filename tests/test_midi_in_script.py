"""Scripted MIDI notes in: the script line, and a headless session whose notes go in over a FIFO, are heard
within a block of arriving, land on the nearest step at the right velocity, and the net's hats answer on
MIDI out."""

import pytest

from breakage_pi.core.script import ScriptError, ScriptEvent, parse_script


def test_a_note_line_parses_with_the_drum_channel_by_default():
    assert parse_script("10 note 36 100\n20 note 40 1 3\n30 note 127 0 16") == [
        ScriptEvent(10.0, "note", note=36, velocity=100, channel=10),
        ScriptEvent(20.0, "note", note=40, velocity=1, channel=3),
        ScriptEvent(30.0, "note", note=127, velocity=0, channel=16)]


@pytest.mark.parametrize("line, message", [
    ("5 note 36", "expected 'T note NOTE VELOCITY [CHANNEL]'"),
    ("5 note 128 9", "note must be 0-127"),
    ("5 note 36 128", "velocity must be 0-127"),
    ("5 note 36 9 0", "channel must be 1-16, got '0'"),
    ("5 note 36 9 17", "channel must be 1-16, got '17'"),
    ("5 note 36 9 1 2", "expected 'T note NOTE VELOCITY [CHANNEL]'"),
])
def test_a_malformed_note_line_says_what_is_wrong(line, message):
    with pytest.raises(ScriptError) as caught:
        parse_script(f"0 button play down\n{line}\n", "take.txt")
    assert str(caught.value).startswith("take.txt:2: ") and message in str(caught.value)


# -- a headless session played over MIDI in ---------------------------------------------------------

import mido  # noqa: E402
import numpy as np  # noqa: E402
from test_daemon import BAR, STEP, bank_of, data_dir, hits_in_bar, run  # noqa: E402

from builders import write_kit  # noqa: E402

from breakage_pi.audio.mixer import velocity_gain  # noqa: E402
from breakage_pi.core.pattern import DEFAULT_CHANNEL_NAMES  # noqa: E402

from breakage_pi.core import Pattern  # noqa: E402
from breakage_pi.core.gate import gated  # noqa: E402
from breakage_pi.midi import CHANNEL_NOTES, midi_velocity, velocity_from_midi  # noqa: E402
from breakage_pi.store import load_bank  # noqa: E402

PERIOD = 64
HEIGHT = np.float32(0.5)     # the kit's one frame: every hit stays below the limiter's ceiling, which would
                             # otherwise lower the hits that follow a loud one for its release time


def expected_level(velocity):
    """The one frame a hit of ``velocity`` leaves (the mixer's and the player's own float32 arithmetic)."""
    return int(np.rint(np.float32(HEIGHT * np.float32(velocity_gain(velocity))) * np.float32(32767.0)))


def half_height_offset_kit(folder):
    """test_daemon's offset kit at half height: channel c's sample is one frame at offset c."""
    samples = {}
    for channel, name in enumerate(DEFAULT_CHANNEL_NAMES):
        sample = np.zeros(8, dtype=np.float32)
        sample[channel] = HEIGHT
        samples[name] = sample
    write_kit(folder, samples)

NOTES = """
0 button play down
20 button play up
# 260 ms = frame 12480: 480 frames into step 2, which has played: written there, heard now
260 note 36 127
# 600 ms = frame 28800: 4800 frames into step 4: written into step 5 and heard now, not again at step 5
600 note 38 64
# 1000 ms = frame 48000, step 8's first frame: written there, heard once
1000 note 35 1
# the closed hat is the net's, channel 1 is not the drum channel, 60 is no drum, velocity 0 is a note-off
1500 note 42 100
1600 note 36 100 1
1650 note 60 100
1700 note 40 0
"""


def _midi_out(path):
    parser = mido.Parser()
    parser.feed(path.read_bytes())
    clocks, notes = 0, []
    for message in parser:
        if message.type == "clock":
            clocks += 1
        elif message.type == "note_on":
            notes.append(((clocks - 1) * 1000, CHANNEL_NOTES.index(message.note), message.velocity))
    return notes


ONE_SHOTS = {12480: (12480, 0), 28801: (28800, 1)}
"""The notes heard off the step grid: the frame they leave in the WAV -> (onset, channel)."""


def _wav_hits(pcm):
    """(onset, channel) of every hit, in order: the offset kit leaves one frame at the onset + channel."""
    hits = []
    for at in np.flatnonzero(pcm[:, 0]).tolist():
        if at in ONE_SHOTS:
            hits.append(ONE_SHOTS[at])
        else:
            assert at % STEP < 4, f"sound off the step grid at {at}"
            hits.append((at - at % STEP, at % STEP))
    return sorted(hits)


def test_notes_in_are_heard_within_a_block_land_on_the_nearest_step_and_the_net_answers_on_midi_out(tmp_path):
    root = data_dir(tmp_path, bank_of(Pattern()), mode="perform")
    half_height_offset_kit(root / "kits" / "offsets")
    midi_out = tmp_path / "midi-out"
    midi_out.touch()
    config = tmp_path / "config.toml"
    config.write_text(f'[audio]\nperiod = {PERIOD}\n\n[sync]\nport = "none"\n\n'
                      f'[midi]\nout = "{midi_out}"\ninput = "record"\n')
    pcm, done = run(tmp_path, root, NOTES, 6.0, "--config", str(config))

    saved = load_bank(root / "bank.json").slots[0].pattern
    written = {(c, s): int(saved.velocity(c, s)) for c in (0, 1) for s in range(16) if saved.velocity(c, s)}
    assert written == {(0, 2): 255, (1, 5): velocity_from_midi(64), (0, 8): velocity_from_midi(1)}
    left = pcm[:, 0].astype(np.int64)
    # bar 0: each note heard at the first block start at or after it (the offset kit: channel c at +c)
    assert left[12480] == expected_level(255) and left[28800 + 1] == expected_level(velocity_from_midi(64))
    assert left[48000] == expected_level(2)
    assert not left[12000] and not left[30000 + 1]          # step 2 had played; step 5 swallowed once
    inputs_bar0 = left[:BAR].copy()
    for frame in (12480, 28801, 48000):
        inputs_bar0[frame] = 0
    hats = {STEP * s + c for s in range(16) for c in (2, 3)}
    assert all(at in hats for at in np.flatnonzero(inputs_bar0)), "bar 0 holds only the notes and the net's hats"
    # bar 2: the written steps play at their steps, the net's hats answer the recorded inputs
    from breakage_pi.ml.netbank import NetBank
    from breakage_pi.ml.netfile import read_net

    nets = NetBank([read_net(path) for path in sorted((root / "nets").glob("*.onnx"))])
    expected = saved.velocities.astype(np.int64).copy()
    expected[2:] = gated(nets[1].predict(saved), load_bank(root / "bank.json").gate)
    assert expected[2:].any()
    heights = hits_in_bar(pcm, 2)
    for channel in range(4):
        for column in range(16):
            velocity = int(expected[channel, column])
            if channel == 2 and velocity and expected[3, column]:
                assert 0 < heights[channel, column] < expected_level(velocity)     # choked by the closed hat
            else:
                assert heights[channel, column] == (expected_level(velocity) if velocity else 0), (channel, column)
    # MIDI out: every sound, note by note (timed by the clock pulses before it, 1000 frames apart)
    played, heard = _midi_out(midi_out), _wav_hits(pcm)
    assert len(played) == len(heard) > 40
    for (midi_at, channel, velocity), (onset, wav_channel) in zip(played, heard):
        assert channel == wav_channel and 0 <= onset - midi_at < 1000, (midi_at, channel, onset, wav_channel)
    assert [v for at, c, v in played if (at, c) in ((12000, 0), (28000, 1), (48000, 0))] == [127, 64, 1]
    bar2 = {(round((at - 2 * BAR) / STEP), c) for at, c, _ in played if 2 * BAR <= at < 3 * BAR}
    assert bar2 == {(column, channel) for channel in range(4) for column in range(16) if expected[channel, column]}
    assert "MIDI in" in done.stderr


# -- the live daemon played over a FIFO -----------------------------------------------------------------

class NoteHands:
    """A stand-in for the terminal UI: PLAY, then one kick on MIDI in once MIDI out says Start, then quit once
    MIDI out has echoed the note and played on for a bar (every step a counter, none a sleep)."""

    def __init__(self, rig, quit, notes_in, midi_out):
        self.rig, self.quit, self.notes_in, self.midi_out = rig, quit, notes_in, midi_out
        self.writer = None
        self.parser, self.messages = mido.Parser(), []
        self.pulses_after_echo = None
        self.played = False

    def poll(self, now):
        import os

        if not self.played:
            self.rig.button("play", True)
            self.rig.button("play", False)
            self.played = True
        self.parser.feed(self.midi_out.read_bytes()[sum(len(m.bytes()) for m in self.messages):])
        self.messages += list(self.parser)
        if self.writer is None and any(m.type == "start" for m in self.messages):
            try:
                self.writer = os.open(self.notes_in, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:                          # the reading thread has not opened its end yet
                return []
            os.write(self.writer, bytes(mido.Message("note_on", channel=9, note=36, velocity=100).bytes()))
        echoed = [i for i, m in enumerate(self.messages) if m.type == "note_on" and m.note == 36 and m.velocity == 100]
        if echoed and sum(m.type == "clock" for m in self.messages[echoed[0]:]) >= 24 * 8 + 12:   # 2 bars on
            self.quit()
        return []

    def close(self):
        import os

        if self.writer is not None:
            os.close(self.writer)


@pytest.mark.realtime      # the net's answer to the note reaches MIDI out within a bar of wall-clock time
def test_the_live_daemon_hears_a_note_from_a_fifo_writes_it_and_answers_with_hats_on_midi_out(tmp_path):
    import os

    from breakage_pi.cli.config_file import load_config
    from breakage_pi.daemon import RunOptions, run_live

    root = data_dir(tmp_path, bank_of(Pattern()), mode="perform")
    notes_in, midi_out = tmp_path / "notes-in", tmp_path / "midi-out"
    os.mkfifo(notes_in)
    midi_out.touch()
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[sync]\nport = "none"\n\n[midi]\nout = "{midi_out}"\nnotes_in = "{notes_in}"\n')
    hands = []
    options = RunOptions(config=load_config(config_file), data_dir=root, sim=True, device="none", pace=True,
                         ui=lambda rig, describe, quit: hands.append(NoteHands(rig, quit, notes_in, midi_out))
                         or hands[0])
    assert run_live(options) == 0
    saved = load_bank(root / "bank.json").slots[0].pattern
    assert saved.velocities[0].tolist().count(velocity_from_midi(100)) == 1 and not saved.velocities[1].any()
    # the last whole bar on MIDI out: the kick where it was written, the hats the net answers it with
    steps: dict[int, set[tuple[int, int]]] = {}
    clocks = 0
    for message in hands[0].messages:
        clocks += message.type == "clock"
        if message.type == "note_on":                    # a step's notes follow the clock pulse it starts on
            steps.setdefault((clocks - 1) // 6, set()).add((message.note, message.velocity))
    last_bar = max(steps) // 16 - 1
    from breakage_pi.ml.netbank import NetBank
    from breakage_pi.ml.netfile import read_net

    nets = NetBank([read_net(path) for path in sorted((root / "nets").glob("*.onnx"))])
    expected = saved.velocities.astype(np.int64).copy()
    expected[2:] = gated(nets[1].predict(saved), load_bank(root / "bank.json").gate)
    assert expected[2:].any()
    for column in range(16):
        wanted = {(CHANNEL_NOTES[c], midi_velocity(int(expected[c, column]))) for c in range(4) if expected[c, column]}
        assert steps.get(16 * last_bar + column, set()) == wanted, column


def test_midi_in_reads_each_node_once_and_only_what_the_config_asks_for(tmp_path):
    from breakage_pi.core.settings import MidiConfig
    from breakage_pi.daemon.midi_link import midi_inputs

    clock, notes = str(tmp_path / "clock"), str(tmp_path / "notes")
    where = lambda: (-1, 0, 0)                                  # noqa: E731
    both = midi_inputs(MidiConfig(follow_clock=True, clock_in=clock, notes_in=notes, channel=3), where)
    assert [(r.reader.path, r.follower is not None, r.channel) for r in both] == [(clock, True, None),
                                                                                  (notes, False, 2)]
    assert [r.reader.path for r in midi_inputs(MidiConfig(notes_in=notes, input="off"), where)] == []
    assert [r.reader.path for r in midi_inputs(MidiConfig(notes_in="none"), where)] == []
    (played,) = midi_inputs(MidiConfig(notes_in=notes, input="play"), where)
    assert played.follower is None and played.channel == 9
    for reader in both + [played]:
        reader.close()
