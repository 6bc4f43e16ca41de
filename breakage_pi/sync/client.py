"""The host side of the protocol: HELLO, list, pull, push, delete over a transport.

The host trusts nothing the device says. Every answer goes through the rules
the device applies to a host (:mod:`messages`: names, counts, sizes, one
file per bank or net), an answer that breaks them is an error naming the
device, and a pulled item is written only inside the folder asked for
(:meth:`PulledItem.save`, or :meth:`SyncClient.pull_into` straight from the
line: a take of gigabytes with a frame's worth of memory, :mod:`.receive`).
A device still computing an item's digests answers ``busy``: the client asks
again for as long as the device makes progress.

Noise on the line costs at most the exchange it hits. Reports the device
sends on its own (request id 0) are logged, never taken as an answer; frames
for another request are dropped; an exchange hit by noise (garbled bytes
while it waits, an error saying its frames were garbled) is tried once more
under a new id. Every request is safe to repeat: hello, list and pull change
nothing, a push replaces an item with the same bytes, and a repeated delete
that finds the item gone has found its own work done.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager, TypeVar

from ..core.errors import printable
from .frames import DATA, ERROR, REQUEST, RESPONSE, Frame, FrameDecoder, ProtocolError, encode_frame
from .library import file_entry
from .messages import (CHUNK_BYTES, PROTOCOL_VERSION, Busy, FileEntry, check_hello_answer, check_item,
                       check_item_files, check_listing, check_pull_answer, decode_json, encode_json,
                       within_first_limits)
from .receive import FolderWriter, Incoming, MemorySink, Mismatch, Sink
from .session import FRAME_TIMEOUT_S, UNSOLICITED
from .transport import Transport

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) as a transfer moves."""
LINE_FAULTS = frozenset({"checksum", "frame", "timeout", "truncated", "changed"})
"""Error codes that blame the line (or a file that changed under the device), not the request: the exchange is
tried again."""
BUSY_POLL_S = 0.5
"""How often a device that is still computing digests is asked again."""
DRAIN_READS = 64
"""Reads (of up to 64 KiB) to clear what an earlier exchange left on the line before a request."""

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_S = TypeVar("_S", bound=Sink)


class LineNoise(ProtocolError):
    """An exchange hit by noise (or anything else that garbled its frames): worth one more try."""


@dataclass(frozen=True)
class PulledItem:
    """An item as pulled: its files (checked as every answer is) and their bytes, in the same order."""

    kind: str
    name: str
    files: tuple[FileEntry, ...]
    contents: tuple[bytes, ...]

    def save(self, directory: Path, force: bool = False) -> Path:
        """Write the files into ``directory`` (a kit into its folder ``directory/NAME``); where they went.

        Each file is written atomically, only inside that folder and never
        through a link; nothing is written unless every file can be (a local
        file that differs is replaced only with ``force``).
        """
        with FolderWriter(self.kind, self.name, self.files, directory, force) as writer:
            incoming = Incoming(self.files, writer)
            for content in self.contents:
                incoming.feed(content)
            writer.commit()
        return writer.where


