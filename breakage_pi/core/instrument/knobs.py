"""The pots and the encoder, and soft take-over.

What a knob edits depends on the state: VELOCITY sets the held pads'
velocity (0 = off), with none the default velocity, with SHIFT the gate;
NET morphs between the nets (each net alone at its detent, a crossfade of
the two neighbours between; :mod:`breakage_pi.core.morph`), with SHIFT its
far ends turn chance off/on. A pot picks its value up only when it passes
it, whenever what it edits changed under it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
REST_NOISE = 0.01
"""A pot's first reading this close to its remembered position is that position (the ADC's
quantisation and noise, not a turn): the remembered position, and every value, stay as they were."""
ENCODER_STEP = 1 / 64
"""One encoder detent moves a value by this fraction of its range (TEMPO: 1 BPM, see :data:`FINE_STEPS`)."""
NET_ENCODER_STEP = 1 / 32
"""One detent of an encoder on NET moves the morph this far: 16 detents from one net to the next of three,
landing on each net exactly."""


def knob(state: Instrument, event: KnobEvent, effects: list[Effect]) -> Instrument:
    """A pot moved (``value``, 0-1) or an encoder turned (``delta`` detents)."""
    name = event.name
    if name not in KNOBS:
        return state
    if event.value is None:
        target = _knob_target(state, name)
        if target == "net":                     # detents in morph positions: no flat detent to get stuck in
            return _set_position(state, min(1.0, max(0.0, state.position + event.delta * NET_ENCODER_STEP)), effects)
        if target == "chance":                  # a turn up turns chance on, a turn down off
            return _apply_knob(state, name, 1.0 if event.delta > 0 else 0.0, effects)
        step = FINE_STEPS["tempo"] if name == "tempo" else ENCODER_STEP
        value = min(1.0, max(0.0, _knob_value(state, name) + event.delta * step))
        return _apply_knob(state, name, value, effects)
    current = state.knobs[name]
    position = event.value
    if not current.read:
        return with_entry(state, "knobs", name, _at_rest(state, name, current, position))
    engaged = current.pickup is None or _picks_up(state, name, current, position)
    state = with_entry(state, "knobs", name, Knob(position, None if engaged else current.pickup))
    return _apply_knob(state, name, position, effects) if engaged else state


def _at_rest(state: Instrument, name: str, knob: Knob, position: float) -> Knob:
    """A pot's first reading since start: where it rests, never a change of value (its noise,
    quantisation and start-up position change nothing). It drives its value from its next move on
    if it rests on that value, else once it passes it."""
    if knob.position is not None and abs(position - knob.position) <= REST_NOISE:
        position = knob.position
    target = knob.pickup if knob.pickup is not None else _knob_value(state, name)
    if name == "net" and state.nets and not state.shift:
        on_it = knob_position(position, state.net_count) == state.position
    else:
        on_it = abs(position - target) <= PICKUP_CATCH
    return Knob(position, None if on_it else target)


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
        held = set(editable_held(state))
        return replace(state, clearing=state.clearing - held, turned=state.turned | held)
    if name == "tempo":
        low, high = TEMPO_RANGE
        return replace(state, bank=state.bank.with_changes(tempo=float(round(low + value * (high - low)))))
    if name == "swing":
        low, high = SWING_RANGE
        return replace(state, bank=state.bank.with_changes(swing=round(low + value * (high - low), 3)))
    if name == "volume":
        return replace(state, volume=round(value, 4))
    if target == "chance":
        if value <= 0.05 and state.bank.chance or value >= 0.95 and not state.bank.chance:
            return set_chance(state, value >= 0.95, effects)
        return state
    return _set_position(state, knob_position(value, state.net_count), effects)


def _set_position(state: Instrument, position: float, effects: list[Effect]) -> Instrument:
    """The NET morph at ``position``; reaching a net's detent says which net plays."""
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
            state = with_entry(state, "knobs", name, Knob(knob.position, None if close else after[1], knob.read))
    return state


