"""Test-data builders shared by the audio tests: kits of known shapes, banks, WAV readers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

from breakage_pi.core import Bank, Pattern, Slot
from breakage_pi.core.pattern import DEFAULT_CHANNEL_NAMES
from breakage_pi.store import save_bank

RATE = 48_000


def write_kit(directory: Path, samples: dict[str, np.ndarray], rate: int = RATE, subtype: str = "FLOAT") -> Path:
    """Write ``<name>.wav`` for each sample into ``directory``; returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in samples.items():
        soundfile.write(str(directory / f"{name}.wav"), data, rate, subtype=subtype)
    return directory


def impulse_kit(directory: Path) -> Path:
    """A kit whose every sample is one full-scale frame then silence: onsets are the only non-zero frames."""
    impulse = np.zeros(32, dtype=np.float32)
    impulse[0] = 1.0
    return write_kit(directory, {name: impulse for name in DEFAULT_CHANNEL_NAMES})


def bank_file(path: Path, pattern: Pattern, tempo: float = 120.0, swing: float = 0.5) -> Path:
    save_bank(path, Bank(slots=(Slot("test", True, pattern),), tempo=tempo, swing=swing))
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """(frames, 2) int16 and the rate."""
    data, rate = soundfile.read(str(path), dtype="int16", always_2d=True)
    return data, rate


def onsets(pcm: np.ndarray) -> np.ndarray:
    """Frames where the left channel is non-zero after a zero frame (or at frame 0)."""
    left = pcm[:, 0].astype(np.int64) != 0
    starts = left & ~np.concatenate([[False], left[:-1]])
    return np.flatnonzero(starts)


class ScriptedControl:
    """A control side that sends each command once the engine's player reaches its frame."""

    serial = 0

    def __init__(self, player, script):
        self.player = player
        self.script = sorted(script, key=lambda item: item[0])

    def take(self):
        if self.script and self.script[0][0] <= self.player.frame:
            return self.script.pop(0)[1]
        return None