class SyncClient:
    """Talks to a device; every failure raises :class:`ProtocolError` with a message for the user.

    ``timeout_s`` is how long the device may stay silent while an answer is
    due; a partial frame is given up after ``frame_timeout_s`` of silence.
    ``retries`` counts exchanges tried again after noise, ``noise_reports``
    the device's own reports of noise it heard.

    >>> client = SyncClient(SerialTransport.open("/dev/ttyACM0"))    # doctest: +SKIP
    >>> client.hello()["serial"]                                     # doctest: +SKIP
    >>> [item["name"] for item in client.list()]                     # doctest: +SKIP
    """

    def __init__(self, transport: Transport, timeout_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic, frame_timeout_s: float = FRAME_TIMEOUT_S,
                 on_wait: Callable[[str], None] | None = None) -> None:
        self.transport = transport
        self.on_wait = on_wait
        """Told once per request, with the device's words, when it has to wait for the device (busy)."""
        self.timeout_s = timeout_s
        self.frame_timeout_s = min(frame_timeout_s, timeout_s / 2)
        self.device = f"the device on {transport.name}"
        """The device as messages name it: its port, and after :meth:`hello` its serial number."""
        self.retries = 0
        self.noise_reports = 0
        self._clock = clock
        self._decoder = FrameDecoder()
        self._received: collections.deque[Frame | ProtocolError] = collections.deque()
        self._ids = itertools.count(1)
        self._last_byte = clock()
        self._what = "request"
        self._retrying = False

    def hello(self) -> dict[str, Any]:
        """Exchange versions; the device's info (product, software, serial, version)."""
        request = {"op": "hello", "version": PROTOCOL_VERSION, "client": "breakage-pi"}

        def attempt(request_id: int) -> dict[str, Any]:
            answer = self._call(request_id, request)
            try:
                return check_hello_answer(answer)
            except ProtocolError as error:
                if error.code == "version":
                    raise
                raise self._hostile(error) from None

        info = self._exchange("hello", attempt)
        self.device = f"the device {info['serial']} on {self.transport.name}"
        return info

    def list(self) -> list[dict[str, Any]]:
        """Every item on the device: kind, name, size (bytes), modified (Unix seconds), sha256, files and state:
        ``ready``, or pending (``recording``: a take being recorded; ``checking``: the device is computing its
        digests, ``done`` bytes of ``size``), with no sha256 (None)."""
        def attempt(request_id: int) -> list[dict[str, Any]]:
            answer = self._call(request_id, {"op": "list"})
            try:
                return check_listing(answer)
            except ProtocolError as error:
                raise self._hostile(error) from None

        return self._exchange("list", attempt)

    def pull(self, kind: str, name: str, progress: Progress | None = None) -> PulledItem:
        """An item's files in memory, each checked against the SHA-256 the device announced (within the first
        limits: a bank, a net, a kit, a short take; a take of gigabytes goes to disk with :meth:`pull_into`)."""
        check_item(kind, name)

        def sink(files: tuple[FileEntry, ...]) -> ContextManager[MemorySink]:
            if not within_first_limits(files):
                raise ProtocolError("too-big", f"{kind} {name} is {sum(entry.size for entry in files)} bytes, too "
                                               "big to hold in memory: pull it into a folder")
            return contextlib.nullcontext(MemorySink())

        def attempt(request_id: int) -> PulledItem:
            files, memory = self._pull_files(request_id, kind, name, sink, progress)
            return PulledItem(kind, name, files, tuple(memory.contents))

        return self._patiently(f"{kind} {name}", lambda: self._exchange(f"pull of {kind} {name}", attempt))

    def pull_into(self, kind: str, name: str, directory: Path, force: bool = False,
                  progress: Progress | None = None) -> tuple[Path, int]:
        """Pull an item straight into ``directory`` (a kit or a take into ``directory/NAME``), whatever its size,
        with a frame's worth of memory; where it went and its bytes. Written as :class:`~.receive.FolderWriter`
        writes: each file to a temporary file as it arrives, renamed into place once every file matched."""
        check_item(kind, name)

        def sink(files: tuple[FileEntry, ...]) -> FolderWriter:
            return FolderWriter(kind, name, files, Path(directory), force)

        def attempt(request_id: int) -> tuple[Path, int]:
            files, writer = self._pull_files(request_id, kind, name, sink, progress)
            return writer.where, sum(entry.size for entry in files)

        return self._patiently(f"{kind} {name}", lambda: self._exchange(f"pull of {kind} {name}", attempt))

    def _pull_files(self, request_id: int, kind: str, name: str,
                    sink_for: Callable[[tuple[FileEntry, ...]], ContextManager[_S]],
                    progress: Progress | None) -> tuple[tuple[FileEntry, ...], _S]:
        """Ask for an item and hand its files to the sink ``sink_for(files)`` makes, committed once all matched."""
        header = self._call(request_id, {"op": "pull", "kind": kind, "name": name})
        try:
            files = check_pull_answer(kind, name, header)
        except ProtocolError as error:
            raise self._hostile(error) from None
        with sink_for(files) as sink:
            incoming = Incoming(files, sink)
            while not incoming.complete:
                frame = self._await(request_id, data=True)
                if frame.type != DATA:
                    raise self._hostile(ProtocolError("bad-response", "a second answer amid the data"))
                try:
                    incoming.feed(frame.payload)
                except Mismatch as mismatch:
                    raise LineNoise("checksum", f"{kind} {name}: {mismatch.message}") from None
                except ProtocolError as error:
                    raise self._hostile(error) from None
                if progress:
                    progress(incoming.received, incoming.total)
            sink.commit()
        return files, sink

    def push(self, kind: str, name: str, files: dict[str, bytes], progress: Progress | None = None) -> None:
        """Send an item; the device checks every byte and replaces its copy atomically, or changes nothing."""
        entries = [file_entry(path, content).to_data() for path, content in sorted(files.items())]
        check_item(kind, name)
        check_item_files(kind, name, entries)
        request = {"op": "push", "kind": kind, "name": name, "files": entries}
        blob = b"".join(content for _, content in sorted(files.items()))

        def attempt(request_id: int) -> None:
            if self._call(request_id, request).get("ready") is not True:
                raise self._hostile(ProtocolError("bad-response", "no 'ready'"))
            for start in range(0, len(blob), CHUNK_BYTES):
                self.transport.write(encode_frame(Frame(DATA, request_id, blob[start:start + CHUNK_BYTES])))
                self._stop_if_refused(request_id)
                if progress:
                    progress(min(start + CHUNK_BYTES, len(blob)), len(blob))
            if self._answer(request_id).get("done") is not True:
                raise self._hostile(ProtocolError("bad-response", "no 'done'"))

        self._exchange(f"push of {kind} {name}", attempt)

    def delete(self, kind: str, name: str) -> None:
        """Delete an item; tried again after noise, a delete that finds the item gone is done."""
        check_item(kind, name)

        def attempt(request_id: int) -> None:
            try:
                self._call(request_id, {"op": "delete", "kind": kind, "name": name})
            except ProtocolError as error:
                if not (self._retrying and error.code == "not-found"):
                    raise

        self._exchange(f"delete of {kind} {name}", attempt)

    def _patiently(self, subject: str, exchange: Callable[[], _T]) -> _T:
        """Run ``exchange``; while the device answers busy (computing the digests of ``subject``), ask again every
        :data:`BUSY_POLL_S`, for as long as it makes progress (more bytes hashed at least every ``timeout_s``)."""
        best, since, told = -1, self._clock(), False
        while True:
            try:
                return exchange()
            except Busy as busy:
                now, done = self._clock(), f"{busy.done / 1e6:.0f} of {busy.total / 1e6:.0f} MB"
                if busy.done > best:
                    best, since = busy.done, now
                elif now - since > self.timeout_s:
                    raise ProtocolError("busy", f"{self.device} made no progress computing the SHA-256 of "
                                                f"{subject} in {self.timeout_s:g} s ({done}); try again later") from None
                if not told and self.on_wait is not None:
                    self.on_wait(f"waiting while {self.device} computes the SHA-256 of {subject} ({done})")
                    told = True
                self._pause(BUSY_POLL_S)

    def _pause(self, seconds: float) -> None:
        """Let ``seconds`` pass (what arrives meanwhile is dropped: the next request starts afresh)."""
        until = self._clock() + seconds
        while (left := until - self._clock()) > 0:
            self.transport.read(left)

    def _exchange(self, what: str, attempt: Callable[[int], _T]) -> _T:
        """Run ``attempt(request_id)``; once more under a new id when noise hit it."""
        try:
            return attempt(self._begin(what, retrying=False))
        except LineNoise as noise:
            log.info("sync: %s hit by line noise (%s); trying once more", what, noise.message)
            self.retries += 1
        try:
            return attempt(self._begin(what, retrying=True))
        except LineNoise as noise:
            raise ProtocolError(noise.code, f"{self.device}: {what} failed twice on a noisy line: "
                                            f"{noise.message}") from None

    def _begin(self, what: str, retrying: bool) -> int:
        """A fresh start for a request: nothing received before it is sent can be (part of) its answer."""
        self._what, self._retrying = what, retrying
        for _ in range(DRAIN_READS):
            if not self.transport.read(0):
                break
        self._decoder = FrameDecoder()
        self._received.clear()
        return next(self._ids)

    def _call(self, request_id: int, request: dict[str, Any]) -> dict[str, Any]:
        self.transport.write(encode_frame(Frame(REQUEST, request_id, encode_json(request))))
        return self._answer(request_id)

    def _answer(self, request_id: int) -> dict[str, Any]:
        frame = self._await(request_id)
        if frame.type != RESPONSE:
            raise self._hostile(ProtocolError("bad-response", "data where an answer was due"))
        try:
            message = decode_json(frame.payload)
        except ProtocolError as error:
            raise self._hostile(error) from None
        if not isinstance(message, dict):
            raise self._hostile(ProtocolError("bad-response", "an answer that is not a JSON object"))
        return message

    def _stop_if_refused(self, request_id: int) -> None:
        """Between a push's data frames: if the device has already refused the push, stop sending it."""
        self._read(0)
        if any(isinstance(item, Frame) and item.type == ERROR and item.request_id == request_id
               for item in self._received):
            self._await(request_id)  # raises that error

    def _await(self, request_id: int, data: bool = False) -> Frame:
        """The next frame answering ``request_id``; anything else is dropped or logged.

        An error frame for it raises (:class:`LineNoise` if it blames the line).
        Garbled bytes amid a pull's ``data`` raise :class:`LineNoise` (a frame
        of it may be lost); while an answer is due, garbled bytes or the
        device's report of noise it heard raise it on a first attempt once
        nothing answering is left to read (the noise may have eaten the
        request or its answer); a second attempt waits on for its answer.
        """
        deadline = self._clock() + self.timeout_s
        noisy: ProtocolError | None = None
        while True:
            while self._received:
                item = self._received.popleft()
                if isinstance(item, ProtocolError):
                    log.info("sync: garbled data from %s: %s", self.device, item.message)
                    if data:
                        raise LineNoise(item.code, f"garbled data from the device: {item.message}")
                    noisy = item
                elif item.type == ERROR and item.request_id == UNSOLICITED:
                    report = _device_error(item)
                    log.info("sync: %s reports: %s", self.device, report.message)
                    self.noise_reports += 1
                    if not data:
                        noisy = report
                elif item.request_id == request_id and item.type != REQUEST:  # a request is our own echo
                    if item.type == ERROR:
                        error = _device_error(item)
                        raise LineNoise(error.code, error.message) if error.code in LINE_FAULTS else error
                    if item.type == DATA and not data and noisy is not None:
                        raise LineNoise(noisy.code, f"the answer was lost to noise ({noisy.message})")
                    return item
            if noisy is not None and not self._retrying:
                raise LineNoise(noisy.code, noisy.message)
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise ProtocolError("timeout", f"no answer from {self.device} within {self.timeout_s:g} s "
                                               "(is breakage-pi running on it?)")
            self._read(min(remaining, self.frame_timeout_s / 2))
            if any(isinstance(item, Frame) and item.request_id == request_id for item in self._received):
                deadline = self._clock() + self.timeout_s  # the answer is moving

    def _read(self, timeout_s: float) -> None:
        """Bytes from the device into frames and faults; a partial frame is given up after a silence."""
        data = self.transport.read(timeout_s)
        now = self._clock()
        if data:
            self._last_byte = now
            self._received.extend(self._decoder.feed(data))
        elif self._decoder.stale and now - self._last_byte > self.frame_timeout_s:
            self._received.extend(self._decoder.expire())

    def _hostile(self, error: ProtocolError) -> ProtocolError:
        """An answer that breaks the protocol's rules: an error naming the device; nothing has been written."""
        return ProtocolError("bad-response", f"{self.device} answered the {self._what} with something the "
                                             f"protocol forbids ({error.message}); nothing was written")


def _device_error(frame: Frame) -> ProtocolError:
    """The error the device sent, its texts made safe to print (the device may be anything)."""
    try:
        message = decode_json(frame.payload)
        code, text = message["code"], message["message"]
        if not isinstance(code, str) or not isinstance(text, str):
            raise TypeError
    except (ProtocolError, KeyError, TypeError):
        return ProtocolError("bad-response", "device sent an unreadable error frame")
    if code == "busy":
        done, total = message.get("done"), message.get("total")
        if all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (done, total)):
            return Busy(f"device: {printable(text)}", done, total)
    return ProtocolError(printable(code, 40), f"device: {printable(text)}")
