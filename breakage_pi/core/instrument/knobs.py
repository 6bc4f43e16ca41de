"""The pots and the encoder, and soft take-over.

What a knob edits depends on the state: VELOCITY sets the held pads'
velocity (0 = off), with none the default velocity, with SHIFT the gate;
NET morphs between the nets (each net alone at its detent, a crossfade of
the two neighbours between; :mod:`breakage_pi.core.morph`), with SHIFT its
far ends turn chance off/on. A pot picks its value up only when it passes
it, whenever what it edits changed under it.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from ..clock import SWING_RANGE, TEMPO_RANGE
from ..events import KNOBS, KnobEvent
from ..morph import detent_position, knob_position, knob_value
from ..pattern import MAX_VELOCITY
from ..takeover import picks_up
from .editing import editable_held, set_velocity
from .effects import Effect, Log
from .menu import set_chance
from .state import Instrument, Knob, with_entry

PICKUP_CATCH = 0.02
"""A pot this close (fraction of travel) to the value it must pick up takes it at once."""
ENCODER_STEP = 1 / 64
"""One encoder detent moves a value by this fraction of its range."""


def knob(state: Instrument, event: KnobEvent, effects: list[Effect]) -> Instrument:
    """A pot moved (``value``, 0-1) or an encoder turned (``delta`` detents)."""
    name = event.name
    if name not in KNOBS:
        return state
    if event.value is None:
        value = min(1.0, max(0.0, _knob_value(state, name) + event.delta * ENCODER_STEP))
        return _apply_knob(state, name, value, effects)
    current = state.knobs[name]
    position = event.value
    engaged = current.pickup is None or _picks_up(state, name, current, position)
    state = with_entry(state, "knobs", name, Knob(position, None if engaged else current.pickup))
    return _apply_knob(state, name, position, effects) if engaged else state


def _picks_up(state: Instrument, name: str, knob: Knob, position: float) -> bool:
    """Whether the pot at ``position`` now drives its value (the NET knob's far ends with SHIFT are
    absolute: chance follows them any time; it picks up anywhere in the playing net's detent)."""
    if name == "net" and state.shift:
        return True
    if name == "net" and knob_position(position, state.net_count) == state.position:
        return True                                         # anywhere in the playing net's detent
    return picks_up(knob.pickup, knob.position, position, PICKUP_CATCH)


def _knob_target(state: Instrument, name: str) -> object:
    """What knob ``name`` edits now (changes of it make the knob pick up again)."""
    if name == "velocity":
        if state.shift:
            return "gate"
        held = editable_held(state)
        return held[0] if held else "default"
    if name == "net":
        return "chance" if state.shift else "net"
    return name


def _knob_value(state: Instrument, name: str) -> float:
    """The 0-1 value of what knob ``name`` edits now."""
    target = _knob_target(state, name)
    if target == "gate":
        return state.bank.gate / MAX_VELOCITY
    if target == "default":
        return state.default_velocity / MAX_VELOCITY
    if isinstance(target, tuple):
        return state.pattern.velocity(*target) / MAX_VELOCITY
    if name == "tempo":
        return (state.bank.tempo - TEMPO_RANGE[0]) / (TEMPO_RANGE[1] - TEMPO_RANGE[0])
    if name == "swing":
        return (state.bank.swing - SWING_RANGE[0]) / (SWING_RANGE[1] - SWING_RANGE[0])
    if name == "volume":
        return state.volume
    if target == "chance":
        return 1.0 if state.bank.chance else 0.0
    return knob_value(state.position, state.net_count)


def _apply_knob(state: Instrument, name: str, value: float, effects: list[Effect]) -> Instrument:
    target = _knob_target(state, name)
    velocity = round(value * MAX_VELOCITY)
    if target == "gate":
        return replace(state, bank=state.bank.with_changes(gate=velocity))
    if target == "default":
        return replace(state, default_velocity=max(1, velocity))
    if isinstance(target, tuple):
        for pad in editable_held(state):
            state = set_velocity(state, pad, velocity)
        return replace(state, clearing=state.clearing - set(editable_held(state)))
    if name == "tempo":
        low, high = TEMPO_RANGE
        return replace(state, bank=state.bank.with_changes(tempo=round(low + value * (high - low), 1)))
    if name == "swing":
        low, high = SWING_RANGE
        return replace(state, bank=state.bank.with_changes(swing=round(low + value * (high - low), 3)))
    if name == "volume":
        return replace(state, volume=round(value, 4))
    if target == "chance":
        if value <= 0.05 and state.bank.chance or value >= 0.95 and not state.bank.chance:
            return set_chance(state, value >= 0.95, effects)
        return state
    position = knob_position(value, state.net_count)
    if position == state.position:
        return state
    detents = {detent_position(index, len(state.nets)): label for index, label in enumerate(state.nets)}
    if position in detents:
        effects.append(Log(f"net {detents[position]}"))
    return replace(state, position=position)


def retarget_knobs(old: Instrument, state: Instrument, turned: str | None) -> Instrument:
    """Soft take-over: a pot whose value changed under it (not by its own turn) must pass it again."""
    for name in KNOBS:
        if name == turned:
            continue
        before = (_knob_target(old, name), _knob_value(old, name))
        after = (_knob_target(state, name), _knob_value(state, name))
        if before != after:
            knob = state.knobs[name]
            close = knob.position is not None and abs(knob.position - after[1]) <= PICKUP_CATCH
            state = with_entry(state, "knobs", name, Knob(knob.position, None if close else after[1]))
    return state


def pick_up_all(state: Instrument) -> Instrument:
    """Every pot waits to pass the value it edits (at start: the pots are wherever they were left)."""
    knobs = {name: Knob(state.knobs[name].position, _knob_value(state, name)) for name in KNOBS}
    return replace(state, knobs=MappingProxyType(knobs))
