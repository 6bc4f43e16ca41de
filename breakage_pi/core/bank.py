"""Bank: up to 16 named pattern slots with channel roles, tempo, swing and how the net's outputs play.

Also the pure (no I/O) codec of the bank file format; reading and writing
files is :mod:`breakage_pi.store`'s job. Version 2 added ``corrections`` (the
bars the player corrected in PERFORM); a bank without corrections is still
written as version 1, so older programs keep reading it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Mapping, Sequence

from .clock import SWING_RANGE, TEMPO_RANGE
from .errors import FormatError, VersionError
from .gate import DEFAULT_GATE, DEFAULT_KNEE, check_gate, check_knee
from .pattern import CHANNELS, DEFAULT_CHANNEL_NAMES, Pattern, pattern_from_data

BANK_FORMAT = "breakage-pi/bank"
BANK_VERSION = 2
CORRECTIONS_VERSION = 2
"""The first version with ``corrections``."""
MAX_SLOTS = 16
MAX_CORRECTIONS = 16
"""The corrections a bank keeps (the SHIFT page lists them on one row); a new one beyond drops the oldest."""
ROLES = ("in", "out")
DEFAULT_ROLES = ("in", "in", "out", "out")


def _no_extra() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Slot:
    """One pattern slot: its name, whether it is in the training set, its pattern.

    ``extra`` keeps the keys of the slot's JSON object this version does not
    know (a ``"comment"``, a ``"color"``), so a save writes them back.
    """

    name: str = ""
    train: bool = False
    pattern: Pattern = field(default_factory=Pattern)
    extra: Mapping[str, Any] = field(default_factory=_no_extra, hash=False)


@dataclass(frozen=True)
class Correction:
    """A bar the player corrected in PERFORM, a training example of its own: the input rows as they were,
    the output rows as the net played them with the player's corrections.

    ``extra`` keeps the keys of its JSON object this version does not know.
    """

    pattern: Pattern = field(default_factory=Pattern)
    extra: Mapping[str, Any] = field(default_factory=_no_extra, hash=False)


@dataclass(frozen=True)
class Bank:
    """An immutable bank of 1-16 slots; edits return a new Bank.

    ``roles[c]`` is ``"in"`` if channel ``c`` feeds the net, ``"out"`` if the
    net writes it. ``swing`` is the fraction of a step pair given to the first
    step (0.5 = straight). ``gate`` is the velocity around which the net's
    outputs fade in, across a knee ``knee`` velocity units wide; ``chance`` plays uncertain outputs with a probability,
    drawn per bar from ``chance_seed`` (see :mod:`.gate`). Banks written before
    these settings load with the defaults. ``corrections`` (oldest first) are
    training examples the player made by correcting the net in PERFORM. ``extra`` keeps the file's top-level
    keys this version does not know, so a hand-edited or newer-minor file loses
    nothing when it is saved again.

    >>> bank = Bank(slots=(Slot("groove", True, Pattern()),))
    >>> bank.input_channels, bank.output_channels
    ((0, 1), (2, 3))
    """

    slots: tuple[Slot, ...] = (Slot(),)
    channels: tuple[str, ...] = DEFAULT_CHANNEL_NAMES
    roles: tuple[str, ...] = DEFAULT_ROLES
    tempo: float = 120.0
    swing: float = 0.5
    gate: int = DEFAULT_GATE
    knee: int = DEFAULT_KNEE
    chance: bool = False
    chance_seed: int = 0
    corrections: tuple[Correction, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=_no_extra, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "slots", tuple(self.slots))
        object.__setattr__(self, "corrections", tuple(self.corrections))
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "roles", tuple(self.roles))
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))
        if not 1 <= len(self.slots) <= MAX_SLOTS:
            raise FormatError(f"a bank holds 1-{MAX_SLOTS} slots, got {len(self.slots)}", "slots")
        for index, slot in enumerate(self.slots):
            if not isinstance(slot, Slot) or not isinstance(slot.pattern, Pattern):
                raise FormatError("expected a Slot holding a Pattern", f"slots[{index}]")
        if len(self.corrections) > MAX_CORRECTIONS:
            raise FormatError(f"a bank keeps at most {MAX_CORRECTIONS} corrections, got {len(self.corrections)}",
                              "corrections")
        for index, correction in enumerate(self.corrections):
            if not isinstance(correction, Correction) or not isinstance(correction.pattern, Pattern):
                raise FormatError("expected a Correction holding a Pattern", f"corrections[{index}]")
        _check_names(self.channels)
        _check_roles(self.roles)
        object.__setattr__(self, "tempo", _checked_number(self.tempo, TEMPO_RANGE, "tempo", "BPM"))
        object.__setattr__(self, "swing", _checked_number(self.swing, SWING_RANGE, "swing", ""))
        object.__setattr__(self, "gate", check_gate(self.gate))
        object.__setattr__(self, "knee", check_knee(self.knee))
        if not isinstance(self.chance, bool):
            raise FormatError(f"expected true or false, got {self.chance!r}", "chance.on")
        if isinstance(self.chance_seed, bool) or not isinstance(self.chance_seed, int) or self.chance_seed < 0:
            raise FormatError(f"expected a whole number 0 or more, got {self.chance_seed!r}", "chance.seed")

    @property
    def input_channels(self) -> tuple[int, ...]:
        return tuple(c for c, role in enumerate(self.roles) if role == "in")

    @property
    def output_channels(self) -> tuple[int, ...]:
        return tuple(c for c, role in enumerate(self.roles) if role == "out")

    @property
    def training_slots(self) -> tuple[Slot, ...]:
        return tuple(slot for slot in self.slots if slot.train)

    @property
    def training_patterns(self) -> tuple[Pattern, ...]:
        """What the nets learn from: the marked slots' patterns, then the corrections (see
        :func:`breakage_pi.ml.dataset.bank_training_set` for how a correction outranks a slot)."""
        return tuple(slot.pattern for slot in self.training_slots) + tuple(c.pattern for c in self.corrections)

    def slot(self, number: int) -> Slot:
        """The slot with 1-based ``number``, as the grid and the CLI count them."""
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(self.slots):
            raise FormatError(f"slot must be 1-{len(self.slots)}, got {number!r}", "slot")
        return self.slots[number - 1]

    def with_slot(self, number: int, slot: Slot) -> Bank:
        """A copy with slot ``number`` (1-based) replaced; number len+1 appends."""
        if not 1 <= number <= min(len(self.slots) + 1, MAX_SLOTS):
            raise FormatError(f"slot must be 1-{min(len(self.slots) + 1, MAX_SLOTS)}, got {number}", "slot")
        slots = list(self.slots)
        if number == len(slots) + 1:
            slots.append(slot)
        else:
            slots[number - 1] = slot
        return replace(self, slots=tuple(slots))

    def with_changes(self, **changes: Any) -> Bank:
        """A validated copy with fields changed, e.g. ``bank.with_changes(tempo=96.0)``."""
        return replace(self, **changes)


def _check_names(channels: Sequence[object]) -> None:
    if len(channels) != CHANNELS:
        raise FormatError(f"expected {CHANNELS} channel names, got {len(channels)}", "channels")
    for index, name in enumerate(channels):
        if not isinstance(name, str) or not name:
            raise FormatError(f"channel name must be a non-empty string, got {name!r}", f"channels[{index}]")
    if len(set(channels)) != CHANNELS:
        raise FormatError("channel names must be distinct", "channels")


def _check_roles(roles: Sequence[object]) -> None:
    if len(roles) != CHANNELS:
        raise FormatError(f"expected {CHANNELS} roles, got {len(roles)}", "roles")
    for index, role in enumerate(roles):
        if role not in ROLES:
            raise FormatError(f"role must be 'in' or 'out', got {role!r}", f"roles[{index}]")


def _checked_number(value: object, limits: tuple[float, float], name: str, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FormatError(f"expected a number, got {value!r}", name)
    low, high = limits
    if not (isinstance(value, int) or math.isfinite(value)) or not low <= value <= high:
        shown = f"{value:g}" if isinstance(value, float) or abs(value) < 10 ** 15 else repr(value)
        raise FormatError(f"must be {low:g}-{high:g}{' ' + unit if unit else ''}, got {shown}", name)
    return float(value)


def bank_to_data(bank: Bank) -> dict[str, Any]:
    """The bank as JSON-ready data, followed by the unknown keys it kept from its file: format version 2
    with its corrections, version 1 (which older programs read) when it has none."""
    data = {
        "format": BANK_FORMAT,
        "version": CORRECTIONS_VERSION if bank.corrections else 1,
        "tempo": bank.tempo,
        "swing": bank.swing,
        "channels": list(bank.channels),
        "roles": list(bank.roles),
        "gate": bank.gate,
        "knee": bank.knee,
        "chance": {"on": bank.chance, "seed": bank.chance_seed},
        "slots": [_with_extra({"name": slot.name, "train": slot.train, "steps": slot.pattern.to_lists()},
                              slot.extra)
                  for slot in bank.slots],
    }
    if bank.corrections:
        data["corrections"] = [_with_extra({"steps": correction.pattern.to_lists()}, correction.extra)
                               for correction in bank.corrections]
    return _with_extra(data, bank.extra)


def _with_extra(data: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` then the kept keys it does not define itself (a known field always wins over a kept one)."""
    return {**data, **{key: value for key, value in extra.items() if key not in data}}


