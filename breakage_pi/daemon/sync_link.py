"""USB sync served by the daemon while it plays: what a push changes, brought into the control loop.

The :class:`~breakage_pi.sync.SyncServer` runs in its own thread and
applies pushes and deletes to the data directory (a bad bank is refused
there). Its ``on_changed(kind, name)`` only posts to a queue; a worker
thread of this module reads what changed (parsing a bank, opening ONNX
sessions, checking kits: disk work the control loop must not wait for) and
the control loop, polling :meth:`SyncLink.poll` as a source, adopts the
result in one step: a new bank plays from the next block, new nets replace
the old (ordered by their metadata), a new kit is offered on the SHIFT page.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from pathlib import Path
from typing import Any, Callable

from ..core.bank import Bank
from ..core.errors import BreakageError
from ..core.instrument import BankLoaded, KitsFound
from ..core.settings import SyncConfig
from ..store import load_bank
from .datadir import DataDir
from .kits import playable_kits
from .nets import Nets
from .takes import Takes

log = logging.getLogger("breakage_pi")


def sync_port(config: SyncConfig) -> str | None:
    """The serial port to serve, or None (``"none"``, or the gadget's port absent: a Pi without the
    gadget, a development machine)."""
    if config.port == "none":
        return None
    if not os.path.exists(config.port):
        log.info("sync: %s is not there (no USB gadget); not serving sync", config.port)
        return None
    return config.port


class SyncLink:
    """The sync server beside the control loop, and what its changes mean to the instrument.

    ``load_nets()`` returns a freshly loaded net bank (or None) and
    ``adopt_nets(bank)`` makes it the one playing, returning the event for
    the state machine; ``playable_kits(bank)`` lists the kits that load;
    ``instrument()`` is the state machine's state now; ``reload_kit(name)``
    plays the kit ``name`` again (the one playing was pushed anew).
    """

    def __init__(self, port: str, data: DataDir, load_nets: Callable[[], Any], adopt_nets: Callable[[Any], Any],
                 playable_kits: Callable[[Bank], tuple[str, ...]], instrument: Callable[[], Any],
                 reload_kit: Callable[[str], None]) -> None:
        from ..sync import SyncServer

        self._data = data
        self._load_nets, self._adopt_nets, self._playable_kits = load_nets, adopt_nets, playable_kits
        self._instrument, self._reload_kit = instrument, reload_kit
        self._changes: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._ready: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.ready = threading.Event()
        """Set when a change is ready for :meth:`poll` (a waiting loop may wake on it); poll clears it."""
        self._worker = threading.Thread(target=self._work, name="sync-reload", daemon=True)
        self.server = SyncServer(data.root, on_changed=lambda kind, name: self._changes.put((kind, name)), port=port)

    def start(self) -> SyncLink:
        self._worker.start()
        self.server.start()
        return self

    def poll(self, now: float) -> list[Any]:
        """Events for the state machine from what the worker has made ready (a control loop source)."""
        events: list[Any] = []
        self.ready.clear()
        while True:
            try:
                kind, value = self._ready.get_nowait()
            except queue.Empty:
                return events
            if kind == "bank":
                events.append(BankLoaded(value, now))
            elif kind == "net":
                events.append(self._adopt_nets(value))
            else:
                name, kits = value
                events.append(KitsFound(kits, now))
                if name == self._instrument().kit and name in kits:
                    log.info("sync: kit %s pushed anew; playing it", name)
                    self._reload_kit(name)

    def take_finished(self, folder: Path) -> None:
        """A take's files are all written: its digests are computed in the background now, ahead of a pull."""
        self.server.prime("take", folder.name)

    def close(self) -> None:
        self.server.stop()
        self._changes.put(None)
        self._worker.join(5.0)

    def _work(self) -> None:
        while (change := self._changes.get()) is not None:
            kind, name = change
            try:
                self._reload(kind, name)
            except BreakageError as error:
                log.error("sync: %s %s was stored but cannot be played: %s", kind, name, error)
            self.ready.set()

    def _reload(self, kind: str, name: str) -> None:
        if kind == "bank":
            log.info("sync: a new %s arrived; playing it", name)
            self._ready.put(("bank", load_bank(self._data.bank)))
        elif kind == "net":
            log.info("sync: nets changed (%s); reloading them", name)
            self._ready.put(("net", self._load_nets()))
        elif kind == "kit":
            log.info("sync: kits changed (%s)", name)
            self._ready.put(("kit", (name, self._playable_kits(self._instrument().bank))))


def serve_sync(config: SyncConfig, controller: Any, data: DataDir, takes: Takes | None = None) -> SyncLink | None:
    """USB sync beside playing (``[sync] port``) for ``controller`` (a :class:`~.controller.Controller`), what
    it changes a source of the control loop; the ``takes`` (:class:`~.takes.Takes`) that end are hashed ahead of
    a pull. None when off."""
    port = sync_port(config)
    if port is None:
        return None
    link = SyncLink(port, data, lambda: Nets(data).bank, controller.nets.adopt, lambda bank: playable_kits(data, bank),
                    lambda: controller.state, lambda name: controller.on_kit(name)).start()
    controller.add_source(link.poll)
    if takes is not None:
        takes.on_finished = link.take_finished
    return link
