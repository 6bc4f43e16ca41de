"""What a drum note on MIDI in means to the state machine: heard at once, written at the nearest step in
``record``, never written in ``play``, ignored ``off``; only the input rows take notes."""

from dataclasses import replace

import pytest

from breakage_pi.core import Pattern
from breakage_pi.core.errors import FormatError
from breakage_pi.core.instrument import (NOTES_OFF, NOTES_PLAY, PERFORM, Instrument, NoteIn, Play, RunNet,
                                         step)
from breakage_pi.core.instrument.midi_in import landing_step
from breakage_pi.core.playstate import MAX_HITS, Hit
from test_instrument import bank, of, press, run, with_nets

STEP = 6000


def playing(**changes):
    state, _ = run(Instrument(bank()), *press("play"))
    return replace(state, **changes)


def note(channel, velocity, column, into, frames=STEP, at=1.0):
    return NoteIn(channel, velocity, at, step=column, into_step=into, step_frames=frames)


@pytest.mark.parametrize("column, into, frames, landed", [
    (3, 0, STEP, 3), (3, 2999, STEP, 3), (3, 3000, STEP, 4), (3, 5999, STEP, 4), (15, 4000, STEP, 0),
    (1, 2399, 4800, 1), (1, 2400, 4800, 2),     # a short (swung) step: its own middle decides
])
def test_a_note_lands_on_the_nearest_step(column, into, frames, landed):
    assert landing_step(note(0, 9, column, into, frames)) == landed


def test_recording_writes_the_note_at_its_step_and_plays_it_at_once_swallowing_the_coming_step():
    state, effects = step(playing(), note(0, 180, 6, 4000))
    assert state.pattern.velocity(0, 7) == 180 and state.pattern.velocities.sum() == 180
    (play,) = of(effects, Play)
    assert play.state.hits == (Hit(1, 0, 180, swallow=7),) and play.state.pattern.velocity(0, 7) == 180
    state, effects = step(state, note(1, 2, 8, 100))            # early in step 8: written there, nothing to swallow
    assert state.pattern.velocity(1, 8) == 2
    assert of(effects, Play)[0].state.hits == (Hit(1, 0, 180, 7), Hit(2, 1, 2, -1))


def test_a_note_over_a_hit_sets_its_velocity():
    state, _ = step(playing(), note(0, 200, 2, 0))
    state, effects = step(state, note(0, 40, 2, 10))
    assert state.pattern.velocity(0, 2) == 40 and len(of(effects, Play)[0].state.hits) == 2


def test_play_mode_plays_without_writing_and_off_ignores():
    state, effects = step(playing(notes=NOTES_PLAY), note(0, 180, 6, 4000))
    assert not state.pattern.velocities.any()
    assert of(effects, Play)[0].state.hits == (Hit(1, 0, 180),)
    state, effects = step(playing(notes=NOTES_OFF), note(0, 180, 6, 4000))
    assert not state.pattern.velocities.any() and not effects and not state.hits


def test_stopped_a_note_is_heard_and_not_written():
    state, effects = step(Instrument(bank()), NoteIn(1, 99, 0.5))
    assert not state.pattern.velocities.any()
    assert of(effects, Play)[0].state.hits == (Hit(1, 1, 99),) and not of(effects, Play)[0].state.playing


def test_notes_for_the_nets_outputs_are_ignored_and_an_input_change_asks_the_net():
    state = with_nets(replace(playing(), mode=PERFORM))
    state, effects = step(state, note(3, 200, 0, 0))
    assert not effects and not state.hits                 # closed hats are the net's
    state, effects = step(state, note(0, 200, 0, 0))
    (request,) = of(effects, RunNet)
    assert request.pattern.velocity(0, 0) == 200
    edited = replace(playing(), bank=bank(Pattern(), roles=("in", "out", "in", "out")))
    state, effects = step(edited, note(2, 50, 4, 0))      # EDIT follows the bank's roles: open hat is an input
    assert state.pattern.velocity(2, 4) == 50
    assert not step(edited, note(1, 50, 4, 0))[1]


def test_the_snapshot_keeps_only_the_newest_hits():
    state = playing(notes=NOTES_PLAY)
    for index in range(MAX_HITS + 3):
        state, effects = step(state, note(index % 2, 10 + index, 0, 0))
    hits = of(effects, Play)[0].state.hits
    assert [hit.serial for hit in hits] == list(range(4, MAX_HITS + 4)) and state.hit_serial == MAX_HITS + 3


@pytest.mark.parametrize("fields", [dict(channel=4, velocity=9), dict(channel=0, velocity=0),
                                    dict(channel=0, velocity=256), dict(channel=0, velocity=9, step=16)])
def test_a_note_event_refuses_values_out_of_range(fields):
    with pytest.raises(FormatError):
        NoteIn(**fields)