def bank_from_data(data: object) -> Bank:
    """Validate decoded JSON into a Bank; a :class:`FormatError` names the field at fault."""
    if not isinstance(data, dict):
        raise FormatError(f"expected a JSON object, got {type(data).__name__}")
    if data.get("format") != BANK_FORMAT:
        raise FormatError(f"expected {BANK_FORMAT!r}, got {data.get('format')!r}", "format")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise VersionError(f"expected an integer version, got {version!r}", "version")
    if version > BANK_VERSION:
        raise VersionError(
            f"version {version} is newer than this program understands ({BANK_VERSION}); upgrade breakage-pi",
            "version",
        )
    if version < 1:
        raise VersionError(f"unknown version {version}", "version")
    for key in ("tempo", "swing", "channels", "roles", "slots"):
        if key not in data:
            raise FormatError("missing", key)
    for key in ("channels", "roles", "slots"):
        if not isinstance(data[key], list):
            raise FormatError(f"expected a list, got {type(data[key]).__name__}", key)
    if not 1 <= len(data["slots"]) <= MAX_SLOTS:
        raise FormatError(f"a bank holds 1-{MAX_SLOTS} slots, got {len(data['slots'])}", "slots")
    slots = tuple(_slot_from_data(item, f"slots[{index}]") for index, item in enumerate(data["slots"]))
    corrections = data.get("corrections", [])
    if not isinstance(corrections, list):
        raise FormatError(f"expected a list, got {type(corrections).__name__}", "corrections")
    if len(corrections) > MAX_CORRECTIONS:
        raise FormatError(f"a bank keeps at most {MAX_CORRECTIONS} corrections, got {len(corrections)}",
                          "corrections")
    chance = data.get("chance", {})
    if not isinstance(chance, dict):
        raise FormatError(f"expected an object like {{\"on\": false, \"seed\": 0}}, got {chance!r}", "chance")
    return Bank(slots=slots, channels=tuple(data["channels"]), roles=tuple(data["roles"]),
                tempo=data["tempo"], swing=data["swing"], gate=data.get("gate", DEFAULT_GATE),
                knee=data.get("knee", DEFAULT_KNEE),
                chance=chance.get("on", False), chance_seed=chance.get("seed", 0),
                corrections=tuple(_correction_from_data(item, f"corrections[{index}]")
                                  for index, item in enumerate(corrections)),
                extra=_unknown_keys(data, _known_bank_keys()))


