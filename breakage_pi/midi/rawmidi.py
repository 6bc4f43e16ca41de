"""A non-blocking writer of MIDI bytes to an ALSA rawmidi node (``/dev/snd/midiC1D0``), or any path (a FIFO in tests).

Writing never blocks the control loop: the node is opened ``O_NONBLOCK``; a
message the host's buffer has no room for is dropped whole (so the stream
stays parseable), counted, and logged at most once per ``log_interval_s``.
A node that vanishes (the cable pulled) is reopened on a later send.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from typing import Callable, Iterable

import mido

GADGET_CARD_ID = "BreakagePi"
"""The ALSA card id firmware/usb-gadget.sh gives the gadget's MIDI function."""
log = logging.getLogger(__name__)
_GONE = {errno.ENODEV, errno.ENXIO, errno.EPIPE, errno.EIO, errno.ENOENT, errno.EBADF}


class RawMidiWriter:
    """Writes mido messages as bytes to ``path`` without ever waiting.

    ``sent`` and ``dropped`` count messages; ``clock`` (seconds) paces the
    log and the reopen attempts.

    >>> writer = RawMidiWriter("/dev/snd/midiC1D0")
    >>> writer.send([mido.Message("clock")])
    """

    def __init__(self, path: str | os.PathLike[str], log_interval_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = os.fspath(path)
        self.log_interval_s = log_interval_s
        self.sent = 0
        self.dropped = 0
        self._clock = clock
        self._fd: int | None = None
        self._partial = b""
        self._next_log = float("-inf")
        self._next_open = float("-inf")
        self._dropped_since_log = 0

    def send(self, messages: Iterable[mido.Message]) -> None:
        """Write each message whole or drop it; never blocks, never raises for a full or missing node."""
        for message in messages:
            if not self._write(bytes(message.bytes())):
                self.dropped += 1
                self._dropped_since_log += 1
            else:
                self.sent += 1
        if self._dropped_since_log and self._clock() >= self._next_log:
            log.warning("MIDI out %s: %d message(s) dropped (host not reading or not connected; %d in all)",
                        self.path, self._dropped_since_log, self.dropped)
            self._dropped_since_log = 0
            self._next_log = self._clock() + self.log_interval_s

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _write(self, data: bytes) -> bool:
        if self._fd is None and not self._open():
            return False
        assert self._fd is not None
        try:
            if self._partial:  # the tail of a message the node took only part of: finish it first
                self._partial = self._partial[os.write(self._fd, self._partial):]
                if self._partial:
                    return False
            written = os.write(self._fd, data)
        except BlockingIOError:
            return False
        except OSError as error:
            if error.errno not in _GONE:
                raise
            self.close()
            self._partial = b""
            return False
        self._partial = data[written:]
        return True

    def _open(self) -> bool:
        now = self._clock()
        if now < self._next_open:
            return False
        self._next_open = now + self.log_interval_s
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as error:
            if now >= self._next_log:
                log.warning("MIDI out %s: cannot open: %s", self.path, error.strerror or error)
            return False
        return True


def gadget_midi_node(card_id: str = GADGET_CARD_ID, proc_asound: str = "/proc/asound") -> str | None:
    """The rawmidi node of the USB gadget's MIDI port (``/dev/snd/midiC1D0``), or None while there is no gadget.

    ALSA links ``/proc/asound/<card id>`` to ``card<N>``; the gadget's port is device 0 of that card.
    """
    try:
        card = os.readlink(os.path.join(proc_asound, card_id))
    except OSError:
        return None
    number = card.removeprefix("card")
    return f"/dev/snd/midiC{number}D0" if number.isdigit() else None
