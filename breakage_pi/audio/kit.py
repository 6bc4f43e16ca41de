"""Kits: one WAV per channel, loaded and resampled to the engine rate."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np
import soundfile
import soxr

from ..core.clock import SAMPLE_RATE
from ..core.errors import FormatError
from ..core.pattern import DEFAULT_CHANNEL_NAMES

MAX_SECONDS = 10.0


@dataclass(frozen=True)
class Kit:
    """One stereo float32 sample per channel, at ``rate`` Hz, in channel order."""

    names: tuple[str, ...]
    samples: tuple[np.ndarray, ...]
    rate: int = SAMPLE_RATE


def default_kit_dir() -> Path:
    """The kit shipped inside the package (synthesised by ``breakage_pi.audio.drumsynth``)."""
    return Path(str(resources.files("breakage_pi") / "data" / "kit"))


def load_kit(directory: str | os.PathLike[str] | None = None,
             names: Sequence[str] = DEFAULT_CHANNEL_NAMES, rate: int = SAMPLE_RATE) -> Kit:
    """Load ``<name>.wav`` for each channel name from ``directory`` (default: the shipped kit).

    Reads 16/24/32-bit int or float WAVs, mono or stereo, at any rate, and
    resamples to ``rate`` with soxr. A bad file raises a FormatError naming it.
    """
    folder = Path(directory) if directory is not None else default_kit_dir()
    if not folder.is_dir():
        raise FormatError("kit folder not found", source=str(folder))
    return Kit(tuple(names), tuple(load_sample(folder / f"{name}.wav", rate) for name in names), rate)


def load_sample(path: Path, rate: int = SAMPLE_RATE) -> np.ndarray:
    """One WAV as a C-contiguous (frames, 2) float32 array at ``rate`` Hz."""
    if not path.is_file():
        raise FormatError("missing sample file", source=str(path))
    try:
        info = soundfile.info(str(path))
        if info.frames > MAX_SECONDS * info.samplerate:
            raise FormatError(f"longer than {MAX_SECONDS:g} s ({info.frames / info.samplerate:.1f} s)",
                              source=str(path))
        data, file_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise FormatError(f"not a readable audio file ({error})", source=str(path)) from None
    if data.shape[0] == 0:
        raise FormatError("contains no audio frames", source=str(path))
    if data.shape[1] > 2:
        raise FormatError(f"has {data.shape[1]} channels; use mono or stereo", source=str(path))
    if not np.isfinite(data).all():
        raise FormatError("contains NaN or infinite samples", source=str(path))
    if file_rate != rate:
        data = soxr.resample(data, file_rate, rate, quality="HQ")
    if data.shape[1] == 1:
        data = np.repeat(data, 2, axis=1)
    return np.ascontiguousarray(data, dtype=np.float32)
