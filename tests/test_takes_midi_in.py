"""A take of a session played in over MIDI: its drum notes are ``note`` lines of its performance at their audio
time, it keeps the MIDI in settings it ran with, and it replays byte for byte from its own files whatever the
replaying machine's ``[midi]`` says; what the notes played is in its MIDI file and counted as the player's."""

from __future__ import annotations

import math
from pathlib import Path

import mido
import numpy as np
import pytest

from builders import read_wav
from breakage_pi.core import Pattern
from breakage_pi.core.script import ScriptEvent
from breakage_pi.daemon.take_folder import read_take
from breakage_pi.daemon.take_stats import take_stats
from breakage_pi.midi.gm import CHANNEL_NOTES, velocity_from_midi
from breakage_pi.store import load_bank
from test_daemon import BAR, STEP, bank_of, data_dir, expected_level
from test_takes import TAKE_PAD, cli, record_take

RATE, PERIOD = 48_000, 64
ORIGIN = math.ceil(0.150 * RATE / PERIOD) * PERIOD      # the take's first frame: the block of the take pad's press
NOTES_IN = [(2600, 36, 100), (3300, 38, 90)]
"""(ms, note, velocity) of the drum notes on channel 10: a kick and a snare played in, in PERFORM."""

SESSION = TAKE_PAD.format(t=100, t2=150, t3=200, t4=250) + """
400 button play down
450 button play up
2000 button mode down
2050 button mode up
2600 note 36 100
2900 note 36 100 1
3300 note 38 90 10
3400 note 61 127
""" + TAKE_PAD.format(t=5400, t2=5450, t3=5500, t4=5550)
"""PLAY, PERFORM, then notes: a kick and a snare on the drum channel; a kick on channel 1 and a note outside
the drum map, which MIDI in does not take (so no take records them)."""


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> tuple[Path, Path]:
    """A scripted session played in over MIDI with ``[midi] input = "record"``: (its data dir, the take)."""
    tmp_path = tmp_path_factory.mktemp("take-notes")
    pattern = Pattern().with_velocity(0, 0, 220).with_velocity(1, 4, 180).with_velocity(0, 8, 120)
    root = data_dir(tmp_path, bank_of(pattern, pattern))
    take, done = record_take(root, f'[audio]\nperiod = {PERIOD}\n[midi]\nout = "none"\ninput = "record"\n'
                                   'channel = 10\n[sync]\nport = "none"\n', SESSION, 6.5)
    assert "stopped from the grid" in done.stderr
    return root, take


def take_ms(ms: float) -> float:
    """The time a take writes for an action at session ``ms``: the block it was taken in, from the take's start,
    in whole microseconds rounded down (so the replay takes it in the same block)."""
    block = math.ceil(ms * RATE / 1000 / PERIOD) * PERIOD
    return (block - ORIGIN) * 1_000_000 // RATE / 1000


def test_the_notes_taken_are_note_lines_at_their_audio_time_with_the_settings_they_ran_with(session) -> None:
    _, take = session
    recorded = read_take(take)
    assert [event for event in recorded.script if event.kind == "note"] == [
        ScriptEvent(take_ms(ms), "note", note=note, velocity=velocity, channel=10) for ms, note, velocity in NOTES_IN]
    assert recorded.info["midi_in"] == {"input": "record", "channel": 10}
    assert recorded.info["replays_exactly"]
    assert "note 36 100 10\n" in (take / "performance.txt").read_text()


@pytest.mark.parametrize("elsewhere", ['input = "off"\nchannel = 3', 'input = "play"'])
def test_a_take_with_notes_replays_byte_for_byte_whatever_the_replaying_config_says(session, tmp_path,
                                                                                     elsewhere) -> None:
    """The replaying machine ignores MIDI in, listens on another channel or only plays the notes: the take's own
    settings rule, so its notes are heard and written again, and the written kick plays on in the bars after it."""
    root, take = session
    recorded = (take / "take.wav").read_bytes()
    saved = load_bank(root / "bank.json").slots[0].pattern
    (column,) = [c for c in range(16) if saved.velocity(0, c) and c not in (0, 8)]     # the note's kick, written
    assert saved.velocity(0, column) == velocity_from_midi(100) and saved.velocity(1, 4) == 180
    written = [s for s in range(16) if saved.velocity(1, s) and s != 4]
    pcm, _ = read_wav(take / "take.wav")
    left = pcm[:, 0].astype(np.int64)
    start = int(np.flatnonzero(left)[0])                # the first bar's first kick: PLAY
    assert left[start + 2 * BAR + column * STEP] == expected_level(velocity_from_midi(100))     # after the note
    assert not left[start + column * STEP]                                                       # before it
    for step in written:
        assert left[start + 2 * BAR + step * STEP + 1] == expected_level(velocity_from_midi(90))
    config = tmp_path / "elsewhere.toml"
    config.write_text(f'[midi]\n{elsewhere}\n')
    replay = tmp_path / "replay.wav"
    cli("run", "--sim", "--headless", "--take", str(take), "--data", str(root), "--config", str(config),
        "--device", f"wav:{replay}")
    assert replay.read_bytes() == recorded


