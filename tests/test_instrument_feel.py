"""The NET knob's morph and the player's corrections, through the state machine (issue 20)."""

from dataclasses import replace

import numpy as np
import pytest

from breakage_pi.core import Bank, Pattern, Slot
from breakage_pi.core.bank import Correction, bank_from_data, bank_to_data
from breakage_pi.core.events import ButtonEvent, KnobEvent, PadEvent
from breakage_pi.core.gate import AUDIBLE, gated
from breakage_pi.core.instrument import (PERFORM, CorrectionTally, Instrument, Leds, NetResult, NetsLoaded, Play,
                                         RunNet, StartTraining, Tick, TrainingFinished, step)
from breakage_pi.core.instrument.corrections import LEARN_DELAY_S
from breakage_pi.core.leds import NET_BEDS, NET_COLOURS, render_frame
from breakage_pi.core.morph import morphed
from breakage_pi.core.pages import CORRECTIONS_COLUMN, ROW_SLOTS, ROW_SYSTEM, UNDO_COLUMN

GROOVE = (Pattern().with_channel(0, [200, 0, 0, 0] * 4).with_channel(1, [0, 0, 0, 0, 180, 0, 0, 0] * 2)
          .with_channel(3, [90, 0] * 8))
RNG = np.random.default_rng(7)
NETS = [np.where(np.arange(16) % 3, RNG.uniform(0, 255, (2, 16)), RNG.uniform(0, 20, (2, 16))) for _ in range(3)]
"""Three nets' outputs (rows 2, 3) for the groove's inputs, loose to tight: anything, as a net's may be."""


def run(state, *events):
    effects = []
    for event in events:
        state, produced = step(state, event)
        effects.extend(produced)
    return state, effects


def of(effects, kind):
    return [effect for effect in effects if isinstance(effect, kind)]


def nets_answer(effects):
    """What the daemon's nets answer: the three nets' outputs blended at each request's position."""
    return [NetResult(request, morphed(NETS, request.position)) for request in of(effects, RunNet)]


def performing(**bank_changes):
    bank = Bank(slots=(Slot("groove", True, GROOVE),), **bank_changes)
    state, effects = run(Instrument(bank), NetsLoaded(("loose", "medium", "tight"), ("in", "in", "out", "out")),
                         ButtonEvent("mode", "pressed", 0.0))
    state, _ = run(state, *nets_answer(effects), Tick(0.01))
    assert state.mode == PERFORM and state.net_out
    return state


def turn_net(state, value, at):
    """The NET pot at ``value``; the nets answer the request it makes."""
    state, effects = run(state, KnobEvent("net", at, value=value))
    state, more = run(state, *nets_answer(effects))
    return state, effects + more


def played_hats(state):
    return state.played(state.slot)[0].velocities[2:].astype(int)


# -- the morph -------------------------------------------------------------------------------------

@pytest.mark.parametrize("knee", [0, 32])
def test_the_net_knob_plays_each_net_exactly_at_its_detent(knee):
    state = performing(knee=knee, gate=60)
    for index, value in enumerate((0.0, 0.5, 1.0)):
        state, effects = turn_net(state, value, 1.0 + index)
        assert state.position == index / 2 and state.net == index
        assert (played_hats(state) == gated(NETS[index], 60, knee=knee)).all()
        assert (of(effects, Play)[-1].state.pattern.velocities[2:] == gated(NETS[index], 60, knee=knee)).all()


def test_a_hand_near_a_detent_still_gets_that_net():
    state = performing()
    state, _ = turn_net(state, 0.47, 1.0)
    assert state.position == 0.5 and (played_hats(state) == gated(NETS[1], 48)).all()


def test_the_morph_is_continuous_between_the_detents_through_the_gate():
    """Sweeping the knob in 1/200 steps: no played velocity moves more than a few units per step (the
    knee's steepest slope is 3 units per unit of output; a hit fades in from the audibility floor), and the
    blend ends at the tight net."""
    state, _ = turn_net(performing(), 0.0, 0.5)
    previous = played_hats(state)
    largest = 0
    for index, value in enumerate(np.linspace(0.0, 1.0, 201)):
        state, _ = turn_net(state, float(value), 1.0 + index / 100)
        now = played_hats(state)
        largest = max(largest, int(np.abs(now - previous).max()))
        previous = now
    slope = max(float(np.abs(a - b).max()) for a, b in zip(NETS, NETS[1:])) / 80   # output change per step
    assert largest <= AUDIBLE + 3 * slope + 1
    assert state.position == 1.0 and (previous == gated(NETS[2], 48)).all()


