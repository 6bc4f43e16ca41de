"""What the audio side plays: one immutable snapshot, built by the control side."""

from __future__ import annotations

from dataclasses import dataclass

from .clock import StepClock
from .errors import FormatError
from .pattern import CHANNELS, Pattern

UNMUTED = (False,) * CHANNELS


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
    """

    pattern: Pattern
    tempo: float = 120.0
    swing: float = 0.5
    mutes: tuple[bool, ...] = UNMUTED
    volume: float = 1.0
    playing: bool = True
    queued: Pattern | None = None
    queue_token: int = 0

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
