"""The instrument's state machine, one interaction at a time: (state, event) -> (state, effects)."""

import numpy as np
import pytest

from breakage_pi.core import Bank, Pattern, Slot
from breakage_pi.core.events import ButtonEvent, KnobEvent, PadEvent
from breakage_pi.core.instrument import (EDIT, PERFORM, AbortTraining, Instrument, Leds, Log, NetResult, NetsLoaded,
                                         Play, RunNet, Save, SelectKit, StartTraining, Tick, TrainingFinished,
                                         TrainingProgress, TrainingStarted, knob_readout, pick_up_all, step)
from breakage_pi.core.leds import CHANNEL_HUES, NET_HUES, render_frame

KICKS = Pattern().with_channel(0, [200, 0, 0, 0] * 4)
GROOVE = KICKS.with_channel(1, [0, 0, 0, 0, 180, 0, 0, 0] * 2).with_channel(3, [90, 0] * 8)


def bank(*patterns, **changes):
    slots = tuple(Slot(f"s{i}", True, p) for i, p in enumerate(patterns or (Pattern(),)))
    return Bank(slots=slots, **changes)


def run(state, *events):
    """Feed ``events`` in order; returns the final state and every effect."""
    effects = []
    for event in events:
        state, produced = step(state, event)
        effects.extend(produced)
    return state, effects


def of(effects, kind):
    return [effect for effect in effects if isinstance(effect, kind)]


def tap(row, column, at=0.0):
    return PadEvent(row, column, True, at), PadEvent(row, column, False, at + 0.05)


def press(name, at=0.0):
    return ButtonEvent(name, "pressed", at), ButtonEvent(name, "released", at + 0.05)


def shift_down(at=0.0):
    return ButtonEvent("shift", "pressed", at)


def shift_up(at=0.0):
    return ButtonEvent("shift", "released", at)


def knob(name, value, at=0.0):
    return KnobEvent(name, at, value=value)


def with_nets(state, roles=("in", "in", "out", "out")):
    state, _ = step(state, NetsLoaded(("loose", "medium", "tight"), roles))
    return state


def answer(effects, outputs):
    """NetResults for every RunNet in ``effects``: the nets' outputs (rows 2, 3) are ``outputs``."""
    return [NetResult(request, np.asarray(outputs, dtype=np.float64)) for request in of(effects, RunNet)]


# -- EDIT ------------------------------------------------------------------------------------------

def test_tapping_an_empty_pad_adds_a_hit_at_the_default_velocity_and_plays_it():
    state, effects = run(Instrument(bank()), *tap(1, 4))
    assert state.pattern.velocity(1, 4) == 200
    assert of(effects, Play)[0].state.pattern.velocity(1, 4) == 200


def test_tapping_a_lit_pad_clears_it_on_release():
    state, _ = run(Instrument(bank(KICKS)), PadEvent(0, 0, True, 0.0))
    assert state.pattern.velocity(0, 0) == 200           # still there while held
    state, effects = run(state, PadEvent(0, 0, False, 0.1))
    assert state.pattern.velocity(0, 0) == 0
    assert of(effects, Play)[-1].state.pattern.velocity(0, 0) == 0


def test_hold_a_pad_and_turn_velocity_sets_that_step_live_and_keeps_it():
    state = Instrument(bank(KICKS))
    state, _ = run(state, knob("velocity", 0.2))                       # the pot's first reading
    state, effects = run(state, PadEvent(0, 0, True, 1.0), knob("velocity", 0.5, 1.1))
    assert state.pattern.velocity(0, 0) == 200            # 0.5 has not passed 200/255 yet: soft take-over
    state, effects = run(state, knob("velocity", 0.8, 1.2), knob("velocity", 0.4, 1.3), Tick(1.3))
    assert state.pattern.velocity(0, 0) == round(0.4 * 255)
    assert [p.state.pattern.velocity(0, 0) for p in of(effects, Play)] == [204, 102]
    frames = of(effects, Leds)
    assert frames and frames[-1].frame[0, 0].max() < 255     # held: drawn white at its level
    state, _ = run(state, PadEvent(0, 0, False, 1.4))
    assert state.pattern.velocity(0, 0) == 102            # edited while held: release keeps it


