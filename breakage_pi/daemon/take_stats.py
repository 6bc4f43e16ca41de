"""What a take holds, in numbers a player understands (``breakage-pi take stats``).

Read from the take's own files: ``take.json`` (length, tempo, bars per slot,
the net's changes, hits, xruns, drops) and ``performance.txt`` with the
settings it started from (corrections). Corrections are counted as presses
on the net's rows in PERFORM (each one turns a net's hit off or one on
where it was silent); the bank will keep its own count of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import soundfile

from ..core.pages import EDIT_COLUMN, PERFORM_COLUMN, ROW_SYSTEM
from ..core.script import ScriptEvent
from . import take_folder
from .take_folder import Take, TakeError


@dataclass(frozen=True)
class TakeStats:
    """A take's figures; ``lines()`` says them."""

    name: str
    info: dict[str, Any]
    corrections: int
    actions: int
    notes_in: int = 0
    """Drum notes MIDI in took (``note`` lines): the player's, and among "you played" in the hits."""

    def lines(self) -> list[str]:
        info = self.info
        seconds = info["frames"] / info["rate"]
        minutes = seconds / 60 if seconds else 0.0
        out = [f"take {self.name}, started {info.get('started', '?')}",
               f"length       {_duration(seconds)} ({info['frames']} frames at {info['rate']} Hz)"]
        tempo = info.get("tempo")
        changes = info.get("tempo_changes", [])
        if tempo is not None:
            shown = f"{tempo:g} BPM"
            if changes:
                bpms = [tempo] + [bpm for _, bpm in changes]
                shown += f", changed {len(changes)} time(s) ({min(bpms):g}-{max(bpms):g} BPM)"
            out.append(f"tempo        {shown}")
        bars = info.get("bars", {})
        if bars:
            out.append("bars         " + ", ".join(f"slot {slot}: {count}" for slot, count in bars.items())
                       + f" ({sum(bars.values())} in all)")
        else:
            out.append("bars         none played")
        out.append(f"nets         {', '.join(info.get('nets', [])) or 'not played (EDIT, or no nets)'}")
        changed = info.get("net_changes", 0)
        rate = f", {changed / minutes:.1f} a minute" if minutes and changed else ""
        out.append(f"net changed  its output {changed} time(s){rate}")
        hits = info.get("hits", {})
        net, player = hits.get("net", 0), hits.get("player", 0)
        total = net + player
        share = f" ({100 * net / total:.0f}% the net's)" if total else ""
        out.append(f"hits         {total}: the net played {net}, you played {player}{share}")
        if self.notes_in:
            midi_in = info.get("midi_in", {})
            out.append(f"MIDI in      {self.notes_in} drum note(s) played in on channel {midi_in.get('channel', 10)} "
                       f"(input = {midi_in.get('input', 'record')}; what they played is among your hits)")
        out.append(f"corrections  {self.corrections} (presses on the net's rows in PERFORM)")
        out.append(f"actions      {self.actions - self.notes_in} pad, button and knob actions")
        dropped = info.get("dropped_frames", 0)
        lost = f"; {dropped} frames ({dropped / info['rate']:.2f} s) of audio dropped (the card was too slow)" \
            if dropped else ""
        out.append(f"xruns        {info.get('xruns', 0)}{lost}")
        exact = "yes" if info.get("replays_exactly") else \
            "no (it started while playing, or audio was dropped)"
        out.append(f"replays      exactly: {exact}")
        return out


def take_stats(folder: str | Path) -> TakeStats:
    """The figures of the take in ``folder``; a take cut off while recording gives what its WAV holds."""
    root = Path(folder)
    try:
        take = take_folder.read_take(root)
    except TakeError:
        cut = _cut_off(root)
        if cut is None:
            raise
        return cut
    return TakeStats(root.name, take.info, corrections(take), len(take.script),
                     sum(event.kind == "note" for event in take.script))


def _cut_off(root: Path) -> TakeStats | None:
    """A take whose ``take.json`` still says it is recording (a crash or power cut): its readable audio."""
    from ..store import read_json

    info_path = root / take_folder.INFO
    if not info_path.is_file():
        return None
    info = read_json(info_path)
    if not isinstance(info, dict) or info.get("ended") != take_folder.RECORDING:
        return None
    try:
        readable = soundfile.info(str(root / take_folder.WAV))
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise TakeError(f"{root / take_folder.WAV}: cut off and unreadable ({error})") from None
    info = {**info, "frames": readable.frames, "rate": readable.samplerate,
            "ended": "cut off while recording (a crash or power cut)"}
    return TakeStats(root.name, info, 0, 0)


def corrections(take: Take) -> int:
    """Presses on the net's rows in PERFORM (SHIFT up), following MODE and the SHIFT page's mode pads."""
    mode = take.settings.get("mode", "edit") if isinstance(take.settings, dict) else "edit"
    rows = set(take.info.get("net_channels", []))
    shift = False
    count = 0
    for event in take.script:
        if event.kind == "button" and event.name == "shift":
            shift = event.down
        elif event.kind == "button" and event.name == "mode" and event.down:
            mode = "perform" if mode == "edit" else "edit"
        elif _is_press(event) and shift and event.row == ROW_SYSTEM and event.column in (EDIT_COLUMN, PERFORM_COLUMN):
            mode = "edit" if event.column == EDIT_COLUMN else "perform"
        elif _is_press(event) and not shift and mode == "perform" and event.row in rows:
            count += 1
    return count


def _is_press(event: ScriptEvent) -> bool:
    return event.kind == "pad" and event.down


def _duration(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.1f} s" if minutes else f"{rest:.1f} s"
