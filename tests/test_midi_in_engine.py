"""One-shot hits (notes played in on MIDI): the engine sounds each once at the block that takes it, a
hit recorded into the coming step swallows that step's hit, and MIDI out mirrors exactly what sounds."""

import numpy as np
import pytest

from breakage_pi.audio.handover import StateSlot
from breakage_pi.audio.kit import load_kit
from breakage_pi.audio.player import Player
from breakage_pi.core import Pattern
from breakage_pi.core.errors import FormatError
from breakage_pi.core.playstate import MAX_HITS, Hit, PlayState
from breakage_pi.midi import MidiScheduler
from builders import impulse_kit, onsets
from test_midi_live import play

STEP = 6000                      # frames per step at 120 BPM, 48 kHz
BLOCK = 256


def test_a_hit_sounds_at_the_start_of_the_block_that_takes_it_once_and_midi_out_says_so(tmp_path):
    kit = load_kit(impulse_kit(tmp_path / "kit"))
    empty = PlayState(Pattern())
    hit = PlayState(Pattern(), hits=(Hit(1, 1, 200),))
    later = PlayState(Pattern(), tempo=130.0, hits=(Hit(1, 1, 200), Hit(2, 0, 90)))
    pcm, messages = play(kit, [(0, empty), (1000, hit), (5000, hit), (9000, later)], 20_000)
    # the states apply at the first block start at or after their frame: 1024 and 9216; the repeat plays nothing
    sounded = sorted(set(onsets(pcm).tolist()) - {0, STEP, 2 * STEP, 3 * STEP})
    assert sounded == [1024, 9216]
    note_ons = [(m.frame, m.message.note, m.message.velocity) for m in messages if m.message.type == "note_on"
                and m.frame not in (0, STEP, 2 * STEP, 3 * STEP)]
    assert note_ons == [(1024, 38, 100), (9216, 36, 45)]
    assert sorted({m.frame for m in messages if m.message.type == "note_on"}) == onsets(pcm).tolist()


def test_hits_in_the_first_snapshot_are_history_and_are_not_played(tmp_path):
    kit = load_kit(impulse_kit(tmp_path / "kit"))
    state = PlayState(Pattern(), playing=False, hits=(Hit(1, 0, 255), Hit(2, 1, 255)))
    pcm, messages = play(kit, [(0, state), (2000, state)], 8000)
    assert not pcm.any() and not [m for m in messages if m.message.type == "note_on"]


def test_a_hit_recorded_into_the_coming_step_swallows_that_step_once(tmp_path):
    kit = load_kit(impulse_kit(tmp_path / "kit"))
    kicks = Pattern().with_channel(0, [255] * 16)
    # 2/3 into step 1 a kick arrives, recorded into step 2: heard now, step 2's kick skipped, step 3's plays
    recorded = PlayState(kicks, hits=(Hit(1, 0, 255, swallow=2),))
    # the same in play mode (nothing swallowed): heard now and at step 2
    played = PlayState(kicks, hits=(Hit(1, 0, 255), Hit(2, 0, 255)))
    pcm, messages = play(kit, [(0, PlayState(kicks)), (10_000, recorded)], 4 * STEP - BLOCK)
    assert onsets(pcm).tolist() == [0, STEP, 10_240, 3 * STEP]
    assert sorted({m.frame for m in messages if m.message.type == "note_on"}) == onsets(pcm).tolist()
    pcm, _ = play(kit, [(0, PlayState(kicks)), (10_000, played)], 4 * STEP - BLOCK)
    assert onsets(pcm).tolist() == [0, STEP, 10_240, 2 * STEP, 3 * STEP]


def test_a_swallow_never_reaches_past_one_step(tmp_path):
    """A hit recorded into the step just played (swallow -1) or whose step never comes (stopped) skips nothing."""
    kit = load_kit(impulse_kit(tmp_path / "kit"))
    kicks = Pattern().with_channel(0, [255] * 16)
    pcm, _ = play(kit, [(0, PlayState(kicks)), (6_500, PlayState(kicks, hits=(Hit(1, 0, 255, swallow=1),)))],
                  4 * STEP - BLOCK)
    assert onsets(pcm).tolist() == [0, STEP, 6_656, 2 * STEP, 3 * STEP]