def test_velocity_zero_turns_the_held_step_off():
    state = Instrument(bank(KICKS))
    state, _ = run(state, knob("velocity", 0.78), PadEvent(0, 0, True, 1.0), knob("velocity", 0.0, 1.1))
    assert state.pattern.velocity(0, 0) == 0


def test_velocity_alone_sets_the_default_for_new_hits():
    state = Instrument(bank())
    state, _ = run(state, knob("velocity", 0.7), knob("velocity", 0.9), knob("velocity", 0.25))
    assert state.default_velocity == round(0.25 * 255)
    state, _ = run(state, *tap(2, 2, 1.0))
    assert state.pattern.velocity(2, 2) == round(0.25 * 255)


def test_with_shift_velocity_sets_the_gate():
    state = pick_up_all(Instrument(bank()))
    state, _ = run(state, knob("velocity", 0.0), shift_down(), knob("velocity", 0.3), shift_up())
    assert state.bank.gate == round(0.3 * 255) and state.default_velocity == 200


# -- soft take-over --------------------------------------------------------------------------------

def test_restored_pots_pick_their_values_up_only_when_passing_them():
    state = pick_up_all(Instrument(bank(tempo=120.0)))
    state, _ = run(state, knob("tempo", 0.9), knob("tempo", 0.8))
    assert state.bank.tempo == 120.0                     # 120 BPM is at 0.333: not passed yet
    state, _ = run(state, knob("tempo", 0.3))
    assert state.bank.tempo == pytest.approx(30 + 0.3 * 270)


def test_a_pots_noise_quantisation_or_start_up_position_changes_nothing():
    from breakage_pi.core.instrument import Knob
    from types import MappingProxyType
    remembered = {"tempo": Knob(0.3389), "swing": Knob(0.396), "volume": Knob(0.8), "velocity": Knob(0.2),
                  "net": Knob(0.5)}
    state = pick_up_all(Instrument(bank(tempo=121.5, swing=0.599), volume=0.8, knobs=MappingProxyType(remembered)))
    # the first readings: quantised by the ADC, a count of noise, and VELOCITY moved while the power was off
    readings = {"tempo": 347 / 1023, "swing": 406 / 1023, "volume": 818 / 1023, "velocity": 0.6, "net": 0.52}
    after, effects = run(state, *(knob(name, value) for name, value in readings.items()),
                         Tick(3.0), Tick(6.0))
    assert (after.bank.tempo, after.bank.swing, after.volume, after.default_velocity) == (121.5, 0.599, 0.8, 200)
    assert after.dirty_at is None and not of(effects, Save)
    assert {name: after.knobs[name].position for name in ("tempo", "swing", "volume")} == \
        {"tempo": 0.3389, "swing": 0.396, "volume": 0.8}                  # the remembered positions stay
    assert after.knobs["tempo"].pickup is None                             # resting on its value: engaged
    assert after.knobs["velocity"].pickup == pytest.approx(200 / 255)     # elsewhere: waits to pass it
    moved, _ = run(after, knob("tempo", (125 - 30) / 270))                 # the first real turn drives it
    assert moved.bank.tempo == 125.0


def test_tempo_is_set_in_whole_bpm():
    state, _ = run(Instrument(bank()), knob("tempo", (120 - 30) / 270 + 0.001))
    assert state.bank.tempo == 120.0
    state, _ = run(state, knob("tempo", (121 - 30) / 270 - 0.0015))
    assert state.bank.tempo == 121.0


def test_knob_readouts_speak_in_musical_units_and_say_where_a_pot_picks_up():
    state = pick_up_all(Instrument(bank(KICKS, tempo=112.0, swing=0.56)))
    state, _ = run(state, knob("tempo", 0.0), knob("velocity", 200 / 255))
    tempo = knob_readout(state, "tempo")
    assert (tempo.value, tempo.at, tempo.waiting) == ("112 BPM", "30 BPM", pytest.approx(82 / 270))
    assert tempo.line() == "tempo 112 BPM  knob at 30 BPM: turn up to pick up"
    assert knob_readout(state, "swing").value == "56%" and knob_readout(state, "volume").value == "80%"
    assert knob_readout(state, "velocity").line() == "velocity 200"
    state, _ = run(state, PadEvent(0, 0, True, 1.0))
    assert knob_readout(state, "velocity").line().startswith("kick step 1: velocity 200")
    state, _ = run(state, shift_down(1.1))
    assert knob_readout(state, "velocity").edits == "gate"
    assert knob_readout(state, "net").edits == "chance"
    state, _ = run(state, shift_up(1.2))
    assert knob_readout(with_nets(state), "net").value == "medium"


