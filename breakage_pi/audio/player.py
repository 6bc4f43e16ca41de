"""The player: turns what should play into audio, one block at a time.

This is the single rendering path: the offline renderer and the real-time
engine both call :meth:`Player.render` block by block, so what the engine
plays equals ``breakage-pi render`` sample for sample, whatever the block size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.clock import StepClock
from ..core.playstate import PlayState
from ..core.pattern import CHANNELS, STEPS, Pattern
from .kit import Kit
from .limiter import Limiter
from .mixer import Mixer

class Player:
    """Renders a :class:`PlayState` as interleaved stereo int16, block by block.

    ``frame`` counts frames rendered: it is the clock. Step 0 starts at the
    first frame after play starts. Tempo and swing changes take effect at the
    next step boundary; stop fades ringing voices out over a few ms. A
    snapshot's ``queued`` pattern takes over at the next bar line (a step
    that is a multiple of 16), once per ``queue_token``; ``switched`` is the
    token of the last switch. A snapshot's one-shot ``hits`` newer than the
    last played sound at the start of the block that takes it (see
    :class:`~breakage_pi.core.playstate.Hit`: a hit recorded into the step
    about to play swallows that step's hit once).

    >>> from breakage_pi.audio.kit import load_kit
    >>> player = Player(load_kit(), PlayState(Pattern().with_velocity(0, 0, 255)))
    >>> block = player.render(128)    # (128, 2) int16
    """

    def __init__(self, kit: Kit, state: PlayState, max_block: int = 256, max_voices: int = 64) -> None:
        self.mixer = Mixer(kit, max_voices=max_voices, max_block=max_block)
        self.limiter = Limiter(kit.rate, max_block)
        self.rate = kit.rate
        self.frame = 0
        self._state = state
        self._pending: PlayState | None = None
        self._clock: StepClock | None = self._new_clock(state) if state.playing else None
        self._volume = state.volume
        self.switched = 0
        self.last_hit = state.last_hit          # hits in the first snapshot are history: none is played
        self._swallow = [-1] * CHANNELS         # per channel: the column whose next hit is skipped once ...
        self._swallow_until = [0] * CHANNELS    # ... if it comes before this frame
        self._ramp = np.arange(1, max_block + 1, dtype=np.float32)
        self._float = np.zeros((max_block, 2), dtype=np.float32)
        self._pcm = np.zeros((max_block, 2), dtype=np.int16)

    def use_kit(self, kit: Kit) -> None:
        """Play ``kit`` from the next block: sounding voices stop, the clock and the pattern go on.

        Loading ``kit`` is disk work, the caller's, never the real-time loop's.
        """
        self.mixer = Mixer(kit, max_voices=self.mixer.max_voices, max_block=self.mixer.max_block)

    def set_state(self, state: PlayState) -> None:
        """Hand over a new snapshot; it applies at the start of the next block."""
        self._pending = state

    @property
    def state(self) -> PlayState:
        """The newest state handed over (playing from the next block if not already)."""
        return self._pending or self._state

    def render(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames as a (frames, 2) int16 view of a reused buffer."""
        previous_volume = self._volume
        if self._pending is not None:
            self._apply(self._pending)
            self._pending = None
            if self._state.hits and self._state.hits[-1].serial > self.last_hit:
                self._play_hits(self._state)
        state, start = self._state, self.frame
        if self._clock is not None:
            for step, at in self._clock.steps_in(start, start + frames):
                column = step % STEPS
                if column == 0 and step > 0 and state.queued is not None and state.queue_token != self.switched:
                    self.switched = state.queue_token
                velocities = self._pattern(state).velocities
                for channel in range(CHANNELS):
                    velocity = int(velocities[channel, column])
                    if velocity and not state.mutes[channel] and not self._swallowed(channel, column, at):
                        self.mixer.trigger(channel, velocity, at - start)
        mix = self.limiter.process(self.mixer.render(frames))
        scaled = self._float[:frames]
        if self._volume == previous_volume:
            np.multiply(mix, self._volume * 32767.0, out=scaled)
        else:
            step = (self._volume - previous_volume) / frames
            gains = (previous_volume + step * self._ramp[:frames]) * 32767.0
            np.multiply(mix, gains[:, None], out=scaled)
        np.rint(scaled, out=scaled)
        np.clip(scaled, -32768.0, 32767.0, out=scaled)
        pcm = self._pcm[:frames]
        pcm[...] = scaled
        self.frame += frames
        return pcm

    def _swallowed(self, channel: int, column: int, at: int) -> bool:
        """Whether ``channel``'s hit at ``column`` (frame ``at``) is the one a hit just played stands for."""
        if self._swallow[channel] != column:
            return False
        self._swallow[channel] = -1
        return at < self._swallow_until[channel]

    def current_step_span(self) -> tuple[int, int, int]:
        """The pattern column (0-15) sounding now, the frame its step began at and its length in frames;
        (-1, 0, 0) when stopped."""
        if self._clock is None:
            return -1, 0, 0
        step = max(self._clock.step_at(self.frame - 1), 0)
        begin = self._clock.step_start(step)
        return step % STEPS, begin, self._clock.step_start(step + 1) - begin

    def _play_hits(self, state: PlayState) -> None:
        """Sound the snapshot's hits newer than the last played, now (frame 0 of this block)."""
        length = round(self._clock.samples_per_step) if self._clock is not None else 0
        for hit in state.hits:
            if hit.serial <= self.last_hit:
                continue
            self.last_hit = hit.serial
            if state.mutes[hit.channel]:
                continue
            self.mixer.trigger(hit.channel, hit.velocity, 0)
            self._swallow[hit.channel] = hit.swallow
            self._swallow_until[hit.channel] = self.frame + length

    def _pattern(self, state: PlayState) -> Pattern:
        """What plays now: the queued pattern once its bar line has passed, else the pattern."""
        if state.queued is not None and state.queue_token == self.switched:
            return state.queued
        return state.pattern

    def _new_clock(self, state: PlayState) -> StepClock:
        return StepClock(state.tempo, state.swing, self.rate, origin_step=0, origin_sample=self.frame)

    def _apply(self, state: PlayState) -> None:
        old, self._state = self._state, state
        self._volume = state.volume
        if state.playing and self._clock is None:
            self._clock = self._new_clock(state)
        elif not state.playing and self._clock is not None:
            self._clock = None
            self.mixer.fade_out(0)
        elif self._clock is not None and (state.tempo, state.swing) != (old.tempo, old.swing):
            next_step = self._clock.step_at(self.frame - 1) + 1
            self._clock = self._clock.retimed(state.tempo, state.swing, next_step)

