"""The nets in the data directory's ``nets/`` as the control loop plays them (inference in this process)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..core.bank import Bank
from ..core.errors import BreakageError
from ..core.instrument import NetResult, NetsLoaded, RunNet
from ..store import quarantine
from .datadir import DataDir

log = logging.getLogger("breakage_pi")


class Nets:
    """The nets in ``nets/``, sessions ready, answering the state machine's :class:`RunNet`."""

    def __init__(self, data: DataDir) -> None:
        from ..ml.netbank import load_net_bank

        def refuse(error: BreakageError, corrupt: bool) -> None:
            if corrupt and Path(getattr(error, "source", "") or "").exists():
                log.error("%s", quarantine(error.source, getattr(error, "message", str(error)))[1])
            else:
                log.error("%s; not played", error)

        self.bank = load_net_bank(data.net_files(), refuse)

    def adopt(self, bank: Any) -> NetsLoaded:
        """Play ``bank`` (a :class:`~breakage_pi.ml.netbank.NetBank`) from now on."""
        self.bank = bank
        return self.loaded()

    def loaded(self) -> NetsLoaded:
        if self.bank is None:
            log.warning("no nets to play: PERFORM plays the pattern as written until you train (SHIFT, hold TRAIN)")
            return NetsLoaded((), ())
        from ..ml.train import target_label

        count = len(self.bank)
        labels = tuple(label or target_label(index, count) for index, label in enumerate(self.bank.labels))
        log.info("nets: %s", ", ".join(labels))
        return NetsLoaded(labels, self.bank.roles)

    def check_against(self, bank: Bank) -> None:
        """Say so in the log if the nets were made for other roles or another bank than ``bank``."""
        from ..ml.netinfo import mismatch_notes

        if self.bank is not None:
            session = self.bank[0]
            for note in mismatch_notes(session.info, bank, Path(session.source).name or "the nets"):
                log.warning("%s", note)

    def answer(self, request: RunNet) -> NetResult:
        """The nets' outputs at the request's NET knob position (the one or two nets it weighs run)."""
        assert self.bank is not None, "the state machine asks for nets only when some are loaded"
        return NetResult(request, self.bank.outputs_at(request.pattern, request.position))