def test_a_velocity_set_on_a_held_step_is_logged_with_its_number():
    state = Instrument(bank(KICKS))
    state, effects = run(state, knob("velocity", 0.78), PadEvent(0, 0, True, 1.0), knob("velocity", 0.5, 1.1),
                         knob("velocity", 0.6, 1.2), PadEvent(0, 0, False, 1.3))
    assert [e.message for e in of(effects, Log)] == [f"slot 1 kick step 1: velocity {round(0.6 * 255)}"]


def test_tempo_swing_volume_do_what_they_say():
    state = Instrument(bank())
    state, _ = run(state, knob("tempo", 0.0), knob("tempo", 1.0), knob("swing", 0.0), knob("swing", 1.0),
                   knob("volume", 0.8), knob("volume", 0.5))
    play = state.play_state()
    assert (play.tempo, play.swing, play.volume) == (300.0, 0.75, 0.5)


# -- PLAY, MODE ------------------------------------------------------------------------------------

def test_play_starts_and_stops():
    state, effects = run(Instrument(bank(KICKS)), *press("play"))
    assert state.playing and of(effects, Play)[-1].state.playing
    state, effects = run(state, *press("play", 1.0))
    assert not state.playing and not of(effects, Play)[-1].state.playing


def test_mode_toggles_edit_and_perform():
    state, _ = run(Instrument(bank()), *press("mode"))
    assert state.mode == PERFORM
    state, _ = run(state, *press("mode", 1.0))
    assert state.mode == EDIT


# -- the SHIFT page: slots ---------------------------------------------------------------------------

def test_a_slot_tapped_while_playing_is_queued_for_the_next_bar_line():
    state = Instrument(bank(KICKS, GROOVE))
    state, _ = run(state, *press("play"), shift_down(0.1), *tap(0, 1, 0.2), shift_up(0.3))
    assert state.slot == 0 and state.queued == 1
    play = state.play_state()
    assert play.pattern == KICKS and play.queued == GROOVE and play.queue_token == state.queue_token
    state, _ = run(state, Tick(0.5, step=9, switched=0))
    assert state.queued == 1                                # the engine has not switched yet
    state, effects = run(state, Tick(1.0, step=0, switched=state.queue_token))
    assert state.slot == 1 and state.queued is None
    assert of(effects, Play)[-1].state.pattern == GROOVE


def test_a_slot_tapped_while_stopped_is_selected_at_once():
    state, _ = run(Instrument(bank(KICKS, GROOVE)), shift_down(), *tap(0, 1, 0.1))
    assert state.slot == 1 and state.queued is None


def test_a_slot_past_the_end_of_the_bank_is_created_empty():
    state, _ = run(Instrument(bank(KICKS)), shift_down(), *tap(0, 5, 0.1))
    assert len(state.bank.slots) == 6 and state.slot == 5 and state.pattern == Pattern()


def test_hold_a_slot_and_tap_another_chains_the_range():
    state = Instrument(bank(KICKS, GROOVE, KICKS, GROOVE))
    state, _ = run(state, *press("play"), shift_down(0.1), PadEvent(0, 1, True, 0.2), *tap(0, 3, 0.3),
                   PadEvent(0, 1, False, 0.4), shift_up(0.5))
    assert state.chain == (1, 2, 3) and state.queued == 1
    for expected_slot, expected_next in ((1, 2), (2, 3), (3, 1)):
        state, _ = run(state, Tick(state.now + 2, step=0, switched=state.queue_token))
        assert (state.slot, state.queued) == (expected_slot, expected_next)


