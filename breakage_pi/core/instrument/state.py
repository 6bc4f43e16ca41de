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

from ..bank import Bank, Correction
from ..events import KNOBS
from ..gate import gated, uncertain
from ..morph import morph_weights
from ..pages import NET_LABELS
from ..pattern import CHANNELS, STEPS, Pattern
from ..playstate import UNMUTED, Hit, PlayState

EDIT, PERFORM = "edit", "perform"
MODES = (EDIT, PERFORM)
LEARN_AUTO, LEARN_ON_TRAIN = "auto", "on-train"
"""Whether corrections retrain the nets in the background (``[nets] learn`` in the config) or wait for TRAIN."""
NOTES_PLAY, NOTES_RECORD, NOTES_OFF = "play", "record", "off"
NOTE_MODES = (NOTES_PLAY, NOTES_RECORD, NOTES_OFF)
"""What a drum note on MIDI in does (``[midi] input``): sound only, sound and write the step, nothing."""
DEFAULT_VELOCITY = 200
DEFAULT_VOLUME = 0.8


@dataclass(frozen=True)
class Knob:
    """A pot's last position and, while it waits to pick its value up, the value (0-1) it must pass.

    ``read`` says whether a reading has come since start: the first one only
    says where the pot rests (it changes no value, see ``knobs.knob``).
    """

    position: float | None = None
    pickup: float | None = None
    read: bool = True


@dataclass(frozen=True)
class Training:
    """A training run in progress: when it started, how many targets, the first and latest error.

    ``background`` is a retrain that learns the player's corrections while
    PERFORM goes on (the grid keeps showing the steps, pads keep playing);
    ``corrections`` are those it learns.
    """

    started: float
    background: bool = False
    corrections: tuple[Correction, ...] = ()
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


@dataclass(frozen=True)
class CorrectionTally:
    """What the player changed in the bank's corrections since the instrument started (a take counts its own as
    the difference): corrections ``made`` (one amending the same bar's earlier one is one made), ``removed``
    from the list, and changes ``undone``.

    >>> CorrectionTally(made=3, undone=1).since(CorrectionTally(made=1))
    CorrectionTally(made=2, removed=0, undone=1)
    """

    made: int = 0
    removed: int = 0
    undone: int = 0

    def since(self, earlier: CorrectionTally) -> CorrectionTally:
        return CorrectionTally(self.made - earlier.made, self.removed - earlier.removed, self.undone - earlier.undone)


def _no_knobs() -> Mapping[str, Knob]:
    return MappingProxyType({name: Knob() for name in KNOBS})


