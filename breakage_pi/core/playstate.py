"""What the audio side plays: one immutable snapshot, built by the control side."""

from __future__ import annotations

from dataclasses import dataclass

from .clock import StepClock
from .errors import FormatError
from .pattern import CHANNELS, MAX_VELOCITY, STEPS, Pattern

UNMUTED = (False,) * CHANNELS
MAX_HITS = 8
"""A snapshot carries at most this many one-shot hits: the newest, so none is lost between two blocks
unless more than this many arrive within one block."""


@dataclass(frozen=True)
class Hit:
    """A one-shot hit the engine plays at the start of its next block, once (its ``serial`` names it).

    ``channel`` 0-3 at ``velocity`` 1-255. ``swallow`` is the pattern column (0-15) whose hit on this
    channel the engine skips once, within a step of playing this one (-1: none): a note recorded into
    the step about to play is heard now, not twice.
    """

    serial: int
    channel: int
    velocity: int
    swallow: int = -1

    def __post_init__(self) -> None:
        if self.serial < 1:
            raise FormatError(f"must be 1 or more, got {self.serial}", "serial")
        if not 0 <= self.channel < CHANNELS:
            raise FormatError(f"must be 0-{CHANNELS - 1}, got {self.channel}", "channel")
        if not 1 <= self.velocity <= MAX_VELOCITY:
            raise FormatError(f"must be 1-{MAX_VELOCITY}, got {self.velocity}", "velocity")
        if not -1 <= self.swallow < STEPS:
            raise FormatError(f"must be -1 or 0-{STEPS - 1}, got {self.swallow}", "swallow")


@dataclass(frozen=True)
class PlayState:
    """Everything the audio side needs to know, as one immutable snapshot.

    The control side builds a new one for every change and hands it over
    whole; the player applies it at the start of its next block.
    ``volume`` is the master gain 0-1 (linear).

    ``queued`` is the pattern to switch to at the next bar line (step 0 of a
    bar, as an Elektron queues a pattern), sample-exactly, and ``queue_token``
    names that request: the player switches once per token and reports the
    token it switched on, so the control side learns the switch happened and
    a later snapshot carrying the same token keeps playing ``queued``.

    ``hits`` are the newest one-shot hits (notes arriving on MIDI in), oldest
    first: a player plays each whose serial is above the last it played, at
    the start of the block that takes the snapshot, so a later snapshot that
    still carries them (or one taken after a skipped one) never replays them.
    """

    pattern: Pattern
    tempo: float = 120.0
    swing: float = 0.5
    mutes: tuple[bool, ...] = UNMUTED
    volume: float = 1.0
    playing: bool = True
    queued: Pattern | None = None
    queue_token: int = 0
    hits: tuple[Hit, ...] = ()

    def __post_init__(self) -> None:
        """Refuse a bad snapshot here, on the control side, before it can reach the audio process."""
        StepClock(self.tempo, self.swing)
        if not isinstance(self.pattern, Pattern):
            raise FormatError(f"expected a Pattern, got {type(self.pattern).__name__}", "pattern")
        if self.queued is not None and not isinstance(self.queued, Pattern):
            raise FormatError(f"expected a Pattern or None, got {type(self.queued).__name__}", "queued")
        if len(self.mutes) != CHANNELS:
            raise FormatError(f"expected {CHANNELS} mutes, got {len(self.mutes)}", "mutes")
        if not 0.0 <= self.volume <= 1.0:
            raise FormatError(f"must be 0-1, got {self.volume:g}", "volume")
        if len(self.hits) > MAX_HITS or not all(isinstance(hit, Hit) for hit in self.hits):
            raise FormatError(f"expected at most {MAX_HITS} Hits, got {self.hits!r}", "hits")
        if any(a.serial >= b.serial for a, b in zip(self.hits, self.hits[1:])):
            raise FormatError("hits must come oldest first, serials rising", "hits")

    def hits_after(self, serial: int) -> tuple[Hit, ...]:
        """The hits newer than ``serial`` (the last one played): what a player plays now."""
        return tuple(hit for hit in self.hits if hit.serial > serial)

    @property
    def last_hit(self) -> int:
        """The serial of the newest hit (0: none), so a player starting with this snapshot plays none of them."""
        return self.hits[-1].serial if self.hits else 0
