"""What a take holds, in numbers a player understands (``breakage-pi take stats``).

Read from the take's own files: ``take.json`` (length, tempo, bars per slot,
the net's changes, hits, corrections, xruns, drops) and ``performance.txt``
(the actions, the notes played in over MIDI). Corrections are what the
player changed in the bank's corrections during the take, as the state
machine counted it where it changed them: made (a press on the net's rows
in PERFORM the nets had answered), removed from the list, undone; with how
many the bank held at the take's start and end. A take recorded before
takes counted them says so rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import soundfile

from . import take_folder
from .take_folder import TakeError


@dataclass(frozen=True)
class TakeStats:
    """A take's figures; ``lines()`` says them."""

    name: str
    info: dict[str, Any]
    corrections: dict[str, int] | None
    """``take.json``'s ``corrections`` (made, removed, undone, at_start, at_end); None in an older take."""
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
        out.append(f"corrections  {_corrections(self.corrections)}")
        out.append(f"actions      {self.actions - self.notes_in} pad, button and knob actions")
        dropped = info.get("dropped_frames", 0)
        lost = f"; {dropped} frames ({dropped / info['rate']:.2f} s) of audio dropped (the card was too slow)" \
            if dropped else ""
        out.append(f"xruns        {info.get('xruns', 0)}{lost}")
        why = take_folder.inexact_reason(info)
        exact = "yes" if why is None else f"no ({why})"
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
    return TakeStats(root.name, take.info, take.corrections, len(take.script),
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
    return TakeStats(root.name, info, None, 0)


def _corrections(counts: dict[str, int] | None) -> str:
    if counts is None:
        return "not counted (the take was recorded before takes counted them)"
    return (f"{counts['made']} made, {counts['removed']} removed, {counts['undone']} undone; "
            f"the bank holds {counts['at_end']} ({counts['at_start']} when the take started)")


def _duration(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.1f} s" if minutes else f"{rest:.1f} s"
