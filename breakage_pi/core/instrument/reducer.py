"""The instrument's state machine: ``step(state, event) -> (state, effects)``, pure.

Everything the player can change lives in one immutable :class:`Instrument`;
every input (a pad, a button, a knob, the engine's playhead, a net's answer,
training progress) is an event, and :func:`step` returns the new state and
the *effects* the outside must carry out: a new :class:`PlayState` for the
engine (:class:`Play`), a new LED frame (:class:`Leds`), "run the net"
(:class:`RunNet`, answered with a :class:`NetResult` event), "start/abort
training", "save", a log line. Time arrives in the events (seconds on the
caller's clock: audio time in scripted sessions); nothing here reads a clock.

The interaction is DESIGN §2's (see the README's cheat sheet):

- EDIT: pressing an empty pad adds a hit at the default velocity at once;
  pressing a lit pad clears it on release, unless VELOCITY was turned while
  it was held (the Elektron convention: hold to edit, tap to toggle). With
  pads held VELOCITY sets their velocity live (0 = off), with none it sets
  the default velocity.
- SHIFT held: the grid is the menu (slots, training marks, roles, mutes,
  kits, nets, copy, save, TRAIN held 1 s); VELOCITY sets the gate; the NET
  knob's far ends turn chance off/on.
- PERFORM: input rows edit as in EDIT; output rows are the net's, gated,
  recomputed whenever an input velocity changes.
- Slots queue for the next bar line (sample-exact in the engine); holding a
  slot and tapping another chains the range.
- Pots pick a value up only when they pass it (soft take-over) whenever
  what they edit changes under them.

>>> state = Instrument(Bank())
>>> state, effects = step(state, PadEvent(0, 4, True, time=0.5))
>>> state.bank.slots[0].pattern.velocity(0, 4)
200
>>> [type(effect).__name__ for effect in effects]     # the LEDs follow on the next Tick
['Log', 'Play']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping, Union

import numpy as np

from .bank import MAX_SLOTS, Bank, Slot
from .clock import SWING_RANGE, TEMPO_RANGE
from .events import KNOBS, ButtonEvent, DeviceStatus, KnobEvent, PadEvent
from .gate import gated, uncertain
from .leds import render_frame
from .pages import (CHANCE_COLUMN, COPY_COLUMN, EDIT_COLUMN, KIT_COLUMNS, MUTE_COLUMNS, NET_COLUMNS, PERFORM_COLUMN,
                    ROLE_COLUMNS, ROW_CHANNELS, ROW_MARKS, ROW_SLOTS, ROW_SYSTEM, SAVE_COLUMN, TRAIN_COLUMN)
from .pattern import CHANNELS, MAX_VELOCITY, STEPS, Pattern
from .playstate import UNMUTED, PlayState
from .takeover import picks_up

EDIT, PERFORM = "edit", "perform"
MODES = (EDIT, PERFORM)
DEFAULT_VELOCITY = 200
DEFAULT_VOLUME = 0.8
TRAIN_HOLD_S = 1.0
"""TRAIN starts after its pad has been held this long (seconds)."""
SAVE_DELAY_S = 2.0
"""Edits are saved this long after the last one (seconds): a knob sweep is one save, not a hundred."""
FLASH_S = 0.15
"""How long a net-written row flashes when pressed in PERFORM (seconds)."""
PICKUP_CATCH = 0.02
"""A pot this close (fraction of travel) to the value it must pick up takes it at once."""
FRAME_INTERVAL_S = 1 / 60
"""On ticks alone the LEDs are redrawn at most this often (blinking, shimmer); any change redraws at once."""
ENCODER_STEP = 1 / 64
"""One encoder detent moves a value by this fraction of its range."""

# -- events the control loop adds to the hardware's -------------------------------------------

@dataclass(frozen=True)
class Tick:
    """The control loop's heartbeat: the time, and the engine's playhead column (-1 stopped)
    and last bar-line switch token, read from its status board."""

    time: float
    step: int = -1
    switched: int = 0


@dataclass(frozen=True)
class NetsLoaded:
    """The nets now present, loose to tight (``labels`` such as "loose", "medium", "tight"),
    and the channel roles they were trained with."""

    labels: tuple[str, ...]
    roles: tuple[str, ...]
    time: float = 0.0


@dataclass(frozen=True)
class NetResult:
    """The answer to a :class:`RunNet`: ``pattern`` with its output rows written by the net (ungated)."""

    request: RunNet
    pattern: Pattern
    time: float = 0.0


@dataclass(frozen=True)
class TrainingStarted:
    """The training process started, aiming at ``targets`` (error targets, loose to tight)."""

    targets: tuple[float, ...]
    time: float = 0.0


@dataclass(frozen=True)
class TrainingProgress:
    """Training reached ``epoch`` with ``error`` (MSE on 0-1 velocities)."""

    epoch: int
    error: float
    time: float = 0.0


@dataclass(frozen=True)
class TrainingFinished:
    """Training ended. On success the new nets (``labels``, ``roles``) already replaced the old."""

    succeeded: bool
    detail: str
    labels: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    time: float = 0.0


@dataclass(frozen=True)
class BankLoaded:
    """A new ``bank.json`` arrived (pushed over USB sync): it replaces the bank playing, at once."""

    bank: Bank
    time: float = 0.0


@dataclass(frozen=True)
class KitsFound:
    """The playable kits in ``kits/`` changed (a kit pushed or deleted over USB sync)."""

    kits: tuple[str, ...]
    time: float = 0.0


@dataclass(frozen=True)
class ExternalClock:
    """What a followed MIDI clock says (``[midi] follow_clock``): a new ``tempo`` (BPM) and/or the
    ``transport`` ("start" or "stop"); None where nothing changed."""

    tempo: float | None = None
    transport: str | None = None
    time: float = 0.0


Event = Union[PadEvent, ButtonEvent, KnobEvent, DeviceStatus, Tick, NetsLoaded, NetResult, TrainingStarted,
              TrainingProgress, TrainingFinished, BankLoaded, KitsFound, ExternalClock]


# -- effects -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Play:
    """Hand this snapshot to the engine."""

    state: PlayState


@dataclass(frozen=True, eq=False)
class Leds:
    """Show this (4, 16, 3) uint8 frame on the grid."""

    frame: np.ndarray


@dataclass(frozen=True)
class RunNet:
    """Run net ``net`` (index, loose to tight) on ``pattern`` (slot ``slot``'s) and answer with a NetResult."""

    slot: int
    net: int
    pattern: Pattern

    @property
    def key(self) -> tuple[int, bytes]:
        return self.net, self.pattern.velocities.tobytes()


@dataclass(frozen=True)
class StartTraining:
    """Train new nets on ``bank``'s marked slots, in the training process."""

    bank: Bank


@dataclass(frozen=True)
class AbortTraining:
    """Stop training and keep the old nets."""


@dataclass(frozen=True)
class Save:
    """Write the bank and the instrument's settings (``reason`` for the log)."""

    reason: str


@dataclass(frozen=True)
class SelectKit:
    """Play kit ``name`` from ``kits/`` (None: the built-in kit)."""

    name: str | None


@dataclass(frozen=True)
class Log:
    """One line for the log."""

    message: str


Effect = Union[Play, Leds, RunNet, StartTraining, AbortTraining, Save, SelectKit, Log]


# -- the state ---------------------------------------------------------------------------------

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


# -- the transition function ------------------------------------------------------------------

def step(state: Instrument, event: Event) -> tuple[Instrument, tuple[Effect, ...]]:
    """The new state after ``event`` and what the outside must do about it."""
    old = state
    time = getattr(event, "time", state.now)
    state = replace(state, now=max(state.now, time))
    effects: list[Effect] = []
    if isinstance(event, PadEvent):
        state = _pad(state, event, effects)
    elif isinstance(event, ButtonEvent):
        state = _button(state, event, effects)
    elif isinstance(event, KnobEvent):
        state = _knob(state, event, effects)
    elif isinstance(event, Tick):
        state = _tick(state, event, effects)
    elif isinstance(event, NetResult):
        state = _with(state, "net_out", event.request.slot, (event.request.key, event.pattern))
        state = _with(state, "net_pending", event.request.slot, None)
    elif isinstance(event, NetsLoaded):
        state = _nets_loaded(state, event.labels, event.roles)
    elif isinstance(event, TrainingStarted):
        if state.training is not None:
            state = replace(state, training=replace(state.training, targets=event.targets))
    elif isinstance(event, TrainingProgress):
        state = _training_progress(state, event)
    elif isinstance(event, TrainingFinished):
        state = _training_finished(state, event, effects)
    elif isinstance(event, BankLoaded):
        state = _bank_loaded(state, event.bank, effects)
    elif isinstance(event, KitsFound):
        state = _kits_found(state, event.kits, effects)
    elif isinstance(event, ExternalClock):
        state = _external_clock(state, event, effects)
    elif isinstance(event, DeviceStatus):
        pass  # the hardware layer has logged it; nothing on the grid changes
    return _consequences(old, state, event, effects)


def _consequences(old: Instrument, state: Instrument, event: Event,
                  effects: list[Effect]) -> tuple[Instrument, tuple[Effect, ...]]:
    """What every transition implies: pick-ups, net requests, saving, the engine's snapshot, the LEDs.

    The LEDs are drawn on the next :class:`Tick` (the control loop ticks
    after handling its events, once it has handed the engine its snapshot:
    drawing never delays the sound). A tick that changed nothing but the time
    (the common case: the loop ticks every block) costs little: the snapshot
    is rebuilt only when the playhead, bar or state moved, and the LEDs at
    most every :data:`FRAME_INTERVAL_S` for blinking.
    """
    quiet = isinstance(event, Tick) and not effects and _settled(old, state)
    if not quiet:
        state = _retarget_knobs(old, state, event.name if isinstance(event, KnobEvent) else None)
        state = _request_nets(state, effects)
        if old.bank is not state.bank or _persisted(old) != _persisted(state):
            state = replace(state, dirty_at=state.now)
    if not quiet or state.bar != old.bar:
        if state.upcoming() is not None and state.queue_token == state.switch_seen:
            state = replace(state, queue_token=state.queue_token + 1)     # a fresh request for the bar line
        play = state.play_state()
        if play != state.sent:
            state = replace(state, sent=play)
            effects.append(Play(play))
    if not isinstance(event, Tick):
        return (state if state.frame_at == -math.inf else replace(state, frame_at=-math.inf)), tuple(effects)
    if not quiet or state.playhead != old.playhead or state.now - state.frame_at >= FRAME_INTERVAL_S:
        frame = render_frame(state)
        if state.frame is None or not np.array_equal(frame, state.frame):
            state = replace(state, frame=frame, frame_at=state.now)
            effects.append(Leds(frame))
        else:
            state = replace(state, frame_at=state.now)
    return state, tuple(effects)


def _settled(old: Instrument, state: Instrument) -> bool:
    """Whether a tick left everything but the time, playhead and bar as it was."""
    return (old.bank is state.bank and old.slot == state.slot and old.queued == state.queued
            and old.queue_token == state.queue_token and old.training is state.training
            and old.train_pressed_at == state.train_pressed_at and old.flashes is state.flashes
            and old.dirty_at == state.dirty_at)


def _persisted(state: Instrument) -> tuple[object, ...]:
    return state.slot, state.mode, state.net, state.volume, state.default_velocity, state.mutes, state.kit


def _with(state: Instrument, name: str, key: object, value: object) -> Instrument:
    mapping = dict(getattr(state, name))
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value
    return replace(state, **{name: MappingProxyType(mapping)})


# -- pads --------------------------------------------------------------------------------------

def _pad(state: Instrument, event: PadEvent, effects: list[Effect]) -> Instrument:
    pad = (event.row, event.column)
    if state.training is not None:
        if event.pressed:
            effects.append(AbortTraining())
            effects.append(Log("training aborted from the grid; keeping the old nets"))
            return replace(state, training=None)
        return state
    if not event.pressed:
        return _pad_released(state, pad, effects)
    if state.shift:
        return _menu(state, pad, effects)
    if event.row in state.output_rows:
        return _with(state, "flashes", event.row, state.now + FLASH_S)
    velocity = state.pattern.velocity(*pad)
    state = replace(state, held=state.held + (pad,))
    if velocity:
        return replace(state, clearing=state.clearing | {pad})
    effects.append(Log(f"{_step_name(state, pad)}: {state.default_velocity}"))
    return _set_velocity(state, pad, state.default_velocity)


def _step_name(state: Instrument, pad: tuple[int, int]) -> str:
    return f"slot {state.slot + 1} {state.bank.channels[pad[0]]} step {pad[1] + 1}"


def _pad_released(state: Instrument, pad: tuple[int, int], effects: list[Effect]) -> Instrument:
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
    return _set_velocity(state, pad, 0)


def _set_velocity(state: Instrument, pad: tuple[int, int], velocity: int) -> Instrument:
    slot = state.bank.slots[state.slot]
    if slot.pattern.velocity(*pad) == velocity:
        return state
    edited = replace(slot, pattern=slot.pattern.with_velocity(pad[0], pad[1], velocity))
    return replace(state, bank=state.bank.with_slot(state.slot + 1, edited))


def _editable_held(state: Instrument) -> tuple[tuple[int, int], ...]:
    if state.shift:
        return ()
    return tuple(pad for pad in state.held if pad[0] not in state.output_rows)


# -- the SHIFT page ----------------------------------------------------------------------------

def _menu(state: Instrument, pad: tuple[int, int], effects: list[Effect]) -> Instrument:
    row, column = pad
    if row == ROW_SLOTS:
        return _slot_pad(state, column, effects)
    if row == ROW_MARKS:
        state = _ensure_slot(state, column)
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
            return replace(state, net=column)
        return state
    if column == CHANCE_COLUMN:
        return _set_chance(state, not state.bank.chance, effects)
    if column in (EDIT_COLUMN, PERFORM_COLUMN):
        return _set_mode(state, EDIT if column == EDIT_COLUMN else PERFORM, effects)
    if column == COPY_COLUMN:
        return _copy_slot(state, effects)
    if column == SAVE_COLUMN:
        effects.append(Save("saved from the grid"))
        return replace(state, dirty_at=None)
    if column == TRAIN_COLUMN:
        return replace(state, train_pressed_at=state.now)
    return state


def _ensure_slot(state: Instrument, index: int) -> Instrument:
    """A bank with at least ``index + 1`` slots (new ones empty)."""
    bank = state.bank
    while len(bank.slots) <= index:
        bank = bank.with_slot(len(bank.slots) + 1, Slot())
    return replace(state, bank=bank) if bank is not state.bank else state


def _slot_pad(state: Instrument, column: int, effects: list[Effect]) -> Instrument:
    state = _ensure_slot(state, column)
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
            state = _ensure_slot(state, index)
            source = state.bank.slots[state.slot]
            copy = replace(source, name=source.name, train=False)
            effects.append(Log(f"slot {state.slot + 1} copied to slot {index + 1}"))
            return replace(state, bank=state.bank.with_slot(index + 1, copy))
    effects.append(Log("no empty slot after this one to copy to"))
    return state


# -- buttons -----------------------------------------------------------------------------------

def _button(state: Instrument, event: ButtonEvent, effects: list[Effect]) -> Instrument:
    if event.name == "shift":
        if event.action == "pressed":
            return replace(state, shift=True)
        if event.action == "released":
            return replace(state, shift=False, slot_held=None, train_pressed_at=None)
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
        return _set_mode(state, PERFORM if state.mode == EDIT else EDIT, effects)
    return state


def _set_mode(state: Instrument, mode: str, effects: list[Effect]) -> Instrument:
    if mode == state.mode:
        return state
    note = "" if mode == EDIT or state.nets else ": no nets yet, train some (SHIFT, hold the last pad)"
    effects.append(Log(f"mode {mode}{note}"))
    return replace(state, mode=mode, held=(), clearing=frozenset())


# -- knobs -------------------------------------------------------------------------------------

def _knob(state: Instrument, event: KnobEvent, effects: list[Effect]) -> Instrument:
    name = event.name
    if name not in KNOBS:
        return state
    if event.value is None:
        value = min(1.0, max(0.0, _knob_value(state, name) + event.delta * ENCODER_STEP))
        return _apply_knob(state, name, value, effects)
    knob = state.knobs[name]
    position = event.value
    engaged = knob.pickup is None or _picks_up(state, name, knob, position)
    state = _with(state, "knobs", name, Knob(position, None if engaged else knob.pickup))
    return _apply_knob(state, name, position, effects) if engaged else state


def _picks_up(state: Instrument, name: str, knob: Knob, position: float) -> bool:
    """Whether the pot at ``position`` now drives its value (the NET knob's detents and far ends are
    absolute: it picks up on entering the selected net's detent, and chance at its ends any time)."""
    if name == "net" and state.shift:
        return True
    if name == "net" and state.nets:
        return _detent(position, len(state.nets)) == state.net
    return picks_up(knob.pickup, knob.position, position, PICKUP_CATCH)


def _detent(position: float, count: int) -> int:
    return min(count - 1, int(position * count))


def _knob_target(state: Instrument, name: str) -> object:
    """What knob ``name`` edits now (changes of it make the knob pick up again)."""
    if name == "velocity":
        if state.shift:
            return "gate"
        held = _editable_held(state)
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
    return (state.net + 0.5) / len(state.nets) if state.nets else 0.0


def _apply_knob(state: Instrument, name: str, value: float, effects: list[Effect]) -> Instrument:
    target = _knob_target(state, name)
    velocity = round(value * MAX_VELOCITY)
    if target == "gate":
        return replace(state, bank=state.bank.with_changes(gate=velocity))
    if target == "default":
        return replace(state, default_velocity=max(1, velocity))
    if isinstance(target, tuple):
        for pad in _editable_held(state):
            state = _set_velocity(state, pad, velocity)
        return replace(state, clearing=state.clearing - set(_editable_held(state)))
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
            return _set_chance(state, value >= 0.95, effects)
        return state
    if state.nets:
        index = _detent(value, len(state.nets))
        if index != state.net:
            effects.append(Log(f"net {state.nets[index]}"))
            return replace(state, net=index)
    return state


def _set_chance(state: Instrument, on: bool, effects: list[Effect]) -> Instrument:
    effects.append(Log(f"chance {'on' if on else 'off'}"))
    return replace(state, bank=state.bank.with_changes(chance=on))


def _retarget_knobs(old: Instrument, state: Instrument, turned: str | None) -> Instrument:
    """Soft take-over: a pot whose value changed under it (not by its own turn) must pass it again."""
    for name in KNOBS:
        if name == turned:
            continue
        before = (_knob_target(old, name), _knob_value(old, name))
        after = (_knob_target(state, name), _knob_value(state, name))
        if before != after:
            knob = state.knobs[name]
            close = knob.position is not None and abs(knob.position - after[1]) <= PICKUP_CATCH
            state = _with(state, "knobs", name, Knob(knob.position, None if close else after[1]))
    return state


def pick_up_all(state: Instrument) -> Instrument:
    """Every pot waits to pass the value it edits (at start: the pots are wherever they were left)."""
    knobs = {name: Knob(state.knobs[name].position, _knob_value(state, name)) for name in KNOBS}
    return replace(state, knobs=MappingProxyType(knobs))


# -- the engine's heartbeat --------------------------------------------------------------------

def _tick(state: Instrument, event: Tick, effects: list[Effect]) -> Instrument:
    state = replace(state, playhead=event.step if state.playing else -1)
    if state.queue_token != state.switch_seen and event.switched == state.queue_token:   # a bar line passed
        state = replace(state, switch_seen=state.queue_token, bar=state.bar + 1)
        if state.queued is not None:
            effects.append(Log(f"slot {state.queued + 1} playing"))
            state = _next_in_chain(replace(state, slot=state.queued, queued=None))
    if state.train_pressed_at is not None and state.now - state.train_pressed_at >= TRAIN_HOLD_S:
        state = _start_training(replace(state, train_pressed_at=None), effects)
    expired = [row for row, until in state.flashes.items() if until <= state.now]
    for row in expired:
        state = _with(state, "flashes", row, None)
    if state.dirty_at is not None and state.now - state.dirty_at >= SAVE_DELAY_S:
        effects.append(Save("edits settled"))
        state = replace(state, dirty_at=None)
    return state


# -- nets and training -------------------------------------------------------------------------

def _request_nets(state: Instrument, effects: list[Effect]) -> Instrument:
    """Ask for the net's answer for the playing and queued slots whenever their inputs or the net change."""
    if not state.output_rows:
        return state
    for slot in (state.slot, state.queued):
        if slot is None:
            continue
        request = RunNet(slot, state.net, _inputs_only(state.bank.slots[slot].pattern, state.net_roles))
        answered = state.net_out.get(slot)
        if (answered is not None and answered[0] == request.key) or state.net_pending.get(slot) == request.key:
            continue
        effects.append(request)
        state = _with(state, "net_pending", slot, request.key)
    return state


def _inputs_only(pattern: Pattern, roles: tuple[str, ...]) -> Pattern:
    """``pattern`` with the output rows zeroed, so a net request depends on the inputs alone."""
    grid = pattern.velocities.copy()
    grid[[c for c, role in enumerate(roles) if role == "out"]] = 0
    return Pattern(grid)


def _nets_loaded(state: Instrument, labels: tuple[str, ...], roles: tuple[str, ...]) -> Instrument:
    net = min(state.net, len(labels) - 1) if labels else 0
    return replace(state, nets=tuple(labels), net_roles=tuple(roles), net=max(net, 0),
                   net_out=MappingProxyType({}), net_pending=MappingProxyType({}))


def _start_training(state: Instrument, effects: list[Effect]) -> Instrument:
    bank = state.bank
    if not bank.training_slots:
        effects.append(Log("nothing to train on: mark slots on row 2 of the SHIFT page"))
        return state
    if not bank.input_channels or not bank.output_channels:
        effects.append(Log("the net needs at least one input and one output channel"))
        return state
    effects.append(StartTraining(bank))
    effects.append(Log(f"training on {len(bank.training_slots)} slot(s)"))
    return replace(state, training=Training(state.now), held=(), clearing=frozenset())


def _training_progress(state: Instrument, event: TrainingProgress) -> Instrument:
    training = state.training
    if training is None:
        return state
    first = training.first_error if training.first_error is not None else event.error
    return replace(state, training=replace(training, epoch=event.epoch, first_error=first, error=event.error))


def _training_finished(state: Instrument, event: TrainingFinished, effects: list[Effect]) -> Instrument:
    effects.append(Log(event.detail))
    state = replace(state, training=None)
    if event.succeeded:
        state = _nets_loaded(state, event.labels, event.roles)
    return state


def _bank_loaded(state: Instrument, bank: Bank, effects: list[Effect]) -> Instrument:
    """Play ``bank`` from now on: the same slot number (the last one if it has fewer), queue and chain
    kept where their slots exist; held pads and the nets' answers for the old patterns dropped."""
    count = len(bank.slots)
    queued = state.queued if state.queued is not None and state.queued < count else None
    effects.append(Log(f"bank reloaded: {count} slot(s), {bank.tempo:g} BPM"))
    return replace(state, bank=bank, slot=min(state.slot, count - 1), queued=queued,
                   chain=tuple(slot for slot in state.chain if slot < count), held=(), clearing=frozenset(),
                   slot_held=None, net_out=MappingProxyType({}), net_pending=MappingProxyType({}))


def _kits_found(state: Instrument, kits: tuple[str, ...], effects: list[Effect]) -> Instrument:
    """Offer ``kits`` on the SHIFT page; a kit playing that is gone gives way to the built-in one."""
    if state.kit is not None and state.kit not in kits:
        effects.append(SelectKit(None))
        effects.append(Log(f"kit {state.kit} is gone; playing the built-in kit"))
        state = replace(state, kit=None)
    return replace(state, kits=tuple(kits))


def _external_clock(state: Instrument, event: ExternalClock, effects: list[Effect]) -> Instrument:
    """Follow a DAW: its tempo becomes the bank's (the TEMPO knob must pass it again to take over), its
    Start and Stop act as PLAY does."""
    if event.tempo is not None and event.tempo != state.bank.tempo:
        low, high = TEMPO_RANGE
        state = replace(state, bank=state.bank.with_changes(tempo=round(min(max(event.tempo, low), high), 1)))
    if event.transport is not None and (event.transport == "start") != state.playing:
        state = _button(state, ButtonEvent("play", "pressed", event.time), effects)
    return state
