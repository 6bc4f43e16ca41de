"""Framing of the sync protocol: length-prefixed frames with CRC-32, and a decoder that resynchronises.

A frame on the wire (integers big-endian)::

    magic "BKPI" | type u8 | request id u32 | length u32 | header CRC-32 u32 | payload | payload CRC-32 u32

The header carries its own CRC so a corrupted length is caught at once
instead of making the reader wait for bytes that never come. After any
fault the decoder drops one byte and searches for the next magic, so a
stream of garbage followed by a good frame yields that frame. A frame that
never completes (a forged header announcing 64 KiB) is given up when its
sender falls silent, and the bytes it swallowed are searched again: the good
frames among them still arrive.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Iterator

from ..core.errors import BreakageError

MAGIC = b"BKPI"
_HEADER = struct.Struct(">4sBII")
_CRC = struct.Struct(">I")
HEADER_SIZE = _HEADER.size + _CRC.size
TRAILER_SIZE = _CRC.size
MAX_PAYLOAD = 64 * 1024
"""Largest payload of one frame, bytes: bounds the memory a peer can make us hold."""

REQUEST, RESPONSE, DATA, ERROR = 1, 2, 3, 4
FRAME_TYPES = {REQUEST: "request", RESPONSE: "response", DATA: "data", ERROR: "error"}
MAX_ID = 0xFFFF_FFFF


class ProtocolError(BreakageError, ValueError):
    """A fault in what a peer sent; ``code`` is the machine-readable kind carried in error frames."""

    def __init__(self, code: str, message: str, request_id: int | None = None) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        super().__init__(message)


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its type (REQUEST, RESPONSE, DATA, ERROR), the request id it belongs to, its payload."""

    type: int
    request_id: int
    payload: bytes = b""

    def __post_init__(self) -> None:
        if self.type not in FRAME_TYPES:
            raise ProtocolError("frame", f"unknown frame type {self.type}")
        if not 0 <= self.request_id <= MAX_ID:
            raise ProtocolError("frame", f"request id must be 0-{MAX_ID}, got {self.request_id}")
        if len(self.payload) > MAX_PAYLOAD:
            raise ProtocolError("too-big", f"payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD}")


def encode_frame(frame: Frame) -> bytes:
    """The bytes of ``frame`` on the wire."""
    header = _HEADER.pack(MAGIC, frame.type, frame.request_id, len(frame.payload))
    return b"".join((header, _CRC.pack(zlib.crc32(header)), frame.payload, _CRC.pack(zlib.crc32(frame.payload))))


class FrameDecoder:
    """Turns a byte stream into frames; faults are reported in-line and the stream resynchronises.

    ``feed`` yields :class:`Frame` objects and :class:`ProtocolError` objects
    (not raised: the caller answers them with an error frame and goes on).
    ``expire`` gives up on a partial frame whose sender fell silent and yields
    what the bytes after its start still hold.

    >>> decoder = FrameDecoder()
    >>> list(decoder.feed(b"noise" + encode_frame(Frame(REQUEST, 7, b"{}"))))[-1]
    Frame(type=1, request_id=7, payload=b'{}')
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._skipped = 0
        self._reported = False  # the current run of bad bytes has had its error

    @property
    def pending(self) -> int:
        """Bytes held towards an incomplete frame."""
        return len(self._buffer)

    @property
    def stale(self) -> bool:
        """Something :meth:`expire` would report: a partial frame, or garbage not yet reported."""
        return bool(self._buffer) or (self._skipped > 0 and not self._reported)

    def expire(self) -> Iterator[Frame | ProtocolError]:
        """The sender fell silent: one error for what cannot complete, then the frames found behind it.

        Every partial frame is given up a byte at a time and the rest searched
        again, so a forged length swallows nothing for good; what is left
        holds no frame start and is dropped.
        """
        held = len(self._buffer) + (0 if self._reported else self._skipped)
        if held:
            yield ProtocolError("timeout", f"incomplete frame dropped after the sender fell silent ({held} bytes)")
        self._reported = True
        while self._buffer:
            if not self._buffer.startswith(MAGIC):  # at most a few bytes that might have begun a magic
                self._buffer.clear()
                break
            self._skip(1)
            yield from self.feed(b"")
        self._skipped = 0
        self._reported = False

    def feed(self, data: bytes) -> Iterator[Frame | ProtocolError]:
        """Add received bytes; yield each complete frame, and one error per run of bad bytes."""
        self._buffer += data
        while True:
            start = self._buffer.find(MAGIC)
            if start < 0:
                keep = len(MAGIC) - 1  # the buffer's end may hold the start of a magic
                cut = max(len(self._buffer) - keep, 0)
                self._skip(cut)
                return
            if start:
                self._skip(start)
            if len(self._buffer) < HEADER_SIZE:
                return
            _, frame_type, request_id, length = _HEADER.unpack_from(self._buffer)
            (header_crc,) = _CRC.unpack_from(self._buffer, _HEADER.size)
            if header_crc != zlib.crc32(self._buffer[:_HEADER.size]):
                yield from self._reject(ProtocolError("checksum", "frame header fails its CRC-32"))
                continue
            if length > MAX_PAYLOAD or frame_type not in FRAME_TYPES:
                reason = (f"frame length {length} exceeds {MAX_PAYLOAD}" if length > MAX_PAYLOAD
                          else f"unknown frame type {frame_type}")
                yield from self._reject(ProtocolError("frame", reason))
                continue
            end = HEADER_SIZE + length
            if len(self._buffer) < end + TRAILER_SIZE:
                return
            payload = bytes(self._buffer[HEADER_SIZE:end])
            (payload_crc,) = _CRC.unpack_from(self._buffer, end)
            if payload_crc != zlib.crc32(payload):
                yield from self._reject(ProtocolError(
                    "checksum", f"frame payload ({length} bytes) fails its CRC-32", request_id))
                continue
            yield from self._flush_skipped()
            del self._buffer[:end + TRAILER_SIZE]
            yield Frame(frame_type, request_id, payload)

    def _skip(self, count: int) -> None:
        del self._buffer[:count]
        self._skipped += count

    def _flush_skipped(self) -> Iterator[ProtocolError]:
        if self._skipped and not self._reported:
            yield ProtocolError("frame", f"{self._skipped} byte(s) of garbage before a frame skipped")
        self._skipped = 0
        self._reported = False

    def _reject(self, error: ProtocolError) -> Iterator[ProtocolError]:
        """Drop the first byte of a bad frame so the search for the next magic starts after it."""
        self._buffer[:1] = b""
        self._skipped += 1
        if not self._reported:
            self._reported = True
            yield error
