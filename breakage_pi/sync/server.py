"""The device server: the protocol on a serial port, in a thread of its own beside the control loop."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from .frames import ProtocolError
from .library import DataDir
from .session import ChangedCallback, DeviceSession
from .transport import SerialTransport, Transport

POLL_S = 0.1
REOPEN_BACKOFF_S = (0.5, 5.0)
log = logging.getLogger(__name__)


def device_info() -> dict[str, Any]:
    """What HELLO tells the host: product, software version, and the Pi's serial number (the gadget's too)."""
    try:
        software = metadata.version("breakage-pi")
    except metadata.PackageNotFoundError:
        software = "unknown"
    return {"product": "Breakage Pi", "software": software, "serial": pi_serial()}


def pi_serial() -> str:
    """The board's serial number from the device tree, else the host name (off the Pi)."""
    for path in ("/sys/firmware/devicetree/base/serial-number", "/proc/device-tree/serial-number"):
        try:
            return Path(path).read_bytes().rstrip(b"\0\n").decode("ascii", "replace").lstrip("0") or "0"
        except OSError:
            continue
    return socket.gethostname()


class SyncServer:
    """Serves the data dir to a host over ``port`` (a serial device path) or a ready ``transport``.

    Runs in its own daemon thread: :meth:`start` returns at once, so the
    control loop never waits on the link. After a push or delete is applied
    it calls ``on_changed(kind, name)`` *from the server thread*: the daemon
    should post an event to its own queue there (e.g. reload ``bank.json``
    when ``kind == "bank"``). A port that cannot be opened, or vanishes, is
    retried with back-off; nothing the host sends stops the server. A second
    thread computes the SHA-256 of big files (:mod:`.hashes`) so that no
    answer waits for them; :meth:`prime` asks it for an item ahead of a pull.
    ``timeouts`` (``frame_timeout_s``, ``transfer_timeout_s``) go to the
    :class:`DeviceSession`.

    >>> import os, queue, tempfile
    >>> changes = queue.SimpleQueue()
    >>> device_end, host_end = os.openpty()           # on the Pi: port="/dev/ttyGS0"
    >>> server = SyncServer(tempfile.mkdtemp(), on_changed=lambda kind, name: changes.put((kind, name)),
    ...                     port=os.ttyname(device_end)).start()
    >>> server.stop()
    >>> os.close(device_end), os.close(host_end)
    (None, None)
    """

    def __init__(self, data_dir: str | os.PathLike[str], on_changed: ChangedCallback | None = None, *,
                 port: str | None = None, transport: Transport | None = None,
                 clock: Callable[[], float] = time.monotonic, **timeouts: float) -> None:
        if (port is None) == (transport is None):
            raise ValueError("give exactly one of port or transport")
        self.session = DeviceSession(DataDir(data_dir), device_info(), on_changed, **timeouts)
        self.port = port
        self._transport = transport
        self._clock = clock
        self._stop = threading.Event()
        self._link_down = False
        self._thread: threading.Thread | None = None

    def start(self) -> SyncServer:
        self._thread = threading.Thread(target=self.serve, name="breakage-pi-sync", daemon=True)
        self._thread.start()
        return self

    def prime(self, kind: str, name: str) -> None:
        """Compute an item's digests in the background now (a take just ended); safe from any thread."""
        self.session.data.prime(kind, name)

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        self.session.data.hashes.stop(timeout_s)
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self.port is not None and self._transport is not None:
            self._transport.close()
            self._transport = None

    def serve(self) -> None:
        """Serve until :meth:`stop` (run it in the calling thread for ``breakage-pi sync serve``)."""
        self.session.data.hashes.start()
        try:
            self.session.data.listing()      # queues the big files no digest is kept for, while no host waits
        except OSError as error:
            log.warning("sync: cannot read the data dir ahead: %s", error)
        backoff = REOPEN_BACKOFF_S[0]
        while not self._stop.is_set():
            transport = self._transport or self._open()
            if transport is None:
                self._stop.wait(backoff)
                backoff = min(backoff * 2, REOPEN_BACKOFF_S[1])
                continue
            backoff = REOPEN_BACKOFF_S[0]
            try:
                self._serve_link(transport)
            except OSError as error:  # the port vanished, no host is attached, or the host stopped reading
                self.session.link_lost()
                if not self._link_down:
                    log.warning("sync: link error on %s: %s (retrying quietly)", self.port or "transport", error)
                    self._link_down = True
                if self.port is None:
                    self._stop.wait(POLL_S)
                else:
                    transport.close()
                    self._transport = None

    def _open(self) -> Transport | None:
        try:
            self._transport = SerialTransport.open(self.port or "")
        except ProtocolError as error:
            if not self._link_down:
                log.warning("sync: %s (retrying quietly)", error)
                self._link_down = True
            return None
        self._link_down = False
        log.info("sync: serving %s on %s", self.session.data.root, self.port)
        return self._transport

    def _serve_link(self, transport: Transport) -> None:
        """Read, answer, and between reads send a pull's next data frame: a new request stops a pull at once."""
        while not self._stop.is_set():
            data = transport.read(0 if self.session.sending else POLL_S)
            if data and self._link_down:
                log.info("sync: link back on %s", self.port or "transport")
                self._link_down = False
            for out in self.session.receive(data, self._clock()):
                transport.write(out)
            for out in self.session.tick(self._clock()):
                transport.write(out)
            data_frame = self.session.next_data()
            if data_frame is not None:
                transport.write(data_frame)
