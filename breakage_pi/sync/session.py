"""The device side of the protocol as a pure state machine: bytes and the time in, frames out.

No thread and no port here (the server adds those), so tests and the fuzzer
drive it directly, with time passed in (seconds, any monotonic origin).

Noise costs at most the exchange it hits: what the device reports on its own
(garbage, a frame given up) goes out under request id 0, which no request
uses; any fault while a push is under way abandons that push with an error
under its id (the fault may have eaten its data); a pull's data goes out a
frame at a time (:meth:`DeviceSession.next_data`), each read from disk as it
is asked for (a take of gigabytes costs one frame of memory), and any new
request stops it, so a host that gave up on a pull is answered at once. A
file that changes while it is sent ends the pull with an error frame
(``changed``) in place of the rest of its data.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterable, Iterator

from .frames import DATA, ERROR, REQUEST, RESPONSE, Frame, FrameDecoder, ProtocolError, encode_frame
from .library import DataDir
from .messages import (CHUNK_BYTES, PROTOCOL_VERSION, FileEntry, check_request, decode_json, encode_json,
                       error_message, within_first_limits)

FRAME_TIMEOUT_S = 2.0
"""A partial frame is dropped when its sender stays silent this long."""
TRANSFER_TIMEOUT_S = 5.0
"""A push is abandoned (nothing written) when no data arrives for this long."""

UNSOLICITED = 0
"""The request id of reports nobody asked for (noise, a frame given up): a host never takes them as an answer."""

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


@dataclass
class _Pull:
    request_id: int
    kind: str
    name: str
    pieces: Generator[bytes, None, None]
    """The files' bytes, read as they are asked for (:meth:`DataDir.stream`)."""