def test_the_handover_slot_carries_the_hits_whole():
    slot = StateSlot()
    hits = tuple(Hit(serial, serial % 4, 2 + serial, serial % 17 - 1) for serial in range(3, 3 + MAX_HITS))
    slot.send(PlayState(Pattern(), hits=hits))
    assert slot.take().hits == hits
    slot.send(PlayState(Pattern()))
    assert slot.take().hits == ()


@pytest.mark.parametrize("hits", [tuple(Hit(n, 0, 9) for n in range(1, MAX_HITS + 2)), (Hit(2, 0, 9), Hit(1, 0, 9))])
def test_a_snapshot_refuses_too_many_or_unordered_hits(hits):
    with pytest.raises(FormatError):
        PlayState(Pattern(), hits=hits)


@pytest.mark.parametrize("fields", [(0, 0, 9), (1, 4, 9), (1, 0, 0), (1, 0, 256), (1, 0, 9, 16)])
def test_a_hit_refuses_values_out_of_range(fields):
    with pytest.raises(FormatError):
        Hit(*fields)


def test_the_player_says_where_the_current_step_began_and_how_long_it_is(tmp_path):
    player = Player(load_kit(impulse_kit(tmp_path / "kit")), PlayState(Pattern(), swing=0.6), max_block=BLOCK)
    assert Player(load_kit(impulse_kit(tmp_path / "k2")), PlayState(Pattern(), playing=False)).current_step_span() \
        == (-1, 0, 0)
    spans = set()
    while player.frame < 3 * STEP:
        player.render(BLOCK)
        spans.add(player.current_step_span())
    assert sorted(spans) == [(0, 0, 7200), (1, 7200, 4800), (2, 12_000, 7200)]
    assert np.isclose(sum(length for _, _, length in spans) / 3, 6400)


def test_drum_notes_and_clock_from_one_fifo_become_events_through_one_parser(tmp_path):
    import os

    import mido

    from breakage_pi.core.instrument import ExternalClock, NoteIn
    from breakage_pi.midi import ClockFollower, MidiInput

    fifo = tmp_path / "midi-in"
    os.mkfifo(fifo)
    where = [(5, 100, STEP)]
    midi_in = MidiInput(str(fifo), ClockFollower(), notes_channel=10, position=lambda: where[0])
    assert midi_in.poll(0.0) == []                            # opens the FIFO's reading end, nothing yet
    writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        stream = [mido.Message("start"), mido.Message("note_on", channel=9, note=36, velocity=127),
                  mido.Message("note_on", channel=9, note=42, velocity=64),       # a hat: the net's, still a drum
                  mido.Message("note_on", channel=0, note=38, velocity=64),       # another channel: ignored
                  mido.Message("note_on", channel=9, note=60, velocity=64),       # not a drum: ignored
                  mido.Message("note_off", channel=9, note=36),
                  mido.Message("note_on", channel=9, note=40, velocity=0)]       # a note-off by another name
        data = b"".join(bytes(m.bytes()) for m in stream)
        os.write(writer, data[:3])                            # a message split across two reads
        first = midi_in.poll(1.0)
        os.write(writer, data[3:])
        where[0] = (6, 10, STEP)
        second = midi_in.poll(1.5)
    finally:
        os.close(writer)
        midi_in.close()
    assert first == [ExternalClock(None, "start", 1.0)]
    assert second == [NoteIn(0, 255, 1.5, 6, 10, STEP), NoteIn(3, 129, 1.5, 6, 10, STEP)]
    assert (midi_in.notes, midi_in.ignored) == (2, 2)


def test_a_listening_reader_wakes_the_loop_and_times_notes_as_they_arrive(tmp_path):
    import os
    import threading

    import mido

    from breakage_pi.core.instrument import NoteIn
    from breakage_pi.midi import MidiInput

    fifo = tmp_path / "midi-in"
    os.mkfifo(fifo)
    woken = threading.Event()
    midi_in = MidiInput(str(fifo), notes_channel=10, position=lambda: (2, 50, STEP), wake=woken.set,
                        clock=lambda: 7.25)
    reader_ready = os.open(fifo, os.O_WRONLY)             # blocks until the listener has opened its end
    try:
        assert midi_in.poll(1.0) == [] and not woken.is_set()
        os.write(reader_ready, bytes(mido.Message("note_on", channel=9, note=38, velocity=127).bytes()))
        assert woken.wait(10)
        assert midi_in.poll(8.0) == [NoteIn(1, 255, 7.25, 2, 50, STEP)]    # timed when it arrived
    finally:
        os.close(reader_ready)
        midi_in.close()