def test_between_the_detents_the_request_carries_the_position_and_the_leds_mix_the_nets_colours():
    state = performing()
    state, effects = turn_net(state, 0.75, 1.0)
    assert of(effects, RunNet)[-1].position == pytest.approx(0.75) and state.net_blend == "50% medium + 50% tight"
    frame = render_frame(state)
    bed = np.rint((NET_BEDS[1] + NET_BEDS[2]) / 2)
    silent = [column for column in range(16) if played_hats(state)[1, column] == 0 and column % 4]
    assert silent and all((frame[3, column] == bed).all() for column in silent)     # off the beat markers
    state, _ = run(state, ButtonEvent("shift", "pressed", 1.1), Tick(1.2))
    pads = state.frame[ROW_SYSTEM, :3].astype(float)
    assert pads[1].sum() == pytest.approx(pads[2].sum() * NET_COLOURS[1].sum() / NET_COLOURS[2].sum(), rel=0.02)
    assert pads[0].sum() < pads[1].sum() / 3                    # loose has no share: dim


def test_the_net_pads_on_the_shift_page_jump_to_a_detent():
    state = performing()
    state, effects = run(state, ButtonEvent("shift", "pressed", 1.0), PadEvent(ROW_SYSTEM, 2, True, 1.1))
    assert state.position == 1.0 and state.net_label == "tight"


# -- corrections -----------------------------------------------------------------------------------

def correct(state, row, column, at):
    state, effects = run(state, PadEvent(row, column, True, at), PadEvent(row, column, False, at + 0.05))
    state, more = run(state, *nets_answer(effects))
    return state, effects + more


def test_a_press_on_the_nets_row_turns_a_silent_step_on_and_a_played_one_off():
    state = performing()
    hats = played_hats(state)
    silent = int(np.argwhere(hats[1] == 0)[0][0])
    playing = int(np.argwhere(hats[1] > 0)[0][0])
    state, _ = correct(state, 3, silent, 1.0)
    state, _ = correct(state, 3, playing, 1.2)
    corrected = played_hats(state)
    assert corrected[1, silent] == state.default_velocity and corrected[1, playing] == 0
    changed = np.argwhere(corrected != hats)
    assert sorted(map(tuple, changed)) == sorted([(1, silent), (1, playing)])    # nothing else moved
    assert len(state.bank.corrections) == 1                      # the same inputs: one corrected bar
    assert state.tally == CorrectionTally(made=2)                # two made, the second amending the first
    example = state.bank.corrections[0].pattern.velocities
    assert (example[:2] == GROOVE.velocities[:2]).all() and (example[2:] == corrected).all()
    assert state.pattern == GROOVE                               # the slot as written is untouched


def test_corrections_retrain_in_the_background_after_two_seconds_and_play_until_learnt():
    state = performing()
    state, _ = correct(state, 3, 1, 1.0)
    state, effects = run(state, Tick(1.0 + LEARN_DELAY_S - 0.1))
    assert not of(effects, StartTraining)
    state, _ = correct(state, 2, 5, 3.0)                         # another one: the two seconds start again
    state, effects = run(state, Tick(3.0 + LEARN_DELAY_S - 0.1))
    assert not of(effects, StartTraining)
    state, effects = run(state, Tick(3.0 + LEARN_DELAY_S))
    started = of(effects, StartTraining)
    assert started and started[0].background and started[0].bank.corrections == state.bank.corrections
    assert state.training.background
    frame = of(effects, Leds)[-1].frame if of(effects, Leds) else state.frame
    assert (frame == render_frame(replace(state, training=None))).all()    # the grid stays the steps
    corrected = played_hats(state)
    state, effects = run(state, PadEvent(0, 3, True, 5.2))        # playing on: no abort, an edit
    assert state.training is not None and state.pattern.velocity(0, 3) == 200
    state, _ = run(state, PadEvent(0, 3, False, 5.25), PadEvent(0, 3, True, 4.3), PadEvent(0, 3, False, 5.35))
    assert (played_hats(state) == corrected).all()               # back to the corrected inputs: as corrected
    state, effects = run(state, TrainingFinished(True, "learnt", ("loose", "medium", "tight"),
                                                 ("in", "in", "out", "out"), time=5.5))
    assert state.training is None and not state.unlearnt         # from now on the nets play it
    assert of(effects, RunNet)


