"""The SHIFT page: with SHIFT held the grid is the menu.

Row 1 the slots, row 2 the training marks, row 3 the channels' roles,
mutes and the kits, row 4 the nets, chance, the mode, the corrections
(tap: row 1 lists them until SHIFT is let go) and their undo, a take, copy,
save and TRAIN (held 1 s).
The layout is :mod:`breakage_pi.core.pages`'.
"""

from __future__ import annotations

from dataclasses import replace

from ..bank import MAX_SLOTS
from ..morph import detent_position
from ..pages import (CHANCE_COLUMN, COPY_COLUMN, CORRECTIONS_COLUMN, EDIT_COLUMN, KIT_COLUMNS, MUTE_COLUMNS,
                     NET_COLUMNS, PERFORM_COLUMN, ROLE_COLUMNS, ROW_CHANNELS, ROW_MARKS, ROW_SLOTS, SAVE_COLUMN,
                     TAKE_COLUMN, TRAIN_COLUMN, UNDO_COLUMN)
from .corrections import list_corrections, remove, undo
from .effects import Effect, Log, Save, SelectKit, ToggleTake
from .state import EDIT, PERFORM, Instrument
from .transport import ensure_slot, set_mode, slot_pad


def menu_pad(state: Instrument, pad: tuple[int, int], effects: list[Effect]) -> Instrument:
    """A pad pressed on the SHIFT page."""
    row, column = pad
    if row == ROW_SLOTS and state.listing:
        return remove(state, column, effects)
    if row == ROW_SLOTS:
        return slot_pad(state, column, effects)
    if row == ROW_MARKS:
        state = ensure_slot(state, column)
        slot = state.bank.slots[column]
        effects.append(Log(f"slot {column + 1} {'out of' if slot.train else 'in'} the training set"))
        return replace(state, bank=state.bank.with_slot(column + 1, replace(slot, train=not slot.train)))
    if row == ROW_CHANNELS:
        if column in ROLE_COLUMNS:
            return _toggle_role(state, column, effects)
        if column in MUTE_COLUMNS:
            channel = column - MUTE_COLUMNS.start
            mutes = tuple(not m if c == channel else m for c, m in enumerate(state.mutes))
            effects.append(Log(f"{state.bank.channels[channel]} {'muted' if mutes[channel] else 'unmuted'}"))
            return replace(state, mutes=mutes)
        index = column - KIT_COLUMNS.start
        if index < len(state.kits):
            name = None if state.kit == state.kits[index] else state.kits[index]
            effects.append(SelectKit(name))
            effects.append(Log(f"kit {name or 'built-in'}"))
            return replace(state, kit=name)
        return state
    if column in NET_COLUMNS:
        if column < len(state.nets):
            effects.append(Log(f"net {state.nets[column]}"))
            return replace(state, position=detent_position(column, len(state.nets)))
        return state
    if column == CORRECTIONS_COLUMN:
        return list_corrections(state, not state.listing, effects)
    if column == UNDO_COLUMN:
        return undo(state, effects)
    if column == CHANCE_COLUMN:
        return set_chance(state, not state.bank.chance, effects)
    if column in (EDIT_COLUMN, PERFORM_COLUMN):
        return set_mode(state, EDIT if column == EDIT_COLUMN else PERFORM, effects)
    if column == TAKE_COLUMN:
        effects.append(ToggleTake())
        return state
    if column == COPY_COLUMN:
        return _copy_slot(state, effects)
    if column == SAVE_COLUMN:
        effects.append(Save("saved from the grid"))
        effects.append(Log("saving now"))
        return replace(state, dirty_at=None)
    if column == TRAIN_COLUMN:
        return replace(state, train_pressed_at=state.now)
    return state


def _toggle_role(state: Instrument, channel: int, effects: list[Effect]) -> Instrument:
    roles = tuple(("out" if role == "in" else "in") if c == channel else role
                  for c, role in enumerate(state.bank.roles))
    if "in" not in roles or "out" not in roles:
        effects.append(Log("the net needs at least one input and one output channel"))
        return state
    effects.append(Log(f"{state.bank.channels[channel]} is now {'an input' if roles[channel] == 'in' else 'an output'}"
                       " (applies from the next training)"))
    return replace(state, bank=state.bank.with_changes(roles=roles))


def _copy_slot(state: Instrument, effects: list[Effect]) -> Instrument:
    for index in range(state.slot + 1, MAX_SLOTS):
        if index >= len(state.bank.slots) or not state.bank.slots[index].pattern.velocities.any():
            state = ensure_slot(state, index)
            source = state.bank.slots[state.slot]
            copy = replace(source, name=source.name, train=False)
            effects.append(Log(f"slot {state.slot + 1} copied to slot {index + 1}"))
            return replace(state, bank=state.bank.with_slot(index + 1, copy))
    effects.append(Log("no empty slot after this one to copy to"))
    return state


def set_chance(state: Instrument, on: bool, effects: list[Effect]) -> Instrument:
    """Chance on or off (its pad here, or the NET knob's far ends with SHIFT held)."""
    effects.append(Log(f"chance {'on' if on else 'off'}"))
    return replace(state, bank=state.bank.with_changes(chance=on))
