"""Editing steps on the grid (SHIFT up): hold to edit, tap to toggle.

Pressing an empty pad adds a hit at the default velocity at once; pressing
a lit pad clears it on release, unless VELOCITY was turned while it was held
(the Elektron convention). In PERFORM a press on the net's rows is a
correction (:mod:`.corrections`).
"""

from __future__ import annotations

from dataclasses import replace

from ..pages import ROW_SLOTS, ROW_SYSTEM, TRAIN_COLUMN
from .corrections import correct
from .effects import Effect, Log
from .state import Instrument


def press_step(state: Instrument, pad: tuple[int, int], effects: list[Effect]) -> Instrument:
    """A step pad pressed: a net's step is corrected, an empty step gets a hit, a lit one is cleared on release."""
    if pad[0] in state.output_rows:
        return correct(state, pad, effects)
    velocity = state.pattern.velocity(*pad)
    state = replace(state, held=state.held + (pad,))
    if velocity:
        return replace(state, clearing=state.clearing | {pad})
    effects.append(Log(f"{_step_name(state, pad)}: {state.default_velocity}"))
    return set_velocity(state, pad, state.default_velocity)


def _step_name(state: Instrument, pad: tuple[int, int]) -> str:
    return f"slot {state.slot + 1} {state.bank.channels[pad[0]]} step {pad[1] + 1}"


def release_pad(state: Instrument, pad: tuple[int, int], effects: list[Effect]) -> Instrument:
    """Any pad released: TRAIN and a held slot let go; a tapped lit step is cleared."""
    if pad == (ROW_SYSTEM, TRAIN_COLUMN):
        state = replace(state, train_pressed_at=None)
    if pad[0] == ROW_SLOTS and state.slot_held == pad[1]:
        state = replace(state, slot_held=None)
    if pad not in state.held:
        return state
    clear = pad in state.clearing
    state = replace(state, held=tuple(p for p in state.held if p != pad), clearing=state.clearing - {pad})
    if not clear:
        return state
    effects.append(Log(f"{_step_name(state, pad)}: off"))
    return set_velocity(state, pad, 0)


def set_velocity(state: Instrument, pad: tuple[int, int], velocity: int) -> Instrument:
    """The playing slot with step ``pad`` at ``velocity`` (0: off)."""
    slot = state.bank.slots[state.slot]
    if slot.pattern.velocity(*pad) == velocity:
        return state
    edited = replace(slot, pattern=slot.pattern.with_velocity(pad[0], pad[1], velocity))
    return replace(state, bank=state.bank.with_slot(state.slot + 1, edited))


def editable_held(state: Instrument) -> tuple[tuple[int, int], ...]:
    """The step pads held that VELOCITY edits (none on the SHIFT page, never the net's rows)."""
    if state.shift:
        return ()
    return tuple(pad for pad in state.held if pad[0] not in state.output_rows)
