"""A device server and a host client on the two ends of a pseudo-terminal, as over USB."""

from __future__ import annotations

import os
from pathlib import Path

import serial

from breakage_pi.sync import FdTransport, SerialTransport, SyncClient, SyncServer


class PtyLink:
    """The server on the pty's master end (the device), pyserial on its slave end (the host)."""

    def __init__(self, data_dir: Path, timeout_s: float = 5.0) -> None:
        master, slave = os.openpty()
        self.port_name = os.ttyname(slave)
        self.host = serial.Serial(self.port_name, timeout=0.1)
        os.close(slave)
        self.changes: list[tuple[str, str]] = []
        self.server = SyncServer(data_dir, on_changed=self._changed, transport=FdTransport(master)).start()
        self.client = SyncClient(SerialTransport(self.host), timeout_s=timeout_s)
        self.on_change = None

    def _changed(self, kind: str, name: str) -> None:
        self.changes.append((kind, name))
        if self.on_change is not None:
            self.on_change(kind, name)

    def close(self) -> None:
        if self.server is None:
            return
        self.server.stop()
        self.host.close()
        self.server._transport.close()
        self.server = None


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (None) under ``root``, hidden ones too: to prove nothing changed."""
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}
