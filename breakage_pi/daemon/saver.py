"""Saving off the audio path: the bank, the settings and new nets, written by a worker thread."""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..core.bank import Bank
from ..core.errors import BreakageError
from .datadir import DataDir

log = logging.getLogger("breakage_pi")


class Saver:
    """Writes on a worker thread, never on the audio path: new nets, then the bank and settings (latest
    wins). :meth:`flush` writes what is pending now."""

    def __init__(self, data: DataDir) -> None:
        self._data = data
        self._pending: tuple[Bank, dict[str, Any]] | None = None
        self._nets: list[tuple[str, bytes]] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="saver", daemon=True)
        self._thread.start()

    def save(self, bank: Bank, settings: dict[str, Any]) -> None:
        with self._lock:
            self._pending = (bank, settings)
        self._wake.set()

    def replace_nets(self, files: list[tuple[str, bytes]]) -> None:
        with self._lock:
            self._nets = files
        self._wake.set()

    def flush(self, bank: Bank, settings: dict[str, Any]) -> str | None:
        """Stop the worker and write ``bank`` and ``settings`` now (on SIGTERM and at the end); returns why
        that failed, None when everything is on disk."""
        self._closing = True
        self._wake.set()
        self._thread.join()
        self.save(bank, settings)
        return self._write_pending()

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait()
            self._wake.clear()
            if not self._closing:
                failure = self._write_pending()
                if failure is not None:
                    log.error("saving failed: %s", failure)

    def _write_pending(self) -> str | None:
        """Write what is pending; returns why that failed, None when it is written."""
        with self._lock:
            nets, self._nets = self._nets, None
            pending, self._pending = self._pending, None
        try:
            if nets is not None:
                self._data.replace_nets(nets)
                log.info("saved %d new nets in %s", len(nets), self._data.nets)
            if pending is not None:
                self._data.save(*pending)
                log.info("saved %s", self._data.root)
        except (BreakageError, OSError) as error:
            return str(error)
        return None
