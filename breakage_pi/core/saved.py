"""``state.json``: what the instrument remembers beside the bank (pure codec, version 1).

The selected slot (1-based, as players count), mode, net and NET knob position, knob positions,
mutes, volume, default velocity and kit (the gate and chance are the bank's). Reading and writing
the file is :mod:`breakage_pi.store`'s; a value out of range is a
:class:`FormatError` naming the field.

>>> data = saved_to_data(Instrument(Bank()))
>>> data["slot"], data["mode"]
(1, 'edit')
>>> restore(Instrument(Bank()), {**data, "volume": 0.5}).volume
0.5
"""

from __future__ import annotations

import math
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from .bank import Bank
from .errors import FormatError, VersionError
from .events import KNOBS
from .instrument import MODES, Instrument, Knob
from .morph import detent_position
from .pattern import CHANNELS, MAX_VELOCITY

STATE_FORMAT = "breakage-pi/state"
STATE_VERSION = 1


def saved_to_data(state: Instrument) -> dict[str, Any]:
    """The part of ``state`` that survives a restart, as JSON-ready data."""
    return {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "slot": state.slot + 1,
        "mode": state.mode,
        "net": state.net_label if state.nets else None,
        "net_position": state.position,
        "volume": state.volume,
        "default_velocity": state.default_velocity,
        "mutes": list(state.mutes),
        "kit": state.kit,
        "knobs": {name: knob.position for name, knob in state.knobs.items() if knob.position is not None},
    }


def restore(state: Instrument, data: object) -> Instrument:
    """``state`` with the remembered settings of ``data`` applied (nets and kits must already be known)."""
    if not isinstance(data, dict):
        raise FormatError(f"expected a JSON object, got {type(data).__name__}")
    if data.get("format") != STATE_FORMAT:
        raise FormatError(f"expected {STATE_FORMAT!r}, got {data.get('format')!r}", "format")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise VersionError(f"expected a positive integer version, got {version!r}", "version")
    if version > STATE_VERSION:
        raise VersionError(f"version {version} is newer than this program understands ({STATE_VERSION})", "version")
    bank: Bank = state.bank
    slot = _integer(data.get("slot", 1), 1, len(bank.slots), "slot") - 1
    mode = data.get("mode", state.mode)
    if mode not in MODES:
        raise FormatError(f"must be one of {', '.join(MODES)}, got {mode!r}", "mode")
    position = state.position
    if "net_position" in data:
        position = _number(data["net_position"], 0.0, 1.0, "net_position")
    elif data.get("net") in state.nets:                     # written before the NET knob morphed
        position = detent_position(state.nets.index(data["net"]), len(state.nets))
    mutes = data.get("mutes", list(state.mutes))
    if not isinstance(mutes, list) or len(mutes) != CHANNELS or not all(isinstance(m, bool) for m in mutes):
        raise FormatError(f"expected {CHANNELS} true/false values, got {mutes!r}", "mutes")
    kit = data.get("kit", state.kit)
    knobs = data.get("knobs", {})
    if not isinstance(knobs, dict):
        raise FormatError(f"expected an object, got {knobs!r}", "knobs")
    positions = dict(state.knobs)
    for name, position in knobs.items():
        if name not in KNOBS:
            raise FormatError(f"unknown knob (known: {', '.join(KNOBS)})", f"knobs.{name}")
        positions[name] = Knob(_number(position, 0.0, 1.0, f"knobs.{name}"), None)
    return replace(
        state, slot=slot, mode=mode, position=position, mutes=tuple(mutes),
        volume=_number(data.get("volume", state.volume), 0.0, 1.0, "volume"),
        default_velocity=_integer(data.get("default_velocity", state.default_velocity), 1, MAX_VELOCITY,
                                  "default_velocity"),
        kit=kit if kit in state.kits else None, knobs=MappingProxyType(positions))


def _integer(value: object, low: int, high: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FormatError(f"must be an integer {low}-{high}, got {value!r}", name)
    return value


def _number(value: object, low: float, high: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise FormatError(f"must be a number {low:g}-{high:g}, got {value!r}", name)
    return float(value)
