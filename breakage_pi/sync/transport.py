"""Thin byte transports under the protocol: a serial port (pyserial) or a raw file descriptor (a pty end)."""

from __future__ import annotations

import os
import select
from typing import Protocol

import serial

from .frames import ProtocolError


class Transport(Protocol):
    """What the server and the client need of a link: bytes in (waiting at most ``timeout_s``; 0 takes what has
    arrived) and out, and a name for messages."""

    name: str

    def read(self, timeout_s: float) -> bytes: ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class SerialTransport:
    """A pyserial port (``/dev/ttyGS0`` on the device, ``/dev/ttyACM0`` or ``COM3`` on the host)."""

    def __init__(self, port: serial.SerialBase) -> None:
        self.port = port
        self.name = str(port.port)

    @classmethod
    def open(cls, name: str, write_timeout_s: float = 10.0) -> SerialTransport:
        """Open ``name`` raw (pyserial turns echo and line editing off); the baud rate means nothing over USB."""
        try:
            return cls(serial.Serial(name, baudrate=115200, timeout=0.1, write_timeout=write_timeout_s))
        except (serial.SerialException, OSError) as error:
            raise ProtocolError("port", f"{name}: cannot open: {error}") from None

    def read(self, timeout_s: float) -> bytes:
        if timeout_s <= 0:  # without touching the timeout: pyserial reconfigures the port on every change
            waiting = self.port.in_waiting
            return self.port.read(waiting) if waiting else b""
        if self.port.timeout != timeout_s:
            self.port.timeout = timeout_s
        first = self.port.read(1)
        if not first:
            return b""
        return first + self.port.read(self.port.in_waiting)

    def write(self, data: bytes) -> None:
        self.port.write(data)

    def close(self) -> None:
        self.port.close()


class FdTransport:
    """A file descriptor, e.g. the master end of ``os.openpty()`` in tests; writes wait at most ``write_timeout_s``."""

    def __init__(self, fd: int, write_timeout_s: float = 10.0, name: str = "") -> None:
        self.fd = fd
        self.write_timeout_s = write_timeout_s
        self.name = name or f"file descriptor {fd}"
        os.set_blocking(fd, False)

    def read(self, timeout_s: float) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], timeout_s)
        if not ready:
            return b""
        try:
            return os.read(self.fd, 65536)
        except BlockingIOError:
            return b""

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            _, ready, _ = select.select([], [self.fd], [], self.write_timeout_s)
            if not ready:
                raise TimeoutError(f"peer stopped reading ({len(view)} bytes unsent)")
            try:
                view = view[os.write(self.fd, view):]
            except BlockingIOError:
                continue

    def close(self) -> None:
        os.close(self.fd)
