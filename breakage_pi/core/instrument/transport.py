"""Transport, slots and chains: PLAY, the mode button, queueing slots for the bar line, the engine's tick.

Slots queue for the next bar line (sample-exact in the engine); holding a
slot and tapping another chains the range. The tick also starts training
after TRAIN's long press or settled corrections, ends the net's row flashes
and saves settled edits.
"""

from __future__ import annotations

from dataclasses import replace

from ..bank import Slot
from ..events import ButtonEvent
from .effects import Effect, Log, Save
from .inputs import Tick
from .state import EDIT, PERFORM, Instrument, with_entry
from .training import start_training

TRAIN_HOLD_S = 1.0
"""TRAIN starts after its pad has been held this long (seconds)."""
SAVE_DELAY_S = 2.0
"""Edits are saved this long after the last one (seconds): a knob sweep is one save, not a hundred."""


def ensure_slot(state: Instrument, index: int) -> Instrument:
    """A bank with at least ``index + 1`` slots (new ones empty)."""
    bank = state.bank
    while len(bank.slots) <= index:
        bank = bank.with_slot(len(bank.slots) + 1, Slot())
    return replace(state, bank=bank) if bank is not state.bank else state


def slot_pad(state: Instrument, column: int, effects: list[Effect]) -> Instrument:
    """A slot pressed on the SHIFT page: queue it, or with another slot held chain the range."""
    state = ensure_slot(state, column)
    if state.slot_held is not None and state.slot_held != column:
        first = state.slot_held
        chain = tuple(range(first, column + 1)) if column > first else tuple(range(first, column - 1, -1))
        effects.append(Log(f"chain slots {first + 1}-{column + 1}"))
        state = replace(state, chain=chain)
        return _queue(state, first if first != state.slot else chain[1], effects)
    state = replace(state, slot_held=column, chain=())
    if column == state.slot:
        if state.queued is not None:
            effects.append(Log(f"slot {column + 1} keeps playing"))
        return replace(state, queued=None)
    return _queue(state, column, effects)


def _queue(state: Instrument, index: int, effects: list[Effect]) -> Instrument:
    """Queue slot ``index`` for the next bar line (at once when stopped)."""
    if not state.playing:
        effects.append(Log(f"slot {index + 1} selected"))
        return replace(state, slot=index, queued=None)
    effects.append(Log(f"slot {index + 1} queued for the next bar"))
    return replace(state, queued=index)


def _next_in_chain(state: Instrument) -> Instrument:
    """In a chain, queue the slot after the playing one."""
    if len(state.chain) < 2 or state.slot not in state.chain:
        return state
    following = state.chain[(state.chain.index(state.slot) + 1) % len(state.chain)]
    return replace(state, queued=following)


def button(state: Instrument, event: ButtonEvent, effects: list[Effect]) -> Instrument:
    """SHIFT held or let go, PLAY (start from step 1 / stop), MODE (EDIT <-> PERFORM)."""
    if event.name == "shift":
        if event.action == "pressed":
            return replace(state, shift=True)
        if event.action == "released":
            return replace(state, shift=False, slot_held=None, train_pressed_at=None, listing=False)
        return state
    if event.action != "pressed":
        return state
    if event.name == "play":
        if state.playing:
            effects.append(Log("stop"))
            if state.queued is not None:
                state = replace(state, slot=state.queued, queued=None)
            return replace(state, playing=False, playhead=-1)
        effects.append(Log(f"play slot {state.slot + 1} from step 1"))
        return _next_in_chain(replace(state, playing=True, bar=0))
    if event.name == "mode":
        return set_mode(state, PERFORM if state.mode == EDIT else EDIT, effects)
    return state


def set_mode(state: Instrument, mode: str, effects: list[Effect]) -> Instrument:
    """EDIT or PERFORM (pads held are let go: what they edit changes)."""
    if mode == state.mode:
        return state
    note = "" if mode == EDIT or state.nets else ": no nets yet, train some (SHIFT, hold the last pad)"
    effects.append(Log(f"mode {mode}{note}"))
    return replace(state, mode=mode, held=(), clearing=frozenset())


def tick(state: Instrument, event: Tick, effects: list[Effect]) -> Instrument:
    """The engine's heartbeat: the playhead, a bar line passed, TRAIN's long press, flashes, settled edits."""
    state = replace(state, playhead=event.step if state.playing else -1)
    if state.queue_token != state.switch_seen and event.switched == state.queue_token:   # a bar line passed
        state = replace(state, switch_seen=state.queue_token, bar=state.bar + 1)
        if state.queued is not None:
            effects.append(Log(f"slot {state.queued + 1} playing"))
            state = _next_in_chain(replace(state, slot=state.queued, queued=None))
    if state.train_pressed_at is not None and state.now - state.train_pressed_at >= TRAIN_HOLD_S:
        state = start_training(replace(state, train_pressed_at=None), effects)
    if state.learn_at is not None and state.now >= state.learn_at and (state.training is None
                                                                        or state.training.background):
        state = start_training(replace(state, learn_at=None), effects, background=True)
    expired = [row for row, until in state.flashes.items() if until <= state.now]
    for row in expired:
        state = with_entry(state, "flashes", row, None)
    if state.dirty_at is not None and state.now - state.dirty_at >= SAVE_DELAY_S:
        effects.append(Save("edits settled"))
        state = replace(state, dirty_at=None)
    return state
