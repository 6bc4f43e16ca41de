"""A take's WAV as it grows: appended to while playing, its sizes made true and durable every second.

A WAV's header states its length, so a file cut off by SIGKILL or a power
cut is readable only up to what the header last said. :meth:`GrowingWav.sync`
makes the audio appended so far durable first (``fdatasync``), then rewrites
the RIFF and data sizes to cover it and makes that durable too: whatever
instant the power goes, the header never claims audio the card does not
hold, and at most what came after the last sync is lost. Call it at least
once a second. This is the one file of a take not written atomically (it
cannot be: it grows for as long as the take lasts).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from ..store import fsync_directory

HEADER_BYTES = 44
CHANNELS = 2
SAMPLE_BYTES = 2
MAX_DATA_BYTES = 0xFFFF_FFFF - 36        # a RIFF chunk's size is 32 bits: ~6 h of 48 kHz stereo


def wav_header(rate: int, data_bytes: int) -> bytes:
    """The 44-byte header of a 16-bit stereo PCM WAV holding ``data_bytes`` of audio."""
    block_align = CHANNELS * SAMPLE_BYTES
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, CHANNELS, rate, rate * block_align, block_align,
                                    8 * SAMPLE_BYTES)
            + b"data" + struct.pack("<I", data_bytes))


class GrowingWav:
    """A new 16-bit stereo WAV at ``path`` (refuses to replace a file) that grows by :meth:`append`.

    >>> import tempfile
    >>> wav = GrowingWav(Path(tempfile.mkdtemp()) / "take.wav", 48_000)
    >>> wav.append(np.zeros((480, 2), dtype=np.int16)); wav.sync(); wav.close()
    >>> wav.frames, wav.path.stat().st_size
    (480, 1964)
    """

    def __init__(self, path: Path, rate: int) -> None:
        self.path, self.rate = Path(path), rate
        self.frames = 0
        self.synced_frames = 0
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            os.write(self._fd, wav_header(rate, 0))
            os.fsync(self._fd)
        except OSError:
            os.close(self._fd)
            raise
        fsync_directory(self.path.parent)

    @property
    def unsynced_frames(self) -> int:
        return self.frames - self.synced_frames

    def append(self, frames: np.ndarray) -> None:
        """Append (n, 2) int16 frames; an OSError (a full disk) leaves the file as last synced."""
        data = memoryview(np.ascontiguousarray(frames)).cast("B")
        if (self.frames + len(frames)) * CHANNELS * SAMPLE_BYTES > MAX_DATA_BYTES:
            raise OSError("a WAV file holds at most 4 GB; the take is full")
        while data:
            done = os.write(self._fd, data)
            data = data[done:]
        self.frames += len(frames)

    def sync(self) -> None:
        """Make the audio appended so far durable, then the header that counts it."""
        os.fdatasync(self._fd)
        data_bytes = self.frames * CHANNELS * SAMPLE_BYTES
        os.pwrite(self._fd, struct.pack("<I", 36 + data_bytes), 4)
        os.pwrite(self._fd, struct.pack("<I", data_bytes), 40)
        os.fdatasync(self._fd)
        self.synced_frames = self.frames

    def close(self) -> None:
        """Sync what can be synced and close, cutting off any half-written block past what the header counts
        (a failing sync, such as on a full disk, leaves the file as last synced)."""
        if self._fd < 0:
            return
        try:
            self.sync()
            os.ftruncate(self._fd, HEADER_BYTES + self.synced_frames * CHANNELS * SAMPLE_BYTES)
        except OSError:
            pass
        finally:
            os.close(self._fd)
            self._fd = -1