def test_with_learn_on_train_corrections_wait_for_train():
    state = replace(performing(), learn="on-train")
    state, _ = correct(state, 3, 1, 1.0)
    state, effects = run(state, Tick(10.0))
    assert not of(effects, StartTraining) and len(state.bank.corrections) == 1


def test_undo_removes_the_last_correction_and_a_listed_one_can_be_removed():
    state = performing()
    before = played_hats(state)
    state, _ = correct(state, 3, 1, 1.0)
    state, _ = run(state, PadEvent(0, 0, True, 1.5), PadEvent(0, 0, False, 1.55))   # other inputs
    state, _ = run(state, *nets_answer([RunNet(0, state.position, state.pattern)]))
    state, _ = correct(state, 3, 2, 2.0)
    assert len(state.bank.corrections) == 2
    state, effects = run(state, ButtonEvent("shift", "pressed", 2.5), Tick(2.6))
    assert state.frame[ROW_SYSTEM, UNDO_COLUMN].any() and state.frame[ROW_SYSTEM, CORRECTIONS_COLUMN].any()
    state, _ = run(state, PadEvent(ROW_SYSTEM, UNDO_COLUMN, True, 2.7), PadEvent(ROW_SYSTEM, UNDO_COLUMN, False, 2.75))
    assert len(state.bank.corrections) == 1
    state, _ = run(state, PadEvent(ROW_SYSTEM, CORRECTIONS_COLUMN, True, 2.8), Tick(2.85))
    assert state.listing and state.frame[ROW_SLOTS, 0].any() and not state.frame[ROW_SLOTS, 1:].any()
    state, _ = run(state, PadEvent(ROW_SLOTS, 0, True, 2.9), PadEvent(ROW_SLOTS, 0, False, 2.95))
    assert state.bank.corrections == () and state.slot == 0 and state.queued is None
    assert state.tally == CorrectionTally(made=2, removed=1, undone=1)
    state, _ = run(state, PadEvent(ROW_SYSTEM, CORRECTIONS_COLUMN, False, 3.0))
    assert state.listing                                         # until SHIFT is let go
    state, _ = run(state, ButtonEvent("shift", "released", 3.1))
    assert not state.listing
    state, effects = run(state, PadEvent(0, 0, True, 3.2), PadEvent(0, 0, False, 3.25))
    state, _ = run(state, *nets_answer(effects))
    assert state.pattern == GROOVE and (played_hats(state) == before).all()     # as the nets play it again
    state, effects = run(state, Tick(3.0 + LEARN_DELAY_S))
    assert of(effects, StartTraining)                            # and they relearn without it


def test_undo_after_a_restart_drops_the_newest_correction():
    state = performing()
    state, _ = correct(state, 3, 1, 1.0)
    reloaded = replace(state, bank=bank_from_data(bank_to_data(state.bank)), undo=(), unlearnt=())
    assert reloaded.bank.corrections == state.bank.corrections
    reloaded, _ = run(reloaded, ButtonEvent("shift", "pressed", 2.0), PadEvent(ROW_SYSTEM, UNDO_COLUMN, True, 2.1))
    assert reloaded.bank.corrections == () and reloaded.tally.undone == state.tally.undone + 1
    again, _ = run(reloaded, PadEvent(ROW_SYSTEM, UNDO_COLUMN, False, 2.2),
                   PadEvent(ROW_SYSTEM, UNDO_COLUMN, True, 2.3))
    assert again.tally == reloaded.tally                         # nothing left to undo: nothing counted


def test_a_correction_needs_the_nets_answer():
    bank = Bank(slots=(Slot("groove", True, GROOVE),))
    state, _ = run(Instrument(bank), NetsLoaded(("loose", "medium", "tight"), ("in", "in", "out", "out")),
                   ButtonEvent("mode", "pressed", 0.0), PadEvent(3, 1, True, 0.1))
    assert state.bank.corrections == () and 3 in state.flashes and state.tally == CorrectionTally()


def test_the_bank_keeps_sixteen_corrections_dropping_the_oldest():
    state = performing()
    first = None
    for index in range(17):
        state, _ = run(state, PadEvent(0, 1 + index % 15, True, 1.0 + index), PadEvent(0, 1 + index % 15, False,
                                                                                        1.01 + index))
        state, _ = run(state, *nets_answer([RunNet(0, state.position, state.pattern)]))
        state, _ = correct(state, 3, 1, 1.5 + index)
        first = first or state.bank.corrections[0]
    assert len(state.bank.corrections) == 16 and first not in state.bank.corrections
    assert isinstance(state.bank.corrections[0], Correction)
