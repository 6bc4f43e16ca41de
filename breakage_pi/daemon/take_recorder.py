"""One take being recorded: the engine's audio from the ring into the WAV, the performance, the MIDI.

Two sides, as the rest of the daemon:

- the control loop (one thread) tells it what happens, each with the
  session frame it happens at (the engine's clock, counted across audio
  processes): panel actions (:meth:`TakeRecorder.action`), states the engine
  adopted (:meth:`~TakeRecorder.adopted`), the playhead (:meth:`~TakeRecorder.passed`);
  these only append to lists;
- the writer (a thread in the live daemon, the lockstep loop itself in a
  scripted session) calls :meth:`~TakeRecorder.pump` to move the audio to
  disk and make it durable about every half second, and checks the free
  space as it goes; :meth:`~TakeRecorder.finish` writes the rest of the take
  when it ends.

The take's time 0 is the first frame of the first block the engine recorded
(``origin``, a session frame).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..audio.take_ring import FrameRing
from ..core.instrument import CorrectionTally
from ..core.playstate import PlayState
from ..core.script import ScriptEvent
from ..midi.take_midi import TakeMidi
from ..store import hold_folder
from . import take_folder
from .take_wav import GrowingWav

SYNC_EVERY_S = 0.5
"""The WAV is made durable at least this often (audio time): a power cut loses at most ~a second."""
SPACE_CHECK_S = 1.0


@dataclass
class Summary:
    """What ``take.json`` says beside the length: counted by the control loop as the take goes."""

    slots_bars: dict[int, int] = field(default_factory=dict)
    nets: list[str] = field(default_factory=list)
    net_changes: int = 0
    xruns: int = 0


def free_bytes(folder: Path) -> int:
    """Bytes an unprivileged writer may still use on ``folder``'s file system."""
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