def test_training_marks_roles_and_mutes_from_the_shift_page():
    state = Instrument(bank(KICKS, GROOVE))
    state, _ = run(state, shift_down(), *tap(1, 1, 0.1), *tap(2, 1, 0.2), *tap(2, 4, 0.3))
    assert not state.bank.slots[1].train
    assert state.bank.roles == ("in", "out", "out", "out")
    assert state.play_state().mutes == (True, False, False, False)
    state, effects = run(state, *tap(2, 0, 0.4))              # the last input: refused
    assert state.bank.roles == ("in", "out", "out", "out") and of(effects, Log)


def test_kit_pads_select_a_kit():
    state = Instrument(bank(), kits=("acoustic", "909"))
    state, effects = run(state, shift_down(), *tap(2, 9, 0.1))
    assert state.kit == "909" and of(effects, SelectKit) == [SelectKit("909")]
    state, effects = run(state, *tap(2, 15, 0.2))           # no kit there
    assert state.kit == "909" and not of(effects, SelectKit)


def test_copy_the_playing_slot_to_the_next_empty_one():
    state = Instrument(bank(KICKS, GROOVE, Pattern()))
    state, _ = run(state, shift_down(), *tap(3, 13, 0.1))
    assert state.bank.slots[2].pattern == KICKS


def test_save_now_and_debounced_saves():
    state, effects = run(Instrument(bank()), *tap(0, 0))
    assert not of(effects, Save)
    state, effects = run(state, Tick(1.0))
    assert not of(effects, Save)
    state, effects = run(state, Tick(2.1))
    assert of(effects, Save) and state.dirty_at is None
    state, effects = run(state, shift_down(3.0), *tap(3, 14, 3.1))
    assert of(effects, Save)


# -- nets, PERFORM ---------------------------------------------------------------------------------

def test_perform_asks_the_net_and_plays_its_gated_outputs():
    state = with_nets(Instrument(bank(GROOVE)))
    state, effects = run(state, *press("mode"))
    requests = of(effects, RunNet)
    assert len(requests) == 1 and requests[0].position == 0.5
    assert not requests[0].pattern.velocities[2:].any()     # the request depends on the inputs only
    outputs = np.array([[10, 48] * 8, [200, 47] * 8], dtype=np.uint8)
    state, effects = run(state, *answer(effects, outputs))
    played = of(effects, Play)[-1].state.pattern.velocities
    # the bank's gate, 48, is the middle of the knee (core.gate): 48 plays at half, 47 just under, 10 is silent
    assert played[2].tolist() == [0, 24] * 8 and played[3].tolist() == [200, 22] * 8
    assert (played[:2] == GROOVE.velocities[:2]).all()


def test_perform_recomputes_on_every_input_change_and_the_nets_rows_are_not_edited():
    state = with_nets(Instrument(bank(GROOVE)))
    state, effects = run(state, *press("mode"))
    state, _ = run(state, *answer(effects, np.full((2, 16), 100, dtype=np.uint8)))
    state, effects = run(state, PadEvent(0, 2, True, 1.0))
    assert len(of(effects, RunNet)) == 1 and of(effects, RunNet)[0].pattern.velocity(0, 2) == 200
    state, effects = run(state, PadEvent(0, 2, False, 1.1), PadEvent(3, 5, True, 1.2))
    assert not of(effects, RunNet) and state.pattern.velocity(3, 5) == 0     # a correction, not an edit


def test_the_net_knob_moves_between_loose_medium_tight_in_detents():
    state = with_nets(Instrument(bank(GROOVE)))
    state, _ = run(state, *press("mode"))
    state, effects = run(state, knob("net", 0.5), knob("net", 0.05))
    assert state.net == 0 and of(effects, RunNet)[-1].position == 0.0
    state, _ = run(state, knob("net", 0.95))
    assert state.net_label == "tight"


def test_net_knob_with_shift_turns_chance_on_and_off_at_the_ends():
    state = with_nets(Instrument(bank(GROOVE)))
    state, _ = run(state, shift_down(), knob("net", 0.5), knob("net", 1.0))
    assert state.bank.chance
    state, _ = run(state, knob("net", 0.0))
    assert not state.bank.chance