class DeviceSession:
    """Answers one host: feed it received bytes with :meth:`receive`, call :meth:`tick` when idle.

    Both return the frames to send, as bytes; while :attr:`sending`, send
    :meth:`next_data` too. ``on_changed(kind, name)`` is called after a push
    or delete is applied (the data dir already holds the result). Nothing the
    peer sends raises: faults become error frames. The timeouts are seconds
    of silence after which a partial frame or a push is given up.
    """

    def __init__(self, data: DataDir, device_info: dict[str, Any], on_changed: ChangedCallback | None = None, *,
                 frame_timeout_s: float = FRAME_TIMEOUT_S, transfer_timeout_s: float = TRANSFER_TIMEOUT_S) -> None:
        self.data = data
        self.device_info = device_info
        self.on_changed = on_changed
        self.frame_timeout_s = frame_timeout_s
        self.transfer_timeout_s = transfer_timeout_s
        self._decoder = FrameDecoder()
        self._push: _Push | None = None
        self._abandoned_push: int | None = None  # its stray data frames are dropped without an answer each
        self._pull: _Pull | None = None
        self._last_byte = 0.0

    @property
    def sending(self) -> bool:
        """A pull's data is under way: call :meth:`next_data` between reads."""
        return self._pull is not None

    def next_data(self) -> bytes | None:
        """The next DATA frame of the pull under way, read from disk now (None when there is none); an error
        frame in its place if the file cannot be read or changed while it was sent."""
        pull = self._pull
        if pull is None:
            return None
        try:
            piece = next(pull.pieces, None)
        except ProtocolError as error:
            self._end_pull()
            return _error(pull.request_id, error)
        except OSError as error:
            self._end_pull()
            return _error(pull.request_id, ProtocolError("io", f"pull of {pull.kind} {pull.name!r}: cannot read: "
                                                               f"{error.strerror or error}"))
        if piece is None:
            self._end_pull()
            return None
        return encode_frame(Frame(DATA, pull.request_id, piece))

    def receive(self, data: bytes, now: float) -> Iterator[bytes]:
        """Bytes from the host; yields the bytes to send back (frames), as soon as each is ready."""
        if data:
            self._last_byte = now
        yield from self._decoded(self._decoder.feed(data), now)

    def tick(self, now: float) -> Iterator[bytes]:
        """Time passes: give up a partial frame (and answer the frames behind it) or a push whose sender fell
        silent."""
        if self._decoder.stale and now - self._last_byte > self.frame_timeout_s:
            yield from self._decoded(self._decoder.expire(), now)
        if self._push is not None and now - self._push.last_seen > self.transfer_timeout_s:
            push = self._abandon_push()
            yield _error(push.request_id, ProtocolError(
                "timeout", f"push of {push.kind} {push.name!r} abandoned after {self.transfer_timeout_s:g} s of "
                           f"silence ({len(push.received)} of {push.expected} bytes received); nothing was changed"))

    def link_lost(self) -> None:
        """The port failed or vanished: a transfer under way and a half-received frame are gone with it."""
        if self._push is not None:
            self._abandon_push()
        self._end_pull()
        self._decoder = FrameDecoder()

    def _decoded(self, items: Iterable[Frame | ProtocolError], now: float) -> Iterator[bytes]:
        for item in items:
            if isinstance(item, ProtocolError):
                yield from self._fault(item)
            else:
                yield from self._frame(item, now)

    def _fault(self, error: ProtocolError) -> Iterator[bytes]:
        """Garbled bytes: reported under the id of the frame they belonged to when its header was intact, else
        as unsolicited; a push under way is abandoned (the garbage may have been its data)."""
        if self._push is not None:
            push = self._abandon_push()
            yield _error(push.request_id, ProtocolError(
                error.code, f"{error.message}; push of {push.kind} {push.name!r} abandoned after "
                            f"{len(push.received)} of {push.expected} bytes, nothing was changed"))
            if error.request_id in (None, push.request_id):
                return
        yield _error(error.request_id or UNSOLICITED, error)

    def _abandon_push(self) -> _Push:
        push, self._push = self._push, None
        assert push is not None
        self._abandoned_push = push.request_id
        return push

    def _frame(self, frame: Frame, now: float) -> Iterator[bytes]:
        try:
            yield from (self._data(frame, now) if frame.type == DATA else self._request(frame, now))
        except ProtocolError as error:
            yield _error(frame.request_id, error)
        except Exception as error:  # the daemon must never crash on what a host sends; the host learns it failed
            log.exception("sync: frame for request %d failed", frame.request_id)
            self._push = None
            self._end_pull()
            yield _error(frame.request_id, ProtocolError("internal", f"device error: {error}"))

    def _request(self, frame: Frame, now: float) -> Iterator[bytes]:
        if frame.type != REQUEST:
            yield _error(frame.request_id, ProtocolError("bad-request", "a device takes requests and data only"))
            return
        if self._pull is not None:  # the host gave up on it, or another host speaks: either way it learns
            pull = self._pull
            self._end_pull()
            yield _error(pull.request_id, ProtocolError(
                "truncated", f"pull of {pull.kind} {pull.name!r} stopped by a new request"))
        if self._push is not None:
            push = self._abandon_push()
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
        ready, pending = self.data.listing()
        first = [item.summary() for item in ready if within_first_limits(item.files)]
        more = [{**item.summary(), "state": "ready"} for item in ready if not within_first_limits(item.files)]
        yield _response(request_id, {"items": first, "more": more + pending})

    def _op_pull(self, request_id: int, request: dict[str, Any], now: float) -> Iterator[bytes]:
        item = self.data.read(request["kind"], request["name"])
        yield _response(request_id, {**item.summary(), "files": [entry.to_data() for entry in item.files]})
        self._pull = _Pull(request_id, item.kind, item.name, self.data.stream(item, CHUNK_BYTES))

    def _end_pull(self) -> None:
        """Forget the pull under way, closing the file it reads."""
        pull, self._pull = self._pull, None
        if pull is not None:
            pull.pieces.close()

    def _op_push(self, request_id: int, request: dict[str, Any], now: float) -> Iterator[bytes]:
        files = tuple(FileEntry(**entry) for entry in request["files"])  # check_request has checked them
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
            if frame.request_id != self._abandoned_push:  # the host learnt of that push's end once
                yield _error(frame.request_id, ProtocolError("bad-request", "data frame with no push under way"))
            return
        push.received += frame.payload
        push.last_seen = now
        if len(push.received) > push.expected:
            self._abandon_push()
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
