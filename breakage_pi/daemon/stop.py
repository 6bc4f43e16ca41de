"""Stopping on SIGTERM, SIGINT and SIGHUP: a flag the loops look at, so every stop saves and ends cleanly."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Callable

from .. import STOP_SIGNALS

log = logging.getLogger("breakage_pi")


class StopSignals:
    """SIGTERM/SIGINT/SIGHUP set this; the loops look at it once per pass."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> Callable[[], None]:
        """Take SIGTERM, SIGINT and SIGHUP (the simulator's terminal closing) from the main thread, then let
        through any of them held since start-up (see :mod:`breakage_pi`); returns what puts the old
        handlers back."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {signum: signal.signal(signum, self._handler) for signum in STOP_SIGNALS}
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

        def restore() -> None:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return restore

    def _handler(self, signum: int, _frame: object) -> None:
        log.info("%s: saving and stopping", signal.Signals(signum).name)
        self.requested = True

    def request(self) -> None:
        """Stop as on SIGTERM (the simulator's quit key)."""
        log.info("quit: saving and stopping")
        self.requested = True
