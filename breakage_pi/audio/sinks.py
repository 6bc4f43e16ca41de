"""Where audio goes: an ALSA device, a WAV file, nowhere; and a real-time pacer.

A sink takes interleaved stereo int16 blocks. ``write`` blocks for at most
about one period (as a real device does), returns True if the device ran
dry before this block (an xrun, already recovered from), and raises
:class:`SinkLost` if the device has gone (a USB DAC unplugged).
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import soundfile

from ..core.errors import BreakageError
from .alsa_log import route_libasound_errors


class SinkLost(BreakageError, OSError):
    """The audio device cannot be opened or has vanished; the engine retries."""


class SinkRefused(BreakageError, ValueError):
    """The device opened but not in a format the engine can drive (checked with ``PCM.info()``)."""


class Sink(Protocol):
    period: int
    latency: float          # seconds of audio the device buffers

    def open(self) -> None: ...

    def write(self, block: np.ndarray) -> bool: ...

    def close(self) -> None: ...


class AlsaSink:
    """A blocking ALSA playback PCM, interleaved S16_LE stereo, through pyalsaaudio.

    Open a ``hw:CARD=name,DEV=0`` device (never ``default``/dmix, whose plug
    layer imposes its own period). ALSA may grant a different period than
    asked: the engine then renders blocks of the granted ``period``.

    >>> sink = AlsaSink("file:FILE=/tmp/out.wav,FORMAT=wav", period=64)   # no sound card needed
    """

    def __init__(self, device: str, rate: int = 48_000, period: int = 64, periods: int = 3,
                 max_period: int = 1024) -> None:
        self.device, self.rate, self.period, self.periods = device, rate, period, periods
        self.max_period = max_period
        self.latency = period * periods / rate
        self._pcm = None

    def open(self) -> None:
        import alsaaudio

        route_libasound_errors()        # its own "ALSA lib ..." lines to the log, not the terminal
        try:
            pcm = alsaaudio.PCM(alsaaudio.PCM_PLAYBACK, alsaaudio.PCM_NORMAL, device=self.device, channels=2,
                                rate=self.rate, format=alsaaudio.PCM_FORMAT_S16_LE,
                                periodsize=self.period, periods=self.periods)
        except alsaaudio.ALSAAudioError as error:
            raise SinkLost(f"audio device {self.device!r}: {error}") from None
        info = pcm.info()
        problem = _refusal(info, self.rate, self.max_period)
        if problem:
            pcm.close()
            raise SinkRefused(f"audio device {self.device!r} {problem}")
        self._pcm = pcm
        self.period = info["period_size"]
        self.latency = info["buffer_size"] / self.rate

    def write(self, block: np.ndarray) -> bool:
        import alsaaudio

        if self._pcm is None:
            raise SinkLost(f"audio device {self.device!r} is not open")
        try:
            written = self._pcm.write(block)
            if written == -errno.EPIPE:          # underrun: pyalsaaudio has re-prepared the PCM
                self._pcm.write(block)
                return True
        except alsaaudio.ALSAAudioError as error:
            raise SinkLost(f"audio device {self.device!r}: {error}") from None
        if written < 0:
            raise SinkLost(f"audio device {self.device!r}: {os.strerror(-written)}")
        return False

    def close(self) -> None:
        if self._pcm is not None:
            pcm, self._pcm = self._pcm, None
            pcm.close()


def _refusal(info: dict, rate: int, max_period: int) -> str:
    if info.get("format_name") != "S16_LE":
        return f"opened as {info.get('format_name')}, not S16_LE"
    if info.get("channels") != 2:
        return f"opened with {info.get('channels')} channels, not 2"
    if info.get("rate") != rate:
        return f"runs at {info.get('rate')} Hz, not {rate}"
    if not 0 < info.get("period_size", 0) <= max_period:
        return f"granted a period of {info.get('period_size')} frames (at most {max_period} supported)"
    return ""


class WavSink:
    """Writes every block to a 16-bit WAV; the file appears atomically when closed (offline capture)."""

    def __init__(self, path: str | os.PathLike[str], rate: int = 48_000, period: int = 256) -> None:
        self.path, self.rate, self.period = Path(path), rate, period
        self.latency = 0.0
        self._file: soundfile.SoundFile | None = None
        self._temp = ""

    def open(self) -> None:
        handle, self._temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.fchmod(handle, 0o644)
        os.close(handle)
        self._file = soundfile.SoundFile(self._temp, "w", self.rate, 2, "PCM_16", format="WAV")

    def write(self, block: np.ndarray) -> bool:
        assert self._file is not None, "open() first"
        self._file.write(block)
        return False

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            with open(self._temp, "rb+") as written:
                os.fsync(written.fileno())
            os.replace(self._temp, self.path)

    def discard(self) -> None:
        """Drop what was written; the file at ``path`` is left as it was."""
        if self._file is not None:
            self._file.close()
            self._file = None
        Path(self._temp).unlink(missing_ok=True)


class NullSink:
    """Discards audio at once (pair with :class:`PacedSink` to stand in for a device)."""

    def __init__(self, rate: int = 48_000, period: int = 64) -> None:
        self.rate, self.period, self.latency = rate, period, 0.0

    def open(self) -> None:
        pass

    def write(self, block: np.ndarray) -> bool:
        return False

    def close(self) -> None:
        pass


class PacedSink:
    """Makes an unpaced sink (file, null) behave like a real device in real time.

    It models a device buffer of ``periods`` periods draining at ``rate``:
    ``write`` sleeps while the buffer is full (like a blocking ALSA write)
    and reports an xrun when a block arrives after the buffer ran dry, then
    restarts the device clock (as ALSA's re-prepare does). ``clock`` and
    ``sleep`` are injectable for tests.
    """

    def __init__(self, inner: Sink, rate: int = 48_000, periods: int = 3,
                 clock: Callable[[], float] = time.perf_counter, sleep: Callable[[float], None] = time.sleep) -> None:
        self.inner, self.rate, self.periods = inner, rate, periods
        self.period = inner.period
        self.clock, self.sleep = clock, sleep
        self.latency = periods * inner.period / rate
        self._started = 0.0
        self._queued = 0           # frames written since the device clock started

    def open(self) -> None:
        self.inner.open()
        self.period = self.inner.period
        self._queued = 0

    def write(self, block: np.ndarray) -> bool:
        frames = len(block)
        capacity = self.periods * self.period
        now = self.clock()
        if self._queued == 0:                # the device starts playing at the first write (ALSA's default)
            self._started = now
        buffered = self._queued - (now - self._started) * self.rate
        underrun = buffered < 0
        if underrun:
            self._started, self._queued, buffered = now, 0, 0.0
        room_needed = buffered + frames - capacity
        if room_needed > 0:
            self.sleep(room_needed / self.rate)
        self.inner.write(block)
        self._queued += frames
        return underrun

    def close(self) -> None:
        self.inner.close()
