"""The nets and training: asking the nets for answers, nets arriving, a training run from start to end."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from ..pattern import Pattern
from .effects import Effect, Log, RunNet, StartTraining
from .inputs import TrainingFinished, TrainingProgress, TrainingStarted
from .state import PERFORM, Instrument, Training, with_entry


def request_nets(state: Instrument, effects: list[Effect]) -> Instrument:
    """Ask for the net's answer for the playing and queued slots whenever their inputs or the net change."""
    if not state.output_rows:
        return state
    for slot in (state.slot, state.queued):
        if slot is None:
            continue
        request = RunNet(slot, state.net, _inputs_only(state.bank.slots[slot].pattern, state.net_roles))
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
    """New nets (loose to tight) and their roles: the old answers are dropped, the net index kept in range."""
    net = min(state.net, len(labels) - 1) if labels else 0
    return replace(state, nets=tuple(labels), net_roles=tuple(roles), net=max(net, 0),
                   net_out=MappingProxyType({}), net_pending=MappingProxyType({}))


def start_training(state: Instrument, effects: list[Effect]) -> Instrument:
    """TRAIN held long enough: train on the marked slots, if there are any and the roles allow it."""
    bank = state.bank
    if not bank.training_slots:
        effects.append(Log("nothing to train on: mark slots on row 2 of the SHIFT page"))
        return state
    if not bank.input_channels or not bank.output_channels:
        effects.append(Log("the net needs at least one input and one output channel"))
        return state
    effects.append(StartTraining(bank))
    count = len(bank.training_slots)
    effects.append(Log(f"training the nets on {count} marked slot{'s' if count != 1 else ''}; "
                       "the beat plays on, any pad stops it"))
    return replace(state, training=Training(state.now), held=(), clearing=frozenset())


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
    """Training over: on success the new nets are in place (said in the player's words; the trainer's
    figures are the daemon's debug log), else ``event.detail`` says why not."""
    state = replace(state, training=None)
    if not event.succeeded:
        effects.append(Log(event.detail))
        return state
    if state.mode == PERFORM:
        effects.append(Log("nets trained: playing them now (the NET knob picks loose, medium or tight)"))
    else:
        effects.append(Log("nets trained: switch to PERFORM (MODE) to hear them"))
    return nets_loaded(state, event.labels, event.roles)
