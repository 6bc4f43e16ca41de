"""The instrument's state machine: ``step(state, event) -> (state, effects)``, pure.

Everything the player can change lives in one immutable :class:`Instrument`;
every input (a pad, a button, a knob, the engine's playhead, a net's answer,
training progress) is an event, and :func:`step` returns the new state and
the *effects* the outside must carry out: a new :class:`PlayState` for the
engine (:class:`Play`), a new LED frame (:class:`Leds`), "run the net"
(:class:`RunNet`, answered with a :class:`NetResult` event), "start/abort
training", "save", a log line. Time arrives in the events (seconds on the
caller's clock: audio time in scripted sessions); nothing here reads a clock.

The interaction is DESIGN §2's (see the README's cheat sheet):

- EDIT: pressing an empty pad adds a hit at the default velocity at once;
  pressing a lit pad clears it on release, unless VELOCITY was turned while
  it was held (the Elektron convention: hold to edit, tap to toggle). With
  pads held VELOCITY sets their velocity live (0 = off), with none it sets
  the default velocity.
- SHIFT held: the grid is the menu (slots, training marks, roles, mutes,
  kits, nets, copy, save, TRAIN held 1 s); VELOCITY sets the gate; the NET
  knob's far ends turn chance off/on.
- PERFORM: input rows edit as in EDIT; output rows are the nets', blended
  at the NET knob's position and gated, recomputed whenever an input velocity
  or the knob changes; a press on them is a correction the nets learn.
- Slots queue for the next bar line (sample-exact in the engine); holding a
  slot and tapping another chains the range.
- A drum note on MIDI in is heard at once and, recording, written into its
  input row at the nearest step (:mod:`.midi_in`).
- Pots pick a value up only when they pass it (soft take-over) whenever
  what they edit changes under them.

>>> from breakage_pi.core.bank import Bank
>>> state = Instrument(Bank())
>>> state, effects = step(state, PadEvent(0, 4, True, time=0.5))
>>> state.bank.slots[0].pattern.velocity(0, 4)
200
>>> [type(effect).__name__ for effect in effects]     # the LEDs follow on the next Tick
['Log', 'Play']
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..events import ButtonEvent, DeviceStatus, KnobEvent, PadEvent
from ..leds import render_frame
from .editing import press_step, release_pad
from .effects import AbortTraining, Effect, Leds, Log, Play
from .external import bank_loaded, external_clock, kits_found
from .inputs import (BankLoaded, Event, ExternalClock, KitsFound, NetResult, NetsLoaded, NoteIn, TakeRecording, Tick,
                     TrainingFinished, TrainingProgress, TrainingStarted)
from .knobs import knob, retarget_knobs
from .menu import menu_pad
from .midi_in import note_in
from .state import Instrument, persisted, with_entry
from .training import nets_loaded, request_nets, training_finished, training_progress, training_started
from .transport import button, tick

FRAME_INTERVAL_S = 1 / 60
"""On ticks alone the LEDs are redrawn at most this often (blinking, shimmer); any change redraws at once."""


def step(state: Instrument, event: Event) -> tuple[Instrument, tuple[Effect, ...]]:
    """The new state after ``event`` and what the outside must do about it."""
    old = state
    time = getattr(event, "time", state.now)
    state = replace(state, now=max(state.now, time))
    effects: list[Effect] = []
    if isinstance(event, PadEvent):
        state = _pad(state, event, effects)
    elif isinstance(event, ButtonEvent):
        state = button(state, event, effects)
    elif isinstance(event, KnobEvent):
        state = knob(state, event, effects)
    elif isinstance(event, Tick):
        state = tick(state, event, effects)
    elif isinstance(event, NetResult):
        state = with_entry(state, "net_out", event.request.slot, (event.request.key, event.outputs))
        state = with_entry(state, "net_pending", event.request.slot, None)
    elif isinstance(event, NetsLoaded):
        state = nets_loaded(state, event.labels, event.roles)
    elif isinstance(event, TrainingStarted):
        state = training_started(state, event)
    elif isinstance(event, TrainingProgress):
        state = training_progress(state, event)
    elif isinstance(event, TrainingFinished):
        state = training_finished(state, event, effects)
    elif isinstance(event, BankLoaded):
        state = bank_loaded(state, event.bank, effects)
    elif isinstance(event, KitsFound):
        state = kits_found(state, event.kits, effects)
    elif isinstance(event, ExternalClock):
        state = external_clock(state, event, effects)
    elif isinstance(event, NoteIn):
        state = note_in(state, event, effects)
    elif isinstance(event, TakeRecording):
        state = replace(state, recording=event.on)
    elif isinstance(event, DeviceStatus):
        pass  # the hardware layer has logged it; nothing on the grid changes
    return _consequences(old, state, event, effects)


def _pad(state: Instrument, event: PadEvent, effects: list[Effect]) -> Instrument:
    """A pad: during TRAIN's run any press aborts it; else the SHIFT page or the steps (also while the nets
    learn corrections in the background)."""
    pad = (event.row, event.column)
    if state.training is not None and not state.training.background:
        if event.pressed:
            effects.append(AbortTraining())
            effects.append(Log("training aborted from the grid; keeping the old nets"))
            return replace(state, training=None)
        return state
    if not event.pressed:
        return release_pad(state, pad, effects)
    if state.shift:
        return menu_pad(state, pad, effects)
    return press_step(state, pad, effects)


def _consequences(old: Instrument, state: Instrument, event: Event,
                  effects: list[Effect]) -> tuple[Instrument, tuple[Effect, ...]]:
    """What every transition implies: pick-ups, net requests, saving, the engine's snapshot, the LEDs.

    The LEDs are drawn on the next :class:`Tick` (the control loop ticks
    after handling its events, once it has handed the engine its snapshot:
    drawing never delays the sound). A tick that changed nothing but the time
    (the common case: the loop ticks every block) costs little: the snapshot
    is rebuilt only when the playhead, bar or state moved, and the LEDs at
    most every :data:`FRAME_INTERVAL_S` for blinking.
    """
    quiet = isinstance(event, Tick) and not effects and _settled(old, state)
    if not quiet:
        state = retarget_knobs(old, state, event.name if isinstance(event, KnobEvent) else None)
        state = request_nets(state, effects)
        if old.bank is not state.bank or persisted(old) != persisted(state):
            state = replace(state, dirty_at=state.now)
    if not quiet or state.bar != old.bar:
        if state.upcoming() is not None and state.queue_token == state.switch_seen:
            state = replace(state, queue_token=state.queue_token + 1)     # a fresh request for the bar line
        play = state.play_state()
        if play != state.sent:
            state = replace(state, sent=play)
            effects.append(Play(play))
    if not isinstance(event, Tick):
        return (state if state.frame_at == -math.inf else replace(state, frame_at=-math.inf)), tuple(effects)
    if not quiet or state.playhead != old.playhead or state.now - state.frame_at >= FRAME_INTERVAL_S:
        frame = render_frame(state)
        if state.frame is None or not np.array_equal(frame, state.frame):
            state = replace(state, frame=frame, frame_at=state.now)
            effects.append(Leds(frame))
        else:
            state = replace(state, frame_at=state.now)
    return state, tuple(effects)


def _settled(old: Instrument, state: Instrument) -> bool:
    """Whether a tick left everything but the time, playhead and bar as it was."""
    return (old.bank is state.bank and old.slot == state.slot and old.queued == state.queued
            and old.queue_token == state.queue_token and old.training is state.training
            and old.train_pressed_at == state.train_pressed_at and old.flashes is state.flashes
            and old.dirty_at == state.dirty_at and old.learn_at == state.learn_at)