def test_chance_steps_play_by_bar_and_look_different():
    state = with_nets(Instrument(bank(GROOVE, chance=True)))
    state, effects = run(state, *press("mode"))
    state, _ = run(state, *answer(effects, np.full((2, 16), 48, dtype=np.uint8)))    # right on the gate
    pattern, chancy = state.played(0)
    assert chancy[2:].all() and not chancy[:2].any()
    bars = {tuple(state.__class__.played(s, 0)[0].velocities[2]) for s in
            (state, *(replace_bar(state, bar) for bar in range(1, 6)))}
    assert len(bars) > 1                                    # re-drawn per bar


def replace_bar(state, bar):
    from dataclasses import replace
    return replace(state, bar=bar)


# -- training --------------------------------------------------------------------------------------

def test_train_is_a_long_press_and_any_pad_aborts():
    state = Instrument(bank(GROOVE))
    state, effects = run(state, shift_down(), PadEvent(3, 15, True, 1.0), Tick(1.5))
    assert not of(effects, StartTraining)
    state, effects = run(state, Tick(2.0))
    assert of(effects, StartTraining)[0].bank is state.bank and state.training is not None
    state, effects = run(state, TrainingStarted((0.05, 0.02, 0.005)), TrainingProgress(0, 0.2),
                         TrainingProgress(50, 0.02), Tick(2.1))
    assert 0 < state.training.progress < 1
    frame = of(effects, Leds)[-1].frame
    assert frame[0].any() and frame[3].any()                # progress bar, the tight net still far
    state, effects = run(state, PadEvent(1, 1, True, 2.5))
    assert of(effects, AbortTraining) and state.training is None


def test_a_short_press_of_train_does_nothing():
    state, effects = run(Instrument(bank(GROOVE)), shift_down(), *tap(3, 15, 1.0), Tick(3.0))
    assert not of(effects, StartTraining)


def test_finished_training_replaces_the_nets_and_asks_them_again():
    state = with_nets(Instrument(bank(GROOVE), mode=PERFORM))
    state, effects = run(state, shift_down(), PadEvent(3, 15, True, 1.0), Tick(2.0), PadEvent(3, 15, False, 2.1),
                         shift_up(2.2))
    assert state.training is not None
    state, effects = run(state, TrainingFinished(True, "trained", ("loose", "tight"), ("in", "out", "in", "out")))
    assert state.nets == ("loose", "tight") and state.training is None
    assert state.weights == ((0, 0.5), (1, 0.5))              # the knob stays where it was: between the two
    assert of(effects, RunNet) and state.output_rows == (1, 3)


# -- LEDs ------------------------------------------------------------------------------------------

def test_leds_hue_per_channel_brightness_by_velocity_and_the_nets_rows_distinct():
    quiet_loud = Pattern().with_channel(0, [50, 250] + [0] * 14).with_channel(3, [250] + [0] * 15)
    frame = render_frame(Instrument(bank(quiet_loud)))
    assert frame[0, 1].sum() > frame[0, 0].sum() > 0
    hue = frame[0, 1].astype(float) / frame[0, 1].max()
    assert np.allclose(hue, CHANNEL_HUES[0] / CHANNEL_HUES[0].max(), atol=0.02)
    state = with_nets(Instrument(bank(quiet_loud), mode=PERFORM))
    state, effects = run(state, Tick(0.0))
    state, _ = run(state, *answer(effects, np.array([[0] * 16, [250] + [0] * 15], dtype=np.uint8)))
    net_pixel = render_frame(state)[3, 0].astype(float)
    assert np.allclose(net_pixel / net_pixel.max(), NET_HUES[3] / NET_HUES[3].max(), atol=0.02)
    assert render_frame(state)[3, 5].any()                  # the net's bed on its empty steps


def test_leds_playhead_and_blinking_queued_slot():
    state = Instrument(bank(KICKS, GROOVE))
    state, _ = run(state, *press("play"), Tick(0.1, step=6))
    assert (render_frame(state)[:, 6] > 0).all()
    state, _ = run(state, shift_down(0.2), *tap(0, 1, 0.2))
    lit = {bool(render_frame(replace_now(state, t))[0, 1].any()) for t in (1.0, 1.125, 1.25, 1.375)}
    assert lit == {True, False}


