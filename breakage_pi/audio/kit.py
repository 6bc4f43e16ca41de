"""Kits: one WAV per channel, loaded and resampled to the engine rate."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import soundfile
import soxr

from ..core.clock import SAMPLE_RATE
from ..core.errors import FormatError, printable
from ..core.pattern import DEFAULT_CHANNEL_NAMES

MAX_SECONDS = 10.0
MIN_RATE = 8000
"""Hz; below it a few frames resample into seconds of invented sound (a header error, not a drum)."""
MAX_PEAK = 2.0
"""Full scale is 1.0; a float sample peaking beyond +6 dB is a level error that would clip every mix."""
_TRUNCATED = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


@dataclass(frozen=True)
class Kit:
    """One stereo float32 sample per channel, at ``rate`` Hz, in channel order; ``sources`` are the files read."""

    names: tuple[str, ...]
    samples: tuple[np.ndarray, ...]
    rate: int = SAMPLE_RATE
    sources: tuple[Path, ...] = ()


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
        raise FormatError("kit folder not found" if not folder.exists() else "not a folder", source=str(folder))
    paths = tuple(sample_path(folder, name) for name in names)
    return Kit(tuple(names), tuple(load_sample(path, rate) for path in paths), rate, paths)


def sample_path(folder: Path, name: str) -> Path:
    """``folder/<name>.wav``, refusing a channel name that would lead elsewhere (``../x``, ``a/b``, control codes)."""
    if not name or name in (".", "..") or any(char in name for char in "/\\\0") \
            or not name.isprintable() or name.startswith("."):
        raise FormatError(f"channel name {printable(name)!r} cannot name a sample file in the kit "
                          "(no '/', '\\', leading '.' or control characters)", source=str(folder))
    return folder / f"{name}.wav"


def load_sample(path: Path, rate: int = SAMPLE_RATE) -> np.ndarray:
    """One WAV as a C-contiguous (frames, 2) float32 array at ``rate`` Hz."""
    if not path.is_file():
        problem = "is a folder, expected a WAV file" if path.is_dir() else \
            "not a regular file (a device, FIFO or socket?)" if path.exists() else "missing sample file"
        raise FormatError(problem, source=str(path))
    try:
        info = soundfile.info(str(path))
        _check_header(info, path)
        data, file_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise FormatError(f"not a readable audio file ({error})", source=str(path)) from None
    if data.shape[0] == 0:
        raise FormatError("contains no audio frames", source=str(path))
    if data.shape[1] > 2:
        raise FormatError(f"has {data.shape[1]} channels; use mono or stereo", source=str(path))
    if not np.isfinite(data).all():
        raise FormatError("contains NaN or infinite samples", source=str(path))
    peak = float(np.abs(data).max())
    if peak > MAX_PEAK:
        raise FormatError(f"peaks at {peak:.3g} times full scale (at most {MAX_PEAK:g}): "
                          "a float WAV should stay within -1..1; normalise it", source=str(path))
    if file_rate != rate:
        data = soxr.resample(data, file_rate, rate, quality="HQ")
    if data.shape[1] == 1:
        data = np.repeat(data, 2, axis=1)
    return np.ascontiguousarray(data, dtype=np.float32)


def _check_header(info: Any, path: Path) -> None:
    """Refuse what libsndfile reads without complaint but would play wrong: cut files, absurd rates, long ones."""
    truncated = _TRUNCATED.search(info.extra_info)
    if truncated and int(truncated[2]) < int(truncated[1]):
        raise FormatError(f"truncated: the header promises {truncated[1]} bytes of audio, the file holds "
                          f"{truncated[2]} (an interrupted copy?)", source=str(path))
    if info.samplerate < MIN_RATE:
        raise FormatError(f"sample rate {info.samplerate} Hz is too low (at least {MIN_RATE} Hz): "
                          "a wrong header?", source=str(path))
    if info.frames > MAX_SECONDS * info.samplerate:
        raise FormatError(f"longer than {MAX_SECONDS:g} s ({info.frames / info.samplerate:.1f} s)", source=str(path))
