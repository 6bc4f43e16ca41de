"""What the simulator's screen says in words: its header, and each SHIFT-page pad's state and purpose.

Read from the instrument's state and :data:`breakage_pi.core.pages.SHIFT_PAGE`;
pure text, so the terminal UI (:mod:`.terminal`) only draws.
"""

from __future__ import annotations

from ...core.instrument import Instrument
from ...core.pages import area_at, describe


def header(state: Instrument, sound: str) -> str:
    """The top line: mode, slot (and what is queued), net, transport, tempo, and the sound."""
    queued = f" -> {state.queued + 1}" if state.queued is not None else ""
    chain = f" chain {state.chain[0] + 1}-{state.chain[-1] + 1}" if state.chain else ""
    training = ""
    if state.training is not None:
        training = f"  TRAINING {state.training.progress * 100:.0f}%"
    return (f"{state.mode.upper()}  slot {state.slot + 1}{queued}{chain}  net {state.net_label}"
            f"{' +chance' if state.bank.chance else ''}  {'> PLAYING' if state.playing else '# stopped'}  "
            f"{state.bank.tempo:g} BPM{'  * REC' if state.recording else ''}{training}  {sound}")


def shift_pad_on(state: Instrument, key: str, index: int) -> bool | None:
    """Whether SHIFT-page pad ``index`` of area ``key`` is on (playing, marked, the net's, muted, chosen,
    unsaved...), False if off, None if it stands for nothing (an empty slot, a kit or net not there)."""
    bank = state.bank
    if key == "slots":
        has_hits = index < len(bank.slots) and bool(bank.slots[index].pattern.velocities.any())
        return True if index == state.slot or index in state.chain else (False if has_hits else None)
    if key == "marks":
        return index < len(bank.slots) and bank.slots[index].train
    if key == "roles":
        return bank.roles[index] == "out"
    if key == "mutes":
        return state.mutes[index]
    if key == "kits":
        return None if index >= len(state.kits) else state.kits[index] == state.kit
    if key == "nets":
        return None if index >= len(state.nets) else index == state.net
    if key == "chance":
        return bank.chance
    if key in ("edit", "perform"):
        return state.mode == key
    if key == "save":
        return state.dirty_at is not None
    if key == "take":
        return state.recording
    if key == "train":
        return state.train_pressed_at is not None or (False if bank.training_slots else None)
    return False


def shift_pad_words(state: Instrument, row: int, column: int) -> str:
    """The SHIFT-page pad at (``row``, ``column``) in words: what it is, its state, what a press does."""
    found = area_at(row, column)
    if found is None:
        return describe(row, column)
    index = column - found.columns.start
    on = shift_pad_on(state, found.key, index)
    words = {"slots": ("has hits", "playing" if index == state.slot else "in the chain", "empty"),
             "marks": ("not marked", "marked", ""), "roles": ("yours", "the net's", ""),
             "mutes": ("playing", "muted", ""), "kits": ("", "playing", "no kit there"),
             "nets": ("", "playing", "not trained yet"), "chance": ("off", "on", ""),
             "edit": ("", "the mode now", ""), "perform": ("", "the mode now", ""),
             "save": ("saved", "unsaved edits", ""), "take": ("", "recording", ""), "train": ("", "held", "mark slots first")}
    off, lit, absent = words.get(found.key, ("", "", ""))
    if found.key == "slots" and state.queued == index:
        lit = "queued"
    if found.key == "kits" and index < len(state.kits):
        off = lit = f"{state.kits[index]}{' (playing)' if on else ''}"
    said = absent if on is None else lit if on else off
    return describe(row, column).replace(":", f" ({said}):" if said else ":", 1)