def replace_now(state, now):
    from dataclasses import replace
    return replace(state, now=now)


# -- more edges ------------------------------------------------------------------------------------

def test_an_encoder_turns_what_the_knob_edits_by_detents():
    state = Instrument(bank(tempo=120.0))
    state, _ = run(state, KnobEvent("tempo", 0.0, delta=2), KnobEvent("tempo", 0.1, delta=-1))
    assert state.bank.tempo == 121.0                          # one detent of TEMPO is 1 BPM
    state, _ = run(state, PadEvent(0, 3, True, 0.2), KnobEvent("velocity", 0.3, delta=-64))
    assert state.pattern.velocity(0, 3) == 0                 # all the way down: off


def test_an_encoder_on_net_leaves_a_detent_and_lands_on_the_next_net_and_switches_chance():
    state = with_nets(Instrument(bank(KICKS)))
    assert state.position == 0.5                                        # medium
    state, _ = run(state, KnobEvent("net", 0.0, delta=1))
    assert state.position == 0.5 + 1 / 32                               # one detent: out of medium's flat detent
    state, effects = run(state, KnobEvent("net", 0.1, delta=15))
    assert state.position == 1.0 and Log("net tight") in effects        # 16 detents: exactly the next net
    state, _ = run(state, KnobEvent("net", 0.2, delta=-100))
    assert state.position == 0.0                                        # and no further than the ends
    state, _ = run(state, shift_down(0.3), KnobEvent("net", 0.4, delta=1))
    assert state.bank.chance                                            # SHIFT + a turn up: chance on
    state, _ = run(state, KnobEvent("net", 0.5, delta=-1))
    assert not state.bank.chance


def test_stopping_with_a_slot_queued_selects_it():
    state = Instrument(bank(KICKS, GROOVE))
    state, _ = run(state, *press("play"), shift_down(0.1), *tap(0, 1, 0.2), shift_up(0.3), *press("play", 0.5))
    assert not state.playing and state.slot == 1 and state.queued is None


def test_tapping_the_playing_slot_cancels_a_queued_one():
    state = Instrument(bank(KICKS, GROOVE))
    state, _ = run(state, *press("play"), shift_down(0.1), *tap(0, 1, 0.2), *tap(0, 0, 0.3))
    assert state.queued is None and state.play_state().queued is None


def test_a_chain_starting_at_the_playing_slot_queues_the_next_one():
    state = Instrument(bank(KICKS, GROOVE, KICKS))
    state, _ = run(state, *press("play"), shift_down(0.1), PadEvent(0, 0, True, 0.2), *tap(0, 2, 0.3))
    assert state.chain == (0, 1, 2) and state.queued == 1


def test_copy_with_no_empty_slot_after_says_so():
    state = Instrument(bank(*[KICKS] * 16))
    state, effects = run(state, shift_down(), *tap(3, 13, 0.1))
    assert [slot.pattern for slot in state.bank.slots] == [KICKS] * 16
    assert any("no empty slot" in log.message for log in of(effects, Log))


def test_failed_training_keeps_the_old_nets():
    state = with_nets(Instrument(bank(GROOVE)))
    state, _ = run(state, shift_down(), PadEvent(3, 15, True, 1.0), Tick(2.0))
    state, effects = run(state, TrainingFinished(False, "training failed: no way"))
    assert state.training is None and state.nets == ("loose", "medium", "tight")
    assert Log("training failed: no way") in effects


def test_nothing_to_train_on_is_said_not_started():
    state = Instrument(Bank(slots=(Slot("a", False, GROOVE),)))
    state, effects = run(state, shift_down(), PadEvent(3, 15, True, 1.0), Tick(2.1))
    assert not of(effects, StartTraining) and state.training is None
    assert any("nothing to train on" in log.message for log in of(effects, Log))


def test_the_summary_names_mode_slot_net_and_transport():
    state = with_nets(Instrument(bank(KICKS, GROOVE)))
    state, _ = run(state, *press("play"), *press("mode", 0.1), shift_down(0.2), *tap(0, 1, 0.3))
    summary = state.summary()
    assert summary.startswith("PERFORM  slot 1 -> 2  net medium") and "PLAYING" in summary


