"""Corrections: the player teaches the nets in PERFORM by pressing the net's rows.

A press on a net's row turns that step on (at the default velocity) where
the net played it silent, or off where it played it. The corrected bar (the
slot's inputs, the net's rows as played with the correction) is kept in the
bank as a training example of its own (a later correction of the same inputs
amends it). Until the nets have learnt it, these inputs play as corrected;
with ``learn`` auto the nets retrain in the background :data:`LEARN_DELAY_S`
after the last correction. On the SHIFT page the corrections are listed
(tap their pad: row 1 shows them until SHIFT is let go, tap one there to
remove it) and the last change to them can be undone. Each of these counts
in the state's :class:`~.state.CorrectionTally` (a take's stats).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..bank import MAX_CORRECTIONS, Correction
from ..pattern import Pattern
from .effects import Effect, Log
from .state import LEARN_AUTO, Instrument, with_entry

LEARN_DELAY_S = 2.0
"""The nets retrain this long after the last correction (seconds): a run of corrections is one retrain."""
UNDO_DEPTH = 16
"""How many changes to the corrections can be undone."""
FLASH_S = 0.15
"""How long a net's row flashes when it cannot be corrected yet (seconds)."""


def correct(state: Instrument, pad: tuple[int, int], effects: list[Effect]) -> Instrument:
    """A press on the net's row ``pad[0]`` at step ``pad[1]``: the step as heard is turned over, and the
    corrected bar kept for the nets to learn."""
    row, column = pad
    if state.net_out.get(state.slot) is None:
        effects.append(Log("the net has not answered yet: nothing to correct"))
        return with_entry(state, "flashes", row, state.now + FLASH_S)
    heard = state.played(state.slot)[0].velocity(row, column)
    as_played = state.played(state.slot, chance=False)[0]      # the net's own rows, not this bar's draws
    velocity = 0 if heard else state.default_velocity
    corrected = as_played.with_velocity(row, column, velocity)
    bank = state.bank
    kept = [c for c in bank.corrections if not _same_inputs(state, c.pattern, corrected)]
    kept.append(Correction(corrected))
    if len(kept) > MAX_CORRECTIONS:
        effects.append(Log(f"{MAX_CORRECTIONS} corrections kept: the oldest makes room (undo brings it back)"))
        kept = kept[-MAX_CORRECTIONS:]
    step = f"{bank.channels[row]} step {column + 1}"
    effects.append(Log(f"correction: {step} {f'on at {velocity}' if velocity else 'off'}, "
                       f"slot {state.slot + 1} ({len(kept)} in the bank)"))
    state = _with_corrections(state, tuple(kept))
    unlearnt = tuple(p for p in state.unlearnt if not _same_inputs(state, p, corrected)) + (corrected,)
    return replace(state, unlearnt=unlearnt, tally=replace(state.tally, made=state.tally.made + 1))


def remove(state: Instrument, index: int, effects: list[Effect]) -> Instrument:
    """Correction ``index`` (0-based, oldest first) tapped in the list: it is removed."""
    corrections = state.bank.corrections
    if index >= len(corrections):
        return state
    effects.append(Log(f"correction {index + 1} of {len(corrections)} removed (undo brings it back)"))
    state = _with_corrections(state, corrections[:index] + corrections[index + 1:])
    return replace(state, tally=replace(state.tally, removed=state.tally.removed + 1))


def undo(state: Instrument, effects: list[Effect]) -> Instrument:
    """UNDO on the SHIFT page: the corrections as they were before their last change (after a restart,
    with no history, the newest correction goes)."""
    corrections = state.bank.corrections
    if state.undo:
        previous, history = state.undo[-1], state.undo[:-1]
    elif corrections:
        previous, history = corrections[:-1], ()
    else:
        effects.append(Log("no correction to undo"))
        return state
    effects.append(Log(f"undo: {len(previous)} correction(s) in the bank"))
    return replace(_with_corrections(state, previous), undo=history,
                   tally=replace(state.tally, undone=state.tally.undone + 1))


def list_corrections(state: Instrument, listing: bool, effects: list[Effect]) -> Instrument:
    """The corrections pad tapped: row 1 lists them (until SHIFT is let go or the pad tapped again), or not."""
    if listing and not state.listing:
        count = len(state.bank.corrections)
        effects.append(Log(f"{count} correction(s) on row 1: tap one to remove it" if count else
                           "no corrections yet: in PERFORM, press a step on the net's rows"))
    return replace(state, listing=listing)


def _with_corrections(state: Instrument, corrections: tuple[Correction, ...]) -> Instrument:
    """``state`` with the bank's corrections replaced (the old ones undoable), retraining to come."""
    patterns = {c.pattern for c in corrections}
    history = (state.undo + (state.bank.corrections,))[-UNDO_DEPTH:]
    return replace(state, bank=state.bank.with_changes(corrections=corrections), undo=history,
                   unlearnt=tuple(p for p in state.unlearnt if p in patterns),
                   learn_at=state.now + LEARN_DELAY_S if state.learn == LEARN_AUTO else None)


def _same_inputs(state: Instrument, first: Pattern, second: Pattern) -> bool:
    inputs = [c for c, role in enumerate(state.net_roles) if role == "in"]
    return bool(np.array_equal(first.velocities[inputs], second.velocities[inputs]))
