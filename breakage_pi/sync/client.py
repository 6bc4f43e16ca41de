"""The host side of the protocol: HELLO, list, pull, push, delete over a transport."""

from __future__ import annotations

import hashlib
import itertools
import time
from dataclasses import dataclass
from typing import Any, Callable

from .frames import DATA, ERROR, REQUEST, RESPONSE, Frame, FrameDecoder, ProtocolError, encode_frame
from .library import file_entry
from .messages import CHUNK_BYTES, PROTOCOL_VERSION, FileEntry, check_files, check_item, decode_json, encode_json
from .transport import Transport

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) as a transfer moves."""


@dataclass(frozen=True)
class PulledItem:
    kind: str
    name: str
    files: tuple[FileEntry, ...]
    contents: tuple[bytes, ...]


class SyncClient:
    """Talks to a device; every failure raises :class:`ProtocolError` with a message for the user.

    >>> client = SyncClient(SerialTransport.open("/dev/ttyACM0"))    # doctest: +SKIP
    >>> client.hello()["serial"]                                     # doctest: +SKIP
    >>> [item["name"] for item in client.list()]                     # doctest: +SKIP
    """

    def __init__(self, transport: Transport, timeout_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.transport = transport
        self.timeout_s = timeout_s
        self._clock = clock
        self._decoder = FrameDecoder()
        self._ids = itertools.count(1)
        self._frames: list[Frame] = []

    def hello(self) -> dict[str, Any]:
        """Exchange versions; the device's info (product, software, serial, version)."""
        self.transport.read(0)  # drop what an earlier session left on the line
        info = self._call({"op": "hello", "version": PROTOCOL_VERSION, "client": "breakage-pi"})[1]
        if info.get("version") != PROTOCOL_VERSION:
            raise ProtocolError("version", f"protocol version mismatch: the host speaks {PROTOCOL_VERSION}, "
                                           f"the device {info.get('version')}")
        return info

    def list(self) -> list[dict[str, Any]]:
        """Every item on the device: kind, name, size (bytes), modified (Unix seconds), sha256, files."""
        return list(self._call({"op": "list"})[1]["items"])

    def pull(self, kind: str, name: str, progress: Progress | None = None) -> PulledItem:
        """An item's files, each checked against the SHA-256 the device announced."""
        check_item(kind, name)
        request_id, header = self._call({"op": "pull", "kind": kind, "name": name})
        files = tuple(FileEntry(f["path"], f["size"], f["sha256"]) for f in header["files"])
        total = sum(entry.size for entry in files)
        received = bytearray()
        while len(received) < total:
            frame = self._next_frame(request_id)
            if frame.type != DATA:
                raise ProtocolError("bad-response", f"expected data, got a frame of type {frame.type}")
            received += frame.payload
            if progress:
                progress(min(len(received), total), total)
        if len(received) != total:
            raise ProtocolError("bad-response", f"device sent {len(received)} bytes, announced {total}")
        contents, offset = [], 0
        for entry in files:
            content = bytes(received[offset:offset + entry.size])
            offset += entry.size
            if hashlib.sha256(content).hexdigest() != entry.sha256:
                raise ProtocolError("checksum", f"{kind} {name}: {entry.path}: SHA-256 mismatch after transfer")
            contents.append(content)
        return PulledItem(kind, name, files, tuple(contents))

    def push(self, kind: str, name: str, files: dict[str, bytes], progress: Progress | None = None) -> None:
        """Send an item; the device checks every byte and replaces its copy atomically, or changes nothing."""
        entries = [file_entry(path, content).to_data() for path, content in sorted(files.items())]
        check_item(kind, name)
        check_files(kind, entries)
        request_id, _ = self._call({"op": "push", "kind": kind, "name": name, "files": entries})
        blob = b"".join(content for _, content in sorted(files.items()))
        for start in range(0, len(blob), CHUNK_BYTES):
            self.transport.write(encode_frame(Frame(DATA, request_id, blob[start:start + CHUNK_BYTES])))
            if progress:
                progress(min(start + CHUNK_BYTES, len(blob)), len(blob))
        if blob:
            self._response(request_id)

    def delete(self, kind: str, name: str) -> None:
        check_item(kind, name)
        self._call({"op": "delete", "kind": kind, "name": name})

    def _call(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        request_id = next(self._ids)
        self.transport.write(encode_frame(Frame(REQUEST, request_id, encode_json(request))))
        return request_id, self._response(request_id)

    def _response(self, request_id: int) -> dict[str, Any]:
        frame = self._next_frame(request_id)
        if frame.type != RESPONSE:
            raise ProtocolError("bad-response", f"expected a response, got a frame of type {frame.type}")
        message = decode_json(frame.payload)
        if not isinstance(message, dict):
            raise ProtocolError("bad-response", "response is not a JSON object")
        return message

    def _next_frame(self, request_id: int) -> Frame:
        """The next frame for ``request_id``; an error frame for it (or for no request) raises."""
        deadline = self._clock() + self.timeout_s
        while True:
            while self._frames:
                frame = self._frames.pop(0)
                if frame.type == ERROR and frame.request_id in (request_id, 0):
                    raise _device_error(frame)
                if frame.request_id == request_id and frame.type != REQUEST:  # a request is our own echo
                    return frame
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise ProtocolError("timeout", f"no answer from the device within {self.timeout_s:g} s "
                                               "(is breakage-pi running on it?)")
            for item in self._decoder.feed(self.transport.read(min(remaining, 0.5))):
                if isinstance(item, ProtocolError):
                    raise ProtocolError(item.code, f"garbled data from the device: {item.message}")
                self._frames.append(item)
                deadline = self._clock() + self.timeout_s


def _device_error(frame: Frame) -> ProtocolError:
    try:
        message = decode_json(frame.payload)
        return ProtocolError(str(message["code"]), f"device: {message['message']}")
    except (ProtocolError, KeyError, TypeError):
        return ProtocolError("bad-response", "device sent an unreadable error frame")
