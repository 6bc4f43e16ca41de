"""What arrives from the host: a followed MIDI clock, a bank pushed over USB sync, the kits present."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from ..bank import Bank
from ..clock import TEMPO_RANGE
from ..events import ButtonEvent
from .effects import Effect, Log, SelectKit
from .inputs import ExternalClock
from .state import Instrument
from .transport import button


def external_clock(state: Instrument, event: ExternalClock, effects: list[Effect]) -> Instrument:
    """Follow a DAW: its tempo becomes the bank's (the TEMPO knob must pass it again to take over), its
    Start and Stop act as PLAY does."""
    if event.tempo is not None and event.tempo != state.bank.tempo:
        low, high = TEMPO_RANGE
        state = replace(state, bank=state.bank.with_changes(tempo=round(min(max(event.tempo, low), high), 1)))
    if event.transport is not None and (event.transport == "start") != state.playing:
        state = button(state, ButtonEvent("play", "pressed", event.time), effects)
    return state


def bank_loaded(state: Instrument, bank: Bank, effects: list[Effect]) -> Instrument:
    """Play ``bank`` from now on: the same slot number (the last one if it has fewer), queue and chain
    kept where their slots exist; held pads, the nets' answers for the old patterns and the old bank's
    correction history dropped (its corrections are the new bank's)."""
    count = len(bank.slots)
    queued = state.queued if state.queued is not None and state.queued < count else None
    effects.append(Log(f"bank reloaded: {count} slot(s), {bank.tempo:g} BPM"))
    return replace(state, bank=bank, slot=min(state.slot, count - 1), queued=queued,
                   chain=tuple(slot for slot in state.chain if slot < count), held=(), clearing=frozenset(),
                   slot_held=None, net_out=MappingProxyType({}), net_pending=MappingProxyType({}),
                   undo=(), unlearnt=(), listing=False)


def kits_found(state: Instrument, kits: tuple[str, ...], effects: list[Effect]) -> Instrument:
    """Offer ``kits`` on the SHIFT page; a kit playing that is gone gives way to the built-in one."""
    if state.kit is not None and state.kit not in kits:
        effects.append(SelectKit(None))
        effects.append(Log(f"kit {state.kit} is gone; playing the built-in kit"))
        state = replace(state, kit=None)
    return replace(state, kits=tuple(kits))
