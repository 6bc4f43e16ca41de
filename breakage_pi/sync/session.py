"""The device side of the protocol as a pure state machine: bytes and the time in, frames out.

No thread and no port here (the server adds those), so tests and the fuzzer
drive it directly, with time passed in (seconds, any monotonic origin).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .frames import DATA, ERROR, REQUEST, RESPONSE, Frame, FrameDecoder, ProtocolError, encode_frame
from .library import DataDir
from .messages import (CHUNK_BYTES, PROTOCOL_VERSION, FileEntry, check_files, check_request, decode_json,
                       encode_json, error_message)

FRAME_TIMEOUT_S = 2.0
"""A partial frame is dropped when its sender stays silent this long."""
TRANSFER_TIMEOUT_S = 5.0
"""A push is abandoned (nothing written) when no data arrives for this long."""

log = logging.getLogger(__name__)
ChangedCallback = Callable[[str, str], None]


@dataclass
class _Push:
    request_id: int
    kind: str
    name: str
    files: tuple[FileEntry, ...]
    last_seen: float
    received: bytearray = field(default_factory=bytearray)

    @property
    def expected(self) -> int:
        return sum(entry.size for entry in self.files)


class DeviceSession:
    """Answers one host: feed it received bytes with :meth:`receive`, call :meth:`tick` when idle.

    Both return the frames to send, as bytes. ``on_changed(kind, name)`` is
    called after a push or delete is applied (the data dir already holds the
    result). Nothing the peer sends raises: faults become error frames.
    """

    def __init__(self, data: DataDir, device_info: dict[str, Any], on_changed: ChangedCallback | None = None) -> None:
        self.data = data
        self.device_info = device_info
        self.on_changed = on_changed
        self._decoder = FrameDecoder()
        self._push: _Push | None = None
        self._last_byte = 0.0

    def receive(self, data: bytes, now: float) -> Iterator[bytes]:
        """Bytes from the host; yields the bytes to send back (frames), as soon as each is ready."""
        if data:
            self._last_byte = now
        for item in self._decoder.feed(data):
            if isinstance(item, ProtocolError):
                yield from self._fault(item)
            else:
                yield from self._frame(item, now)

    def tick(self, now: float) -> Iterator[bytes]:
        """Time passes: drop a partial frame or an abandoned push whose sender fell silent."""
        if self._decoder.pending and now - self._last_byte > FRAME_TIMEOUT_S:
            error = self._decoder.expire()
            if error is not None:
                yield _error(0, error)
        if self._push is not None and now - self._push.last_seen > TRANSFER_TIMEOUT_S:
            push, self._push = self._push, None
            yield _error(push.request_id, ProtocolError(
                "timeout", f"push of {push.kind} {push.name!r} abandoned after {TRANSFER_TIMEOUT_S:g} s of silence "
                           f"({len(push.received)} of {push.expected} bytes received); nothing was changed"))

    def _fault(self, error: ProtocolError) -> Iterator[bytes]:
        push = self._push
        if push is not None and error.request_id == push.request_id:
            self._push = None
            error = ProtocolError("checksum", f"{error.message}; push of {push.kind} {push.name!r} abandoned, "
                                              "nothing was changed")
            yield _error(push.request_id, error)
        else:
            yield _error(error.request_id or 0, error)

    def _frame(self, frame: Frame, now: float) -> Iterator[bytes]:
        try:
            yield from (self._data(frame, now) if frame.type == DATA else self._request(frame, now))
        except ProtocolError as error:
            yield _error(frame.request_id, error)
        except Exception as error:  # the daemon must never crash on what a host sends; the host learns it failed
            log.exception("sync: frame for request %d failed", frame.request_id)
            self._push = None
            yield _error(frame.request_id, ProtocolError("internal", f"device error: {error}"))

    def _request(self, frame: Frame, now: float) -> Iterator[bytes]:
        if frame.type != REQUEST:
            yield _error(frame.request_id, ProtocolError("bad-request", "a device takes requests and data only"))
            return
        if self._push is not None:
            push, self._push = self._push, None
            yield _error(push.request_id, ProtocolError(
                "truncated", f"push of {push.kind} {push.name!r} interrupted by a new request after "
                             f"{len(push.received)} of {push.expected} bytes; nothing was changed"))
        request = check_request(decode_json(frame.payload))
        yield from getattr(self, f"_op_{request['op']}")(frame.request_id, request, now)

    def _op_hello(self, request_id: int, request: dict[str, Any], now: float) -> Iterator[bytes]:
        if request["version"] != PROTOCOL_VERSION:
            raise ProtocolError("version", f"protocol version mismatch: the device speaks {PROTOCOL_VERSION}, "
                                           f"the host {request['version']}; update breakage-pi on the older side")
        yield _response(request_id, {"version": PROTOCOL_VERSION, **self.device_info})

    def _op_list(self, request_id: int, request: dict[str, Any], now: float) -> Iterator[bytes]:
        yield _response(request_id, {"items": [item.summary() for item in self.data.items()]})

    def _op_pull(self, request_id: int, request: dict[str, Any], now: float) -> Iterator[bytes]:
        item = self.data.read(request["kind"], request["name"])
        yield _response(request_id, {**item.summary(), "files": [entry.to_data() for entry in item.files]})
        for content in item.contents:
            for start in range(0, len(content), CHUNK_BYTES):
                yield encode_frame(Frame(DATA, request_id, content[start:start + CHUNK_BYTES]))

    def _op_push(self, request_id: int, request: dict[str, Any], now: float) -> Iterator[bytes]:
        files = check_files(request["kind"], request["files"])
        self.data.check_push(request["kind"], request["name"], files)
        push = _Push(request_id, request["kind"], request["name"], files, now)
        yield _response(request_id, {"ready": True})
        if push.expected:
            self._push = push
        else:
            yield from self._apply(push)

    def _op_delete(self, request_id: int, request: dict[str, Any], now: float) -> Iterator[bytes]:
        self.data.delete(request["kind"], request["name"])
        self._changed(request["kind"], request["name"])
        yield _response(request_id, {"deleted": True})

    def _data(self, frame: Frame, now: float) -> Iterator[bytes]:
        push = self._push
        if push is None or frame.request_id != push.request_id:
            yield _error(frame.request_id, ProtocolError("bad-request", "data frame with no push under way"))
            return
        push.received += frame.payload
        push.last_seen = now
        if len(push.received) > push.expected:
            self._push = None
            yield _error(push.request_id, ProtocolError(
                "too-big", f"push of {push.kind} {push.name!r} sent more than the {push.expected} bytes announced; "
                           "nothing was changed"))
        elif len(push.received) == push.expected:
            self._push = None
            yield from self._apply(push)

    def _apply(self, push: _Push) -> Iterator[bytes]:
        contents: dict[str, bytes] = {}
        offset = 0
        for entry in push.files:
            content = bytes(push.received[offset:offset + entry.size])
            offset += entry.size
            if hashlib.sha256(content).hexdigest() != entry.sha256:
                yield _error(push.request_id, ProtocolError(
                    "checksum", f"{entry.path}: SHA-256 of the received bytes does not match; nothing was changed"))
                return
            contents[entry.path] = content
        try:
            self.data.replace(push.kind, push.name, contents)
        except ProtocolError as error:
            yield _error(push.request_id, error)
            return
        self._changed(push.kind, push.name)
        yield _response(push.request_id, {"done": True, "size": push.expected})

    def _changed(self, kind: str, name: str) -> None:
        if self.on_changed is None:
            return
        try:
            self.on_changed(kind, name)
        except Exception:  # the change is applied; a failing listener must not break the link
            log.exception("sync: on_changed(%s, %s) failed", kind, name)


def _response(request_id: int, message: dict[str, Any]) -> bytes:
    return encode_frame(Frame(RESPONSE, request_id, encode_json(message)))


def _error(request_id: int, error: ProtocolError) -> bytes:
    return encode_frame(Frame(ERROR, request_id, encode_json(error_message(error))))
