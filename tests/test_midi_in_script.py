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