class TakeRecorder:
    """A take from now on, in ``folder`` (new and empty), fed by ``ring``.

    ``floor_bytes``: the take ends (cleanly, with a message) when the data
    directory's free space falls below it. ``exact``: whether the take can be
    re-rendered byte for byte (a scripted session's take that started with the transport stopped and nothing
    sounding); ``live``: played live (``take.json``'s ``session``).
    ``xruns``: the session's count so far (the take counts its own from there). ``net_channels``: the
    channels the nets write (their output roles). ``midi_in``: the MIDI in settings the notes were
    taken with (``take.json``'s ``midi_in``, :func:`~.take_folder.midi_in_settings`); ``learn``: ``[nets]
    learn`` in the session. ``corrections``: the session's
    :class:`~breakage_pi.core.instrument.CorrectionTally` and the bank's corrections as the take starts.
    The recorder holds the folder (:func:`~breakage_pi.store.hold_folder`) until :meth:`finish` has written
    its last file: USB sync refuses to send or delete a take still being recorded.
    """

    def __init__(self, folder: Path, ring: FrameRing, rate: int, period: int, floor_bytes: int,
                 started: datetime.datetime, exact: bool, xruns: int = 0, live: bool = False,
                 net_channels: tuple[int, ...] = (), midi_in: dict[str, Any] | None = None, learn: str = "auto",
                 corrections: tuple[CorrectionTally, int] = (CorrectionTally(), 0)) -> None:
        self.folder, self.ring, self.rate, self.period = folder, ring, rate, period
        self.floor_bytes = floor_bytes
        self.started = started
        self.exact = exact
        self.live = live
        self.net_channels = net_channels
        self.midi_in = midi_in if midi_in is not None else take_folder.midi_in_settings()
        self.learn = learn
        self._corrections_at_start = self._corrections = corrections
        self.origin: int | None = None
        self.summary = Summary()
        self.ended = ""
        self._actions: list[tuple[int, ScriptEvent]] = []
        self._states: list[tuple[int, PlayState, tuple[int, ...]]] = []
        self._last_net: tuple[bytes, ...] | None = None
        self._step = -1
        self._held = hold_folder(folder)
        try:
            self._wav = GrowingWav(folder / take_folder.WAV, rate)
        except OSError:
            self._let_go()
            raise
        self._since_space_check = 0
        self._xruns_at_start = xruns
        self._begun = False
        self.take = ring.open()

    # -- the control loop --

    def action(self, event: ScriptEvent, frame: int) -> None:
        """A panel action or a MIDI note in at session ``frame`` (its ``time_ms`` is ignored)."""
        self._actions.append((frame, event))

    def adopted(self, state: PlayState, frame: int, net_rows: tuple[int, ...], net_label: str) -> None:
        """The engine plays ``state`` from session ``frame``; ``net_rows``: the rows the net wrote in it."""
        self._states.append((frame, state, net_rows))
        if net_rows:
            if net_label not in self.summary.nets:
                self.summary.nets.append(net_label)
            written = tuple(state.pattern.velocities[row].tobytes() for row in net_rows)
            if self._last_net is not None and written != self._last_net:
                self.summary.net_changes += 1
            self._last_net = written
        else:
            self._last_net = None

    def passed(self, step: int, slot: int, xruns: int) -> None:
        """The playhead is on ``step`` (-1 stopped) of slot ``slot`` (0-based); ``xruns`` so far in the session."""
        if step == 0 and self._step != 0:
            self.summary.slots_bars[slot + 1] = self.summary.slots_bars.get(slot + 1, 0) + 1
        self._step = step
        self.summary.xruns = xruns - self._xruns_at_start

    def corrections(self, tally: CorrectionTally, count: int) -> None:
        """The session's correction tally now, and how many corrections the bank holds."""
        self._corrections = (tally, count)

    def stop(self) -> None:
        """No more audio from the engine's next block on."""
        self.ring.close()

    # -- the writer --

    @property
    def frames(self) -> int:
        """Frames of audio in the take so far, dropped ones included."""
        return self._wav.frames + self.ring.dropped

    def pump(self) -> str:
        """Move what the engine recorded to the WAV; make it durable when due. Returns why the take must end
        ("" while it may go on): the free space fell below the floor, or a write failed."""
        if not self._begun:
            if not self.ring.recording(self.take):
                return ""          # the engine has not taken it up yet: what the ring holds is not this take's
            self._begun = True
        try:
            drained = self.ring.drain(self._wav.append)
            self._since_space_check += drained
            if self._wav.unsynced_frames >= SYNC_EVERY_S * self.rate:
                self._wav.sync()
            if self._since_space_check >= SPACE_CHECK_S * self.rate:
                self._since_space_check = 0
                free = free_bytes(self.folder)
                if free < self.floor_bytes:
                    return (f"the data directory has {free / 1e6:.0f} MB free, under the floor of "
                            f"{self.floor_bytes / 1e6:.0f} MB")
        except OSError as error:
            return f"writing {self.folder / take_folder.WAV} failed: {error.strerror or error}"
        return ""

    def finish(self, reason: str, settle_s: float = 0.0) -> None:
        """The take has ended (``reason``, for ``take.json``; after :meth:`stop`): the last audio, then
        every other file. ``settle_s``: how long to wait for the engine to see the stop (live: it may be
        writing one last block)."""
        try:
            deadline = time.monotonic() + settle_s
            while self.ring.recording(self.take) and time.monotonic() < deadline:
                time.sleep(0.002)
            self.pump()
            try:
                self._wav.close()
            finally:
                self.ended = reason
            origin = self.origin or 0
            frames = self._wav.frames
            take_folder.write_performance(self.folder, self.script(origin), comment=(
                f"Breakage Pi take {self.folder.name}: every pad, button and knob action and MIDI note in, "
                "ms from its first sample.\n"
                f"Replay: breakage-pi run --sim --headless --take {self.folder}"))
            take_folder.write_midi(self.folder, self.midi(origin).to_midi(frames + self.ring.dropped))
            take_folder.write_info(self.folder, self.info(reason))
        finally:
            self._let_go()     # the take is whole: sync may send it

    def _let_go(self) -> None:
        if self._held >= 0:
            os.close(self._held)
            self._held = -1

    def script(self, origin: int) -> list[ScriptEvent]:
        """The actions as a script, times in ms from ``origin``; releases of pads pressed before the take
        are left out (the replay never pressed them)."""
        held: set[tuple[int, int]] = set()
        events = []
        for frame, event in self._actions:
            if event.kind == "pad":
                pad = (event.row, event.column)
                if not event.down and pad not in held:
                    continue
                (held.add if event.down else held.discard)(pad)
            at = max(0, frame - origin) * 1_000_000 // self.rate / 1000      # rounded down: due at the same block
            events.append(dataclasses.replace(event, time_ms=at))
        return events

    def midi(self, origin: int) -> TakeMidi:
        midi = TakeMidi(self.rate)
        for frame, state, net_rows in self._states:
            midi.adopted(state, max(0, frame - origin), net_rows)
        return midi

    def info(self, ended: str) -> dict[str, Any]:
        frames = self._wav.frames
        midi = self.midi(self.origin or 0)
        midi.to_midi(frames + self.ring.dropped)
        tempos = []
        for frame, state, _ in self._states:
            if not tempos or tempos[-1][1] != state.tempo:
                tempos.append([round(max(0, frame - (self.origin or 0)) / self.rate, 3), state.tempo])
        dropped = self.ring.dropped
        return {
            "started": self.started.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds"),
            "ended": ended, "rate": self.rate, "period": self.period, "frames": frames,
            "seconds": round(frames / self.rate, 3), "tempo": tempos[0][1] if tempos else None,
            "tempo_changes": tempos[1:], "slots": sorted(self.summary.slots_bars),
            "bars": {str(slot): bars for slot, bars in sorted(self.summary.slots_bars.items())},
            "net_channels": list(self.net_channels), "nets": self.summary.nets, "net_changes": self.summary.net_changes,
            "midi_in": self.midi_in, "learn": self.learn, "corrections": self.corrections_made(),
            "hits": {"net": sum(midi.hits.net), "player": sum(midi.hits.player),
                     "net_by_channel": midi.hits.net, "player_by_channel": midi.hits.player},
            "xruns": self.summary.xruns, "dropped_frames": dropped,
            "session": "live" if self.live else "scripted", "replays_exactly": self.exact and dropped == 0,
        }

    def corrections_made(self) -> dict[str, int]:
        """``take.json``'s ``corrections``: the player's changes to the bank's corrections during the take (made,
        removed, undone) and how many the bank held when it started and when it ended."""
        (first, at_start), (last, at_end) = self._corrections_at_start, self._corrections
        changes = last.since(first)
        return {"made": changes.made, "removed": changes.removed, "undone": changes.undone,
                "at_start": at_start, "at_end": at_end}

    def running_info(self) -> dict[str, Any]:
        """``take.json`` while the take records (what a take cut off by a power cut is left with)."""
        return {"started": self.started.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds"),
                "ended": take_folder.RECORDING, "rate": self.rate, "period": self.period, "frames": 0,
                "midi_in": self.midi_in, "learn": self.learn}

