"""Which kit to play: the folders of ``kits/`` that load, and the one the state machine chose."""

from __future__ import annotations

import logging

from ..core.bank import Bank
from ..core.errors import BreakageError
from ..core.instrument import Instrument
from .datadir import DataDir

log = logging.getLogger("breakage_pi")


def playable_kits(data: DataDir, bank: Bank) -> tuple[str, ...]:
    """The kits in ``kits/`` that load (a bad one is named in the log and left off the grid)."""
    from ..audio.kit import load_kit

    playable = []
    for name in data.kit_names():
        try:
            load_kit(data.kits / name, bank.channels)
        except BreakageError as error:
            log.error("kit %s cannot be played: %s", name, error)
        else:
            playable.append(name)
    return tuple(playable)


def kit_to_play(state: Instrument, data: DataDir) -> tuple[str | None, tuple[str, ...]]:
    """The kit folder to play (None: built-in) and the channel names to load from it."""
    if state.kit is None:
        from ..core.pattern import DEFAULT_CHANNEL_NAMES

        return None, DEFAULT_CHANNEL_NAMES
    return str(data.kits / state.kit), state.bank.channels
