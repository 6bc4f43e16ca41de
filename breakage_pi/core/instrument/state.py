"""The instrument's state: one immutable :class:`Instrument` holding everything the player can change.

Also what the control side knows of the engine and the nets, the pots'
take-over state (:class:`Knob`), a training run's progress
(:class:`Training`), and :func:`persisted`: the part of the state beyond the
bank that is saved with it (a change of it makes the state dirty).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

import numpy as np

from ..bank import Bank
from ..events import KNOBS
from ..gate import gated, uncertain
from ..pattern import CHANNELS, STEPS, Pattern
from ..playstate import UNMUTED, PlayState

EDIT, PERFORM = "edit", "perform"
MODES = (EDIT, PERFORM)
DEFAULT_VELOCITY = 200
DEFAULT_VOLUME = 0.8


@dataclass(frozen=True)
class Knob:
    """A pot's last position and, while it waits to pick its value up, the value (0-1) it must pass."""

    position: float | None = None
    pickup: float | None = None


@dataclass(frozen=True)
class Training:
    """A training run in progress: when it started, how many targets, the first and latest error."""

    started: float
    targets: tuple[float, ...] = ()
    epoch: int = 0
    first_error: float | None = None
    error: float | None = None

    @property
    def progress(self) -> float:
        """0-1: the error's way down (log scale) from the first error to the tightest target."""
        if self.first_error is None or self.error is None or not self.targets:
            return 0.0
        return _log_fraction(self.first_error, self.error, self.targets[-1])

    def remaining(self, index: int) -> float:
        """0-1: how far net ``index``'s error still is from its target (1 at the start, 0 reached)."""
        if self.first_error is None or self.error is None or index >= len(self.targets):
            return 1.0
        return 1.0 - _log_fraction(self.first_error, self.error, self.targets[index])


def _log_fraction(first: float, now: float, target: float) -> float:
    if now <= target:
        return 1.0
    if first <= target:
        return 0.0
    return min(1.0, max(0.0, math.log(first / now) / math.log(first / target)))


def _no_knobs() -> Mapping[str, Knob]:
    return MappingProxyType({name: Knob() for name in KNOBS})


@dataclass(frozen=True, eq=False)
class Instrument:
    """Everything the player can change, and what the control side knows of the engine and nets.

    ``slot`` and ``queued`` are 0-based slot indexes; ``net`` indexes the
    nets present (``nets``, loose to tight). The gate and chance are the
    bank's settings (``bank.gate``, ``bank.chance``).
    """

    bank: Bank
    slot: int = 0
    queued: int | None = None
    chain: tuple[int, ...] = ()
    queue_token: int = 0
    mode: str = EDIT
    shift: bool = False
    playing: bool = False
    volume: float = DEFAULT_VOLUME
    default_velocity: int = DEFAULT_VELOCITY
    mutes: tuple[bool, ...] = UNMUTED
    net: int = 1
    nets: tuple[str, ...] = ()
    net_roles: tuple[str, ...] = ()
    kits: tuple[str, ...] = ()
    kit: str | None = None
    held: tuple[tuple[int, int], ...] = ()
    clearing: frozenset[tuple[int, int]] = frozenset()
    slot_held: int | None = None
    train_pressed_at: float | None = None
    training: Training | None = None
    recording: bool = False
    knobs: Mapping[str, Knob] = field(default_factory=_no_knobs)
    net_out: Mapping[int, tuple[tuple[int, bytes], Pattern]] = field(default_factory=lambda: MappingProxyType({}))
    net_pending: Mapping[int, tuple[int, bytes]] = field(default_factory=lambda: MappingProxyType({}))
    flashes: Mapping[int, float] = field(default_factory=lambda: MappingProxyType({}))
    playhead: int = -1
    bar: int = 0
    switch_seen: int = 0
    now: float = 0.0
    dirty_at: float | None = None
    sent: PlayState | None = None
    frame: np.ndarray | None = None
    frame_at: float = -math.inf

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")

    # -- what the rest of the program reads ----------------------------------------------------

    @property
    def pattern(self) -> Pattern:
        """The playing slot's pattern as written."""
        return self.bank.slots[self.slot].pattern

    @property
    def output_rows(self) -> tuple[int, ...]:
        """Rows the net writes in PERFORM (the nets' own roles; none without nets or in EDIT)."""
        if self.mode != PERFORM or not self.nets:
            return ()
        return tuple(c for c, role in enumerate(self.net_roles) if role == "out")

    @property
    def net_label(self) -> str:
        return self.nets[self.net] if self.nets else "none"

    def played(self, slot: int, bar: int | None = None) -> tuple[Pattern, np.ndarray]:
        """What slot ``slot`` plays in ``bar`` (default: this bar) and which of its steps are chance
        steps (a (4, 16) bool mask)."""
        pattern = self.bank.slots[slot].pattern
        chancy = np.zeros((CHANNELS, STEPS), dtype=bool)
        rows = self.output_rows
        answer = self.net_out.get(slot)
        if not rows or answer is None:
            return pattern, chancy
        grid = pattern.velocities.copy()
        outputs = answer[1].velocities[list(rows)]
        bank = self.bank
        grid[list(rows)] = gated(outputs, bank.gate, bank.chance, bank.chance_seed,
                                 self.bar if bar is None else bar)
        if bank.chance:
            chancy[list(rows)] = uncertain(outputs, bank.gate)
        return Pattern(grid), chancy

    def summary(self) -> str:
        """One line for a screen: mode, slot, net, transport, tempo and the rest."""
        queued = f" -> {self.queued + 1}" if self.queued is not None else ""
        chain = f" chain {'-'.join(str(s + 1) for s in self.chain)}" if self.chain else ""
        training = "  TRAINING" if self.training is not None else ""
        return (f"{self.mode.upper()}  slot {self.slot + 1}{queued}{chain}  net {self.net_label}"
                f"{' chance' if self.bank.chance else ''}  {'PLAYING' if self.playing else 'stopped'}  "
                f"{self.bank.tempo:g} BPM  swing {self.bank.swing:g}  volume {self.volume:.2f}  "
                f"velocity {self.default_velocity}  gate {self.bank.gate}{training}")

    def upcoming(self) -> int | None:
        """The slot whose next bar the engine must switch to at the bar line: a queued slot, or with
        chance on the playing slot itself (its next bar's draw), so every bar line is exact."""
        if not self.playing:
            return None
        if self.queued is not None:
            return self.queued
        return self.slot if self.bank.chance and self.output_rows else None

    def play_state(self) -> PlayState:
        """The snapshot the engine should be playing."""
        upcoming = self.upcoming()
        queued = None if upcoming is None else self.played(upcoming, self.bar + 1)[0]
        return PlayState(self.played(self.slot)[0], self.bank.tempo, self.bank.swing, self.mutes, self.volume,
                         self.playing, queued=queued, queue_token=self.queue_token)


def persisted(state: Instrument) -> tuple[object, ...]:
    """The settings saved beside the bank (a change of them, like an edit of the bank, is saved)."""
    return state.slot, state.mode, state.net, state.volume, state.default_velocity, state.mutes, state.kit


def with_entry(state: Instrument, name: str, key: object, value: object) -> Instrument:
    """``state`` with entry ``key`` of its mapping field ``name`` set to ``value`` (None: removed)."""
    mapping = dict(getattr(state, name))
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value
    return replace(state, **{name: MappingProxyType(mapping)})