def test_with_chance_every_bar_line_switches_to_that_bars_draw_exactly():
    state = with_nets(Instrument(bank(GROOVE, chance=True)))
    state, effects = run(state, *press("mode"))
    state, _ = run(state, *answer(effects, np.full((2, 16), 48, dtype=np.uint8)), *press("play", 0.1))
    play = state.play_state()
    assert play.queued == state.played(0, 1)[0] and play.queue_token != state.switch_seen    # bar 1, asked for
    token = play.queue_token
    state, effects = run(state, Tick(2.0, step=0, switched=token))                           # the engine switched
    assert state.bar == 1 and state.slot == 0
    now_playing = of(effects, Play)[-1].state
    assert now_playing.pattern == play.queued and now_playing.queued == state.played(0, 2)[0]
    assert now_playing.queue_token == token + 1                                                # bar 2 asked for


def test_a_bank_loaded_over_sync_plays_from_the_next_snapshot():
    from breakage_pi.core.instrument import BankLoaded

    state = Instrument(bank(KICKS, GROOVE, KICKS), slot=2, queued=1, chain=(2, 1), playing=True)
    state, effects = run(state, BankLoaded(bank(GROOVE, tempo=100.0), 0.5))
    assert state.slot == 0 and state.queued is None and state.chain == ()    # only slot 1 is left
    assert [play.state.pattern for play in of(effects, Play)] == [GROOVE]
    assert of(effects, Play)[-1].state.tempo == 100.0
    assert Log("bank reloaded: 1 slot(s), 100 BPM") in effects


def test_kits_found_over_sync_are_offered_and_a_vanished_kit_gives_way_to_the_built_in_one():
    from breakage_pi.core.instrument import KitsFound

    state = Instrument(bank(), kits=("acoustic",), kit="acoustic")
    state, effects = run(state, KitsFound(("acoustic", "909")))
    assert state.kits == ("acoustic", "909") and state.kit == "acoustic" and not of(effects, SelectKit)
    state, effects = run(state, KitsFound(("909",)))
    assert state.kit is None and of(effects, SelectKit) == [SelectKit(None)]


def test_a_followed_midi_clock_sets_the_tempo_and_starts_and_stops_play():
    from breakage_pi.core.instrument import ExternalClock

    state = Instrument(bank(KICKS))
    state, effects = run(state, ExternalClock(tempo=97.3, transport="start", time=0.1))
    assert state.playing and state.bank.tempo == 97.3 and of(effects, Play)[-1].state.tempo == 97.3
    state, _ = run(state, ExternalClock(transport="start", time=0.2))          # already playing: no change
    assert state.playing
    state, effects = run(state, ExternalClock(transport="stop", time=0.3))
    assert not state.playing and not of(effects, Play)[-1].state.playing


def test_shift_and_the_take_pad_asks_for_a_take_and_its_pad_shows_one_recording() -> None:
    from breakage_pi.core.instrument import TakeRecording, Tick, ToggleTake
    from breakage_pi.core.pages import ROW_SYSTEM, TAKE_COLUMN

    state, _ = step(Instrument(Bank()), shift_down(0.1))
    state, effects = step(state, PadEvent(ROW_SYSTEM, TAKE_COLUMN, True, 0.2))
    assert ToggleTake() in effects
    dark = step(state, Tick(0.3))[0].frame[ROW_SYSTEM, TAKE_COLUMN].sum()
    state, _ = step(state, TakeRecording(True, 0.4))
    assert state.recording and step(state, Tick(0.5))[0].frame[ROW_SYSTEM, TAKE_COLUMN].sum() > dark
    state, effects = step(state, PadEvent(ROW_SYSTEM, TAKE_COLUMN, False, 0.6))
    assert not any(isinstance(effect, ToggleTake) for effect in effects)
    from breakage_pi.hw.sim.words import header, shift_pad_words

    assert "* REC" in header(state, "") and "(recording)" in shift_pad_words(state, ROW_SYSTEM, TAKE_COLUMN)
    state, _ = step(state, TakeRecording(False, 0.7))
    assert "REC" not in header(state, "") and "recording" not in shift_pad_words(state, ROW_SYSTEM, TAKE_COLUMN)