def _correction_from_data(item: object, field: str) -> Correction:
    if not isinstance(item, dict):
        raise FormatError(f"expected an object, got {type(item).__name__}", field)
    if "steps" not in item:
        raise FormatError("missing", f"{field}.steps")
    return Correction(pattern_from_data(item["steps"], f"{field}.steps"),
                      extra=_unknown_keys(item, frozenset({"steps"})))


def _slot_from_data(item: object, field: str) -> Slot:
    if not isinstance(item, dict):
        raise FormatError(f"expected an object, got {type(item).__name__}", field)
    name = item.get("name", "")
    if not isinstance(name, str):
        raise FormatError(f"expected a string, got {name!r}", f"{field}.name")
    train = item.get("train", False)
    if not isinstance(train, bool):
        raise FormatError(f"expected true or false, got {train!r}", f"{field}.train")
    if "steps" not in item:
        raise FormatError("missing", f"{field}.steps")
    return Slot(name=name, train=train, pattern=pattern_from_data(item["steps"], f"{field}.steps"),
                extra=_unknown_keys(item, _known_slot_keys()))


def _known_bank_keys() -> frozenset[str]:
    """The top-level keys this version reads: whatever :func:`bank_to_data` writes (so new fields count)."""
    return frozenset(bank_to_data(Bank(corrections=(Correction(),))))


def _known_slot_keys() -> frozenset[str]:
    return frozenset(bank_to_data(Bank())["slots"][0])


def _unknown_keys(data: Mapping[str, Any], known: frozenset[str]) -> Mapping[str, Any]:
    return MappingProxyType({key: value for key, value in data.items() if key not in known})