@dataclass(frozen=True, eq=False)
class Instrument:
    """Everything the player can change, and what the control side knows of the engine and nets.

    ``slot`` and ``queued`` are 0-based slot indexes. ``position`` is where
    the NET knob morphs between the nets present (``nets``, loose to tight):
    0 loose, 1 tight, each net at its evenly spaced detent. The gate, knee and
    chance are the bank's settings (``bank.gate``, ``bank.knee``,
    ``bank.chance``). ``unlearnt`` are corrections the nets have not learnt
    yet: where the inputs are theirs they play as corrected. ``undo`` holds the
    bank's earlier corrections, latest last; ``learn_at`` is when the nets
    retrain to learn them (with ``learn`` auto); ``tally`` counts the player's
    changes to them (:class:`CorrectionTally`).
    ``notes`` is what a note on MIDI in does (:data:`NOTE_MODES`); ``hits`` are
    the newest one-shot hits it played, numbered up to ``hit_serial``.
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
    position: float = 0.5
    nets: tuple[str, ...] = ()
    net_roles: tuple[str, ...] = ()
    kits: tuple[str, ...] = ()
    kit: str | None = None
    held: tuple[tuple[int, int], ...] = ()
    clearing: frozenset[tuple[int, int]] = frozenset()
    turned: frozenset[tuple[int, int]] = frozenset()
    slot_held: int | None = None
    train_pressed_at: float | None = None
    training: Training | None = None
    recording: bool = False
    learn: str = LEARN_AUTO
    learn_at: float | None = None
    unlearnt: tuple[Pattern, ...] = ()
    undo: tuple[tuple[Correction, ...], ...] = ()
    tally: CorrectionTally = CorrectionTally()
    listing: bool = False
    knobs: Mapping[str, Knob] = field(default_factory=_no_knobs)
    net_out: Mapping[int, tuple[tuple[float, bytes], np.ndarray]] = field(
        default_factory=lambda: MappingProxyType({}))
    net_pending: Mapping[int, tuple[float, bytes]] = field(default_factory=lambda: MappingProxyType({}))
    flashes: Mapping[int, float] = field(default_factory=lambda: MappingProxyType({}))
    playhead: int = -1
    bar: int = 0
    switch_seen: int = 0
    now: float = 0.0
    dirty_at: float | None = None
    sent: PlayState | None = None
    frame: np.ndarray | None = None
    frame_at: float = -math.inf
    notes: str = NOTES_RECORD
    hits: tuple[Hit, ...] = ()
    hit_serial: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.learn not in (LEARN_AUTO, LEARN_ON_TRAIN):
            raise ValueError(f"learn must be {LEARN_AUTO!r} or {LEARN_ON_TRAIN!r}, got {self.learn!r}")
        if self.notes not in NOTE_MODES:
            raise ValueError(f"notes must be one of {NOTE_MODES}, got {self.notes!r}")

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
    def net_count(self) -> int:
        """How many nets the NET knob spans: those present, or before any the three a training makes."""
        return len(self.nets) or len(NET_LABELS)

    @property
    def weights(self) -> tuple[tuple[int, float], ...]:
        """The nets (index loose to tight) the NET knob plays now and their shares, which sum to 1."""
        return morph_weights(self.position, self.net_count)

    @property
    def net(self) -> int:
        """The net nearest the NET knob (the one it plays alone at its detent)."""
        return max(self.weights, key=lambda weight: weight[1])[0]

    @property
    def input_rows(self) -> tuple[int, ...]:
        """Rows the player writes and MIDI notes play: the inputs of the nets playing in PERFORM, else the
        bank's."""
        roles = self.net_roles if self.output_rows else self.bank.roles
        return tuple(c for c, role in enumerate(roles) if role == "in")

    @property
    def net_label(self) -> str:
        """The nearest net's name ("none" without nets)."""
        return self.nets[self.net] if self.nets else "none"

    @property
    def net_blend(self) -> str:
        """What the NET knob plays, in words: "medium", or "70% medium + 30% tight" between detents."""
        if not self.nets:
            return "none"
        weights = self.weights
        if len(weights) == 1:
            return self.nets[weights[0][0]]
        return " + ".join(f"{weight:.0%} {self.nets[index]}" for index, weight in weights)

    def correction_for(self, pattern: Pattern) -> Pattern | None:
        """The unlearnt correction made for ``pattern``'s inputs, if any (see :attr:`unlearnt`)."""
        inputs = [c for c, role in enumerate(self.net_roles) if role == "in"]
        for corrected in reversed(self.unlearnt):
            if np.array_equal(corrected.velocities[inputs], pattern.velocities[inputs]):
                return corrected
        return None

    def played(self, slot: int, bar: int | None = None, chance: bool | None = None) -> tuple[Pattern, np.ndarray]:
        """What slot ``slot`` plays in ``bar`` (default: this bar) and which of its steps are chance
        steps (a (4, 16) bool mask). In PERFORM the net's rows are the nets' outputs blended at the NET
        knob's position, through the gate's knee (and ``chance``, by default the bank's), or an unlearnt
        correction of these inputs."""
        pattern = self.bank.slots[slot].pattern
        chancy = np.zeros((CHANNELS, STEPS), dtype=bool)
        rows = list(self.output_rows)
        answer = self.net_out.get(slot)
        if not rows or answer is None:
            return pattern, chancy
        grid = pattern.velocities.copy()
        corrected = self.correction_for(pattern)
        if corrected is not None:
            grid[rows] = corrected.velocities[rows]
            return Pattern(grid), chancy
        outputs = answer[1]
        bank = self.bank
        chance = bank.chance if chance is None else chance
        grid[rows] = gated(outputs, bank.gate, chance, bank.chance_seed, self.bar if bar is None else bar,
                           bank.knee)
        if chance:
            chancy[rows] = uncertain(outputs, bank.gate)
        return Pattern(grid), chancy

    def summary(self) -> str:
        """One line for a screen: mode, slot, net, transport, tempo and the rest."""
        queued = f" -> {self.queued + 1}" if self.queued is not None else ""
        chain = f" chain {'-'.join(str(s + 1) for s in self.chain)}" if self.chain else ""
        training = "" if self.training is None else "  LEARNING" if self.training.background else "  TRAINING"
        return (f"{self.mode.upper()}  slot {self.slot + 1}{queued}{chain}  net {self.net_blend}"
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
                         self.playing, queued=queued, queue_token=self.queue_token, hits=self.hits)


def persisted(state: Instrument) -> tuple[object, ...]:
    """The settings saved beside the bank (a change of them, like an edit of the bank, is saved)."""
    return state.slot, state.mode, state.position, state.volume, state.default_velocity, state.mutes, state.kit


def with_entry(state: Instrument, name: str, key: object, value: object) -> Instrument:
    """``state`` with entry ``key`` of its mapping field ``name`` set to ``value`` (None: removed)."""
    mapping = dict(getattr(state, name))
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value
    return replace(state, **{name: MappingProxyType(mapping)})
