"""Following an incoming MIDI clock (optional, off by default): tempo and Start/Stop from a DAW.

:class:`ClockFollower` is pure (time passed in, seconds); :class:`RawMidiReader`
reads the gadget's rawmidi node without ever waiting. The daemon polls the
reader from its control loop and, when following is on, takes the tempo and
transport from the follower.
"""

from __future__ import annotations

import os
import select
import time
from collections import deque
from typing import Callable

import mido
import numpy as np

from ..core.clock import TEMPO_RANGE

PULSES_PER_QUARTER = 24


class ClockFollower:
    """Tempo (BPM) from the spacing of clock pulses, transport from Start/Continue/Stop.

    The tempo is the pulse interval fitted (least squares) over the last
    ``window`` pulses, two beats by default, so USB jitter averages out; it is reported only when it moves by more than
    ``hysteresis_bpm`` so a steady clock does not retime the sequencer on
    every pulse; a clock silent for ``timeout_s`` is lost (tempo None).

    >>> follower = ClockFollower()
    >>> for pulse in range(49):
    ...     _ = follower.feed(mido.Message("clock"), pulse * 0.5 / 24)
    >>> follower.tempo
    120.0
    """

    def __init__(self, window: int = 2 * PULSES_PER_QUARTER, hysteresis_bpm: float = 0.5,
                 timeout_s: float = 0.5) -> None:
        self.hysteresis_bpm = hysteresis_bpm
        self.timeout_s = timeout_s
        self.tempo: float | None = None
        self.playing = False
        self._pulses: deque[float] = deque(maxlen=window + 1)

    def feed(self, message: mido.Message, now: float) -> str | None:
        """Take one incoming message; returns ``"start"`` or ``"stop"`` when the transport changes."""
        if message.type == "clock":
            self._pulses.append(now)
            self._update_tempo()
        elif message.type in ("start", "continue") and not self.playing:
            self.playing = True
            return "start"
        elif message.type == "stop" and self.playing:
            self.playing = False
            return "stop"
        return None

    def check(self, now: float) -> None:
        """Forget the tempo when the clock has been silent for ``timeout_s`` (the DAW closed, the cable pulled)."""
        if self._pulses and now - self._pulses[-1] > self.timeout_s:
            self._pulses.clear()
            self.tempo = None

    def _update_tempo(self) -> None:
        if len(self._pulses) < self._pulses.maxlen:  # type: ignore[operator]
            return
        times = np.array(self._pulses)
        index = np.arange(len(times)) - (len(times) - 1) / 2
        interval = float(index @ (times - times.mean()) / (index @ index))  # least squares: jitter averages out
        if interval <= 0:
            return
        measured = 60.0 / (PULSES_PER_QUARTER * interval)
        measured = round(min(max(measured, TEMPO_RANGE[0]), TEMPO_RANGE[1]), 1)
        if self.tempo is None or abs(measured - self.tempo) > self.hysteresis_bpm:
            self.tempo = measured


class RawMidiReader:
    """Reads whatever MIDI the node holds, never waiting; a node that is absent or vanishes yields nothing.

    >>> reader = RawMidiReader("/dev/snd/midiC1D0")
    >>> messages = reader.poll()
    """

    def __init__(self, path: str | os.PathLike[str], retry_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = os.fspath(path)
        self.retry_s = retry_s
        self._clock = clock
        self._fd: int | None = None
        self._next_open = float("-inf")
        self._parser = mido.Parser()
        self.ended = False
        """The last read found the end of the stream (a FIFO with no writer): :meth:`wait` would not wait."""

    def poll(self) -> list[mido.Message]:
        """Every complete message received since the last poll."""
        if self._fd is None and not self._open():
            return []
        assert self._fd is not None
        self.ended = False
        while True:
            try:
                data = os.read(self._fd, 4096)
            except BlockingIOError:
                break
            except OSError:
                self.close()
                break
            if not data:
                self.ended = True
                break
            self._parser.feed(data)
        return list(self._parser)

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds until the node has bytes to read (for a thread of its own; the
        control loop only ever polls). An absent node is waited out, not spun on."""
        if self._fd is None and not self._open():
            time.sleep(timeout)
            return False
        assert self._fd is not None
        readable, _, _ = select.select([self._fd], [], [], timeout)
        return bool(readable)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _open(self) -> bool:
        now = self._clock()
        if now < self._next_open:
            return False
        self._next_open = now + self.retry_s
        try:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return False
        return True