def pick_up_all(state: Instrument) -> Instrument:
    """Every pot waits to pass the value it edits (at start: the pots are wherever they were left)."""
    knobs = {name: Knob(state.knobs[name].position, _knob_value(state, name), read=False) for name in KNOBS}
    return replace(state, knobs=MappingProxyType(knobs))


FINE_STEPS = MappingProxyType({"velocity": 4 / MAX_VELOCITY, "tempo": 1 / (TEMPO_RANGE[1] - TEMPO_RANGE[0]),
                               "swing": 0.01 / (SWING_RANGE[1] - SWING_RANGE[0]), "volume": 0.01, "net": 0.05})
"""A small turn of each knob, as a fraction of its travel: 4 velocity, 1 BPM, 1 % swing, 1 % volume."""
COARSE_STEPS = MappingProxyType({"velocity": 32 / MAX_VELOCITY, "tempo": 10 / (TEMPO_RANGE[1] - TEMPO_RANGE[0]),
                                 "swing": 0.05 / (SWING_RANGE[1] - SWING_RANGE[0]), "volume": 0.1, "net": 0.5})
"""A big turn: 32 velocity, 10 BPM, 5 % swing, 10 % volume, one net (the NET knob's detents are half its travel apart)."""


@dataclass(frozen=True)
class KnobReadout:
    """What a knob does now, in the player's units, for a screen.

    ``edits`` names what it edits ("default velocity", "kick step 5",
    "gate", "tempo"...), ``value`` the value in force ("112 BPM"),
    ``fraction`` that value as 0-1 of the knob's travel. ``position`` is
    where the pot is (None: an encoder); while the pot waits to pick its
    value up, ``waiting`` is where it will (0-1) and ``at`` what the pot's
    position would give ("95 BPM").
    """

    name: str
    edits: str
    value: str
    fraction: float
    position: float | None
    waiting: float | None
    at: str | None

    def line(self) -> str:
        """One line: ``tempo 112 BPM`` and, while catching up, where the knob is and where it picks up."""
        text = f"{self.edits}: velocity {self.value}" if " step " in self.edits else f"{self.edits} {self.value}"
        if self.waiting is not None and self.position is not None:
            way = "up" if self.waiting > self.position else "down"
            text += f"  knob at {self.at}: turn {way} to pick up"
        return text


def knob_readout(state: Instrument, name: str) -> KnobReadout:
    """The readout of knob ``name`` (one of :data:`~breakage_pi.core.events.KNOBS`) for ``state``."""
    target = _knob_target(state, name)
    fraction = _knob_value(state, name)
    knob = state.knobs[name]
    edits = {"gate": "gate", "default": "velocity", "chance": "chance"}.get(target, name) \
        if not isinstance(target, tuple) else f"{state.bank.channels[target[0]]} step {target[1] + 1}"
    # not before the pot's first reading (it may rest on the value), never for chance (its far ends)
    waiting = knob.pickup if knob.position is not None and knob.read and target != "chance" else None
    at = None if waiting is None or knob.position is None else _in_units(state, name, target, knob.position)
    return KnobReadout(name, edits, _in_units(state, name, target, fraction), fraction, knob.position, waiting, at)


def _in_units(state: Instrument, name: str, target: object, fraction: float) -> str:
    """``fraction`` (0-1 of knob ``name``'s travel, editing ``target``) in the player's units."""
    if target in ("gate", "default") or isinstance(target, tuple):
        return str(round(fraction * MAX_VELOCITY))
    if name == "tempo":
        low, high = TEMPO_RANGE
        return f"{round(low + fraction * (high - low))} BPM"
    if name == "swing":
        low, high = SWING_RANGE
        return f"{(low + fraction * (high - low)) * 100:.0f}%"
    if name == "volume":
        return f"{fraction * 100:.0f}%"
    if target == "chance":
        return "on" if fraction >= 0.95 else "off" if fraction <= 0.05 else "(far ends: off / on)"
    if not state.nets:
        return "none (train first)"
    return replace(state, position=knob_position(fraction, state.net_count)).net_blend
