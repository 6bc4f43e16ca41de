"""The nets and training: asking the nets for answers, nets arriving, a training run from start to end.

A run is TRAIN's (the grid shows its progress, any pad aborts it) or a
background one that learns the player's corrections while PERFORM goes on;
either way the beat never stops and a failed run keeps the old nets.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from ..pattern import Pattern
from .effects import Effect, Log, RunNet, StartTraining
from .inputs import TrainingFinished, TrainingProgress, TrainingStarted
from .state import Instrument, Training, with_entry


def request_nets(state: Instrument, effects: list[Effect]) -> Instrument:
    """Ask for the nets' answer for the playing and queued slots whenever their inputs or the NET knob change."""
    if not state.output_rows:
        return state
    for slot in (state.slot, state.queued):
        if slot is None:
            continue
        request = RunNet(slot, state.position, _inputs_only(state.bank.slots[slot].pattern, state.net_roles))
        answered = state.net_out.get(slot)
        if (answered is not None and answered[0] == request.key) or state.net_pending.get(slot) == request.key:
            continue
        effects.append(request)
        state = with_entry(state, "net_pending", slot, request.key)
    return state


def _inputs_only(pattern: Pattern, roles: tuple[str, ...]) -> Pattern:
    """``pattern`` with the output rows zeroed, so a net request depends on the inputs alone."""
    grid = pattern.velocities.copy()
    grid[[c for c, role in enumerate(roles) if role == "out"]] = 0
    return Pattern(grid)


def nets_loaded(state: Instrument, labels: tuple[str, ...], roles: tuple[str, ...]) -> Instrument:
    """New nets (loose to tight) and their roles: the old answers are dropped, the NET knob stays where it is
    (its detents spread over the new nets)."""
    return replace(state, nets=tuple(labels), net_roles=tuple(roles),
                   net_out=MappingProxyType({}), net_pending=MappingProxyType({}))


def start_training(state: Instrument, effects: list[Effect], background: bool = False) -> Instrument:
    """Train on the marked slots and the corrections, if there are any and the roles allow it: TRAIN held
    long enough, or (``background``) corrections settled, to learn them while the player plays on."""
    bank = state.bank
    if not bank.training_patterns:
        effects.append(Log("nothing to train on: mark slots on row 2 of the SHIFT page"))
        return state
    if not bank.input_channels or not bank.output_channels:
        effects.append(Log("the net needs at least one input and one output channel"))
        return state
    effects.append(StartTraining(bank, background))
    corrections = f" and {len(bank.corrections)} correction(s)" if bank.corrections else ""
    what = f"{len(bank.training_slots)} slot(s){corrections}"
    training = Training(state.now, background=background, corrections=bank.corrections)
    if background:
        effects.append(Log(f"learning {len(bank.corrections)} correction(s) in the background, with "
                           f"{len(bank.training_slots)} slot(s)"))
        return replace(state, training=training)
    effects.append(Log(f"training on {what}"))
    return replace(state, training=training, held=(), clearing=frozenset())


def training_started(state: Instrument, event: TrainingStarted) -> Instrument:
    """The trainer's targets, for the progress bars."""
    if state.training is None:
        return state
    return replace(state, training=replace(state.training, targets=event.targets))


def training_progress(state: Instrument, event: TrainingProgress) -> Instrument:
    """An epoch's error, the first one remembered as where the bars start."""
    training = state.training
    if training is None:
        return state
    first = training.first_error if training.first_error is not None else event.error
    return replace(state, training=replace(training, epoch=event.epoch, first_error=first, error=event.error))


def training_finished(state: Instrument, event: TrainingFinished, effects: list[Effect]) -> Instrument:
    """Training over: on success the new nets are in place, and the corrections they learnt play as the nets
    play them."""
    effects.append(Log(event.detail))
    training = state.training
    state = replace(state, training=None)
    if event.succeeded:
        state = nets_loaded(state, event.labels, event.roles)
        if training is not None:
            learnt = {correction.pattern for correction in training.corrections}
            state = replace(state, unlearnt=tuple(p for p in state.unlearnt if p not in learnt))
    return state
