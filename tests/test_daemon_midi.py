"""Live MIDI out end to end: a headless scripted session writes MIDI to a file named in the config; the byte
stream, decoded with mido, is exactly the hits in the captured WAV, in order, each within one audio block."""

from __future__ import annotations

import math

import mido
import numpy as np
from test_daemon import STEP, data_dir, expected_level, run

from breakage_pi.core import Bank, Pattern, Slot
from breakage_pi.midi import CHANNEL_NOTES, DRUM_CHANNEL, midi_velocity

PERIOD = 64                      # the default config's audio block, frames
FRAMES_PER_PULSE = 1000          # 24 pulses per quarter note at 120 BPM and 48 kHz: 24000 / 24

SCRIPT = """
0 button play down
20 button play up
# a snare on step 3, then step 15 (edits in PERFORM write the input rows)
1300 press 1 2
1340 release 1 2
3100 press 1 14
3140 release 1 14
# queue slot 2 on the SHIFT page: it starts at the next bar line
4300 button shift down
4350 press 0 1
4390 release 0 1
4500 button shift up
"""


def wav_hits(pcm: np.ndarray) -> list[tuple[int, int, int]]:
    """(frame, channel, level) of every hit: the offset kit leaves one frame at step + channel."""
    left = pcm[:, 0].astype(np.int64)
    origin = int(np.flatnonzero(left)[0])          # the first kick: step 0
    hits = []
    for at in range(origin, len(left) - 4, STEP):
        hits += [(at, channel, int(left[at + channel])) for channel in range(4) if left[at + channel]]
    assert len(hits) == np.count_nonzero(left), "sound off the step grid"
    return hits


def midi_hits(data: bytes) -> tuple[list[tuple[int, int, int]], list[mido.Message]]:
    """(frame after Start, channel, MIDI velocity) of every note-on, placed by the clock pulses before it."""
    messages = _parse(data)
    clocks, hits = 0, []
    for message in messages:
        if message.type == "clock":
            clocks += 1
        elif message.type == "note_on":
            assert message.channel == DRUM_CHANNEL
            hits.append(((clocks - 1) * FRAMES_PER_PULSE, CHANNEL_NOTES.index(message.note), message.velocity))
    return hits, messages


def _parse(data: bytes) -> list[mido.Message]:
    parser = mido.Parser()
    parser.feed(data)
    return list(parser)


def test_live_midi_is_exactly_the_hits_in_the_wav_with_24_clocks_a_quarter(tmp_path):
    groove = Pattern().with_channel(0, [220, 0, 0, 90] * 4).with_channel(1, [0, 0, 0, 0, 200, 0, 0, 30] * 2)
    other = Pattern().with_channel(0, [200, 0, 0, 0, 0, 0, 40, 0] * 2)  # below the limiter
    bank = Bank(slots=(Slot("g", True, groove), Slot("o", True, other)), tempo=120.0, swing=0.5, chance=True,
                chance_seed=7)
    root = data_dir(tmp_path, bank, mode="perform")
    midi_file = tmp_path / "midi-out"
    midi_file.touch()                                 # a regular file in place of the gadget's rawmidi node
    config = tmp_path / "config.toml"
    config.write_text(f'[sync]\nport = "none"\n\n[midi]\nout = "{midi_file}"\n')
    pcm, done = run(tmp_path, root, SCRIPT, 8.0, "--config", str(config))
    in_wav = wav_hits(pcm)
    origin = in_wav[0][0]
    played, messages = midi_hits(midi_file.read_bytes())

    assert [m.type for m in messages[:3]] == ["songpos", "start", "clock"] and messages[0].pos == 0
    assert messages[-1].type == "stop"                # the session's end stops the DAW's transport
    assert len(played) == len(in_wav) > 40
    levels: dict[int, set[int]] = {}
    for velocity in range(1, 256):
        levels.setdefault(expected_level(velocity), set()).add(midi_velocity(velocity))
    closed_hats = {at for at, channel, _ in in_wav if channel == 3}
    for (at, channel, level), (midi_at, midi_channel, velocity) in zip(in_wav, played):
        assert midi_channel == channel, (at, channel, midi_at, midi_channel)
        choked = channel == 2 and at in closed_hats      # a closed hat cuts the open hat at once: level lower
        assert choked or velocity in levels.get(level, ()), (at - origin, channel, level, velocity, midi_at)
        assert abs(midi_at - (at - origin)) <= PERIOD, (at - origin, midi_at)
    clocks = sum(m.type == "clock" for m in messages)
    assert clocks == math.ceil((len(pcm) - origin) / FRAMES_PER_PULSE)
    notes_off = sum(m.type == "note_off" for m in messages)
    assert notes_off == len(played)
    assert "MIDI out on" in done.stderr