def test_the_notes_played_in_are_in_the_takes_midi_and_counted_as_the_players_hits(session) -> None:
    _, take = session
    pcm, _ = read_wav(take / "take.wav")
    left = pcm[:, 0].astype(np.int64)
    notes, seconds = [], 0.0
    for message in mido.MidiFile(take / "take.mid"):
        seconds += message.time
        if message.type == "note_on" and message.velocity:
            notes.append((round(seconds * RATE), CHANNEL_NOTES.index(message.note), message.velocity))
    assert len(notes) == np.count_nonzero(left)             # the offset kit: one frame a hit
    for ms, note, velocity in NOTES_IN:                     # each note heard at once, from its block, off the grid
        at = round(take_ms(ms) * RATE / 1000)
        channel = CHANNEL_NOTES.index(note)
        assert left[at + channel] == expected_level(velocity_from_midi(velocity))
        near = [n for n in notes if abs(n[0] - at) <= 13 and n[1] == channel]      # a tick is 25 frames
        assert [n[2] for n in near] == [velocity]
    stats = take_stats(take)
    info = stats.info
    assert stats.notes_in == 2 and stats.actions - stats.notes_in == 10
    assert info["hits"]["net"] + info["hits"]["player"] == len(notes)
    for channel in (0, 1):                                  # the player's rows, the notes' hits among them
        assert info["hits"]["player_by_channel"][channel] == sum(n[1] == channel for n in notes)
        assert info["hits"]["net_by_channel"][channel] == 0
    lines = "\n".join(stats.lines())
    assert "MIDI in      2 drum note(s) played in on channel 10 (input = record" in lines
    assert "actions      10 pad, button and knob actions" in lines


@pytest.mark.parametrize("midi_in, field", [
    ({"input": "loud", "channel": 10}, "midi_in.input"), ({"input": "play", "channel": 17}, "midi_in.channel"),
    ({"input": "play"}, "midi_in.channel"), ("record", "midi_in"),
])
def test_a_take_with_bad_midi_in_settings_names_the_field(session, tmp_path, midi_in, field) -> None:
    import json
    import shutil

    from breakage_pi.daemon.take_folder import TakeError

    _, take = session
    copy = tmp_path / "take"
    shutil.copytree(take, copy)
    info = json.loads((copy / "take.json").read_text())
    (copy / "take.json").write_text(json.dumps({**info, "midi_in": midi_in}))
    with pytest.raises(TakeError, match=field.replace(".", r"\.")):
        read_take(copy)


def test_a_live_take_records_the_notes_midi_in_took(tmp_path) -> None:
    """The live daemon (the engine in its own process), a take from the first PLAY: a kick sent into the MIDI in
    FIFO once MIDI out says Start is a ``note`` line of the take, with the settings it was taken with."""
    import os

    from breakage_pi.cli.config_file import load_config
    from breakage_pi.daemon import RunOptions, run_live
    from test_midi_in_script import NoteHands

    root = data_dir(tmp_path, bank_of(Pattern()), mode="perform")
    notes_in, midi_out = tmp_path / "notes-in", tmp_path / "midi-out"
    os.mkfifo(notes_in)
    midi_out.touch()
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[sync]\nport = "none"\n\n[takes]\nauto = true\n\n'
                           f'[midi]\nout = "{midi_out}"\nnotes_in = "{notes_in}"\ninput = "play"\n')
    hands = []
    options = RunOptions(config=load_config(config_file), data_dir=root, sim=True, device="none", pace=True,
                         ui=lambda rig, describe, quit: hands.append(NoteHands(rig, quit, notes_in, midi_out))
                         or hands[0])
    assert run_live(options) == 0
    (take,) = (root / "takes").iterdir()
    recorded = read_take(take)
    (note,) = [event for event in recorded.script if event.kind == "note"]
    assert (note.note, note.velocity, note.channel) == (36, 100, 10)
    play = [event for event in recorded.script if event.kind == "button" and event.name == "play" and event.down]
    assert 0 <= play[0].time_ms < note.time_ms < recorded.info["frames"] / RATE * 1000
    assert recorded.info["midi_in"] == {"input": "play", "channel": 10}
    assert take_stats(take).notes_in == 1
