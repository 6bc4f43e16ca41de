"""A device server and a host client on the two ends of a pseudo-terminal, as over USB."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import serial

from breakage_pi.sync import FdTransport, ProtocolError, SerialTransport, SyncClient, SyncServer
from breakage_pi.sync.frames import ERROR, REQUEST, RESPONSE, Frame, FrameDecoder, encode_frame
from breakage_pi.sync.messages import encode_json


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
        self.raw = RawHost(self.client.transport)
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


class RawHost:
    """A host that sends whatever it is told, unchecked, as a hostile or buggy one would; reads answers by id."""

    def __init__(self, transport, timeout_s: float = 5.0) -> None:
        self.transport = transport
        self.timeout_s = timeout_s
        self._decoder = FrameDecoder()

    def send(self, frame_type: int, request_id: int, payload: bytes = b"") -> None:
        self.transport.write(encode_frame(Frame(frame_type, request_id, payload)))

    def request(self, request_id: int, **message) -> None:
        self.send(REQUEST, request_id, encode_json(message))

    def answer(self, request_id: int) -> dict:
        """The device's answer to ``request_id`` (other frames are dropped); an error frame raises it."""
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            for item in self._decoder.feed(self.transport.read(0.1)):
                if isinstance(item, Frame) and item.request_id == request_id and item.type in (RESPONSE, ERROR):
                    message = json.loads(item.payload)
                    if item.type == ERROR:
                        raise ProtocolError(message["code"], message["message"])
                    return message
        raise TimeoutError(f"no answer to request {request_id}")

    def call(self, request_id: int, **message) -> dict:
        self.request(request_id, **message)
        return self.answer(request_id)
