"""Bench section ``mixer``: the cost of one mixer block as a fraction of its real-time length.

Also the master limiter's cost per block (``mixer.limiter.f{n}.*``): passing
a quiet mix through, and limiting a mix that is over the ceiling throughout.
"""

from __future__ import annotations

import gc
import sys
import time

import numpy as np

from ..audio.kit import Kit
from ..audio.limiter import Limiter
from ..audio.mixer import Mixer
from ..core.clock import SAMPLE_RATE
from ..core.pattern import DEFAULT_CHANNEL_NAMES

VOICES = (4, 16, 64)
FRAMES = (64, 128, 256)
BLOCKS = 3000
PACED_SECONDS = 3.0


def _long_kit() -> Kit:
    """Four 4-second noise samples, so every voice stays active through the run."""
    noise = np.random.default_rng(0).uniform(-0.1, 0.1, (4 * SAMPLE_RATE, 2)).astype(np.float32)
    return Kit(DEFAULT_CHANNEL_NAMES, (noise,) * 4)


def _loaded_mixer(kit: Kit, voices: int, frames: int) -> Mixer:
    mixer = Mixer(kit, max_voices=64, max_block=frames)
    for voice in range(voices):
        mixer.trigger(voice % 4, 200, voice % frames)
    return mixer


def _block_costs(mixer: Mixer, voices: int, frames: int, blocks: int, paced: bool) -> np.ndarray:
    """Seconds per block; voices are retriggered as they end so ``voices`` stay active."""
    period = frames / SAMPLE_RATE
    costs = np.empty(blocks)
    deadline = time.perf_counter()
    for block in range(blocks):
        if paced:
            deadline += period
            while (wait := deadline - time.perf_counter()) > 0:
                time.sleep(wait)
        while mixer.count < voices:
            mixer.trigger(block % 4, 200, 0)
        start = time.perf_counter()
        mixer.render(frames)
        costs[block] = time.perf_counter() - start
    return costs / period


def _limiter_costs(frames: int, level: float) -> np.ndarray:
    """Limiter cost per block (fraction of real time) on noise peaking at ``level`` (full scale 1)."""
    limiter = Limiter(SAMPLE_RATE, frames)
    noise = np.random.default_rng(1).uniform(-level, level, (frames, 2)).astype(np.float32)
    block = noise.copy()
    costs = np.empty(BLOCKS)
    for index in range(BLOCKS):
        np.copyto(block, noise)
        start = time.perf_counter()
        limiter.process(block)
        costs[index] = time.perf_counter() - start
    return costs / (frames / SAMPLE_RATE)


def run() -> dict[str, float]:
    kit = _long_kit()
    figures: dict[str, float] = {}
    gc.disable()
    try:
        for voices in VOICES:
            for frames in FRAMES:
                mixer = _loaded_mixer(kit, voices, frames)
                _block_costs(mixer, voices, frames, 200, paced=False)           # warm up
                costs = _block_costs(mixer, voices, frames, BLOCKS, paced=False)
                key = f"mixer.v{voices}.f{frames}"
                figures[f"{key}.rt_median"] = float(np.median(costs))
                figures[f"{key}.rt_p99"] = float(np.percentile(costs, 99))
        for voices in (16, 64):
            print(f"  paced run, {voices} voices at 64 frames, {PACED_SECONDS:g} s", file=sys.stderr)
            mixer = _loaded_mixer(kit, voices, 64)
            costs = _block_costs(mixer, voices, 64, int(PACED_SECONDS * SAMPLE_RATE / 64), paced=True)
            figures[f"mixer.v{voices}.f64.paced_rt_median"] = float(np.median(costs))
            figures[f"mixer.v{voices}.f64.paced_rt_p99"] = float(np.percentile(costs, 99))
        for frames in FRAMES:
            for name, level in (("pass", 0.5), ("limit", 2.0)):
                costs = _limiter_costs(frames, level)
                figures[f"mixer.limiter.f{frames}.{name}_rt_median"] = float(np.median(costs))
                figures[f"mixer.limiter.f{frames}.{name}_rt_p99"] = float(np.percentile(costs, 99))
    finally:
        gc.enable()
    return figures
