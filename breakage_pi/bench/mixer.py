"""Bench section ``mixer``: the cost of one mixer block as a fraction of its real-time length,
and what a block allocates.

Allocation is measured with ``tracemalloc`` over 10 000 steady-state blocks
(voices started, choked, stolen and retired as they go): ``growth_bytes`` is
what the blocks kept, ``transient_bytes`` the most one block allocated at
once. Every numpy call costs a few hundred bytes of Python objects (views,
scalars), so the transient figure is never 0; an audio-sized buffer (one
voice's window alone is 2 KiB at 256 frames) would push it past
``BUFFER_BYTES``, and ``allocs_per_block`` counts the blocks that did so
(goal 0; the mixer before its buffers were made ahead allocated one per
block and more).

Each cost figure is measured for this mixer and, in the same loop, for the
reference mixer (``bench/reference_mixer.py``: the mixer of commit 3466e98,
which allocated its gathered buffer every block): blocks alternate between
the two, so both see the same noise from the rest of the machine, and
``*.p99_ratio`` is this mixer's p99 over the reference's (at most 1: this
one is at least as fast). Paced figures render one block per period of
real time, alternating mixers period by period, so each block meets caches
another period has cooled.

Also the master limiter's cost per block (``mixer.limiter.f{n}.*``): passing
a quiet mix through, and limiting a mix that is over the ceiling throughout.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from typing import Sequence

import numpy as np

from ..audio.kit import Kit
from ..audio.limiter import Limiter
from ..audio.mixer import Mixer
from ..core.clock import SAMPLE_RATE
from ..core.pattern import DEFAULT_CHANNEL_NAMES
from .reference_mixer import Mixer as ReferenceMixer

VOICES = (4, 16, 64)
FRAMES = (64, 128, 256)
BLOCKS = 3000
PACED_SECONDS = 3.0


ALLOCATION_BLOCKS = 10_000
BUFFER_BYTES = 16 * 1024


def block_allocations(voices: int, frames: int = 256, blocks: int = ALLOCATION_BLOCKS) -> dict[str, float]:
    """Allocation over ``blocks`` steady-state blocks with ``voices`` voices sounding (see the module docstring)."""
    mixer = Mixer(_long_kit(), max_voices=max(8, voices), max_block=frames)

    def block(number: int) -> None:
        while mixer.count < voices:
            mixer.trigger(number % 3, 200, number % frames)
        if number % 5 == 0:
            mixer.trigger(3, 100, 5)                # a closed hat: chokes the open hat (channel 2)
        if number % 97 == 0:
            mixer.fade_out(0)                       # a stop: everything fades and retires
        mixer.render(frames)

    for number in range(500):
        block(number)
    tracemalloc.start()
    try:
        for number in range(500):
            block(number)
        start = tracemalloc.get_traced_memory()[0]
        worst, over = 0, 0
        for number in range(blocks):
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            block(number)
            transient = tracemalloc.get_traced_memory()[1] - before
            worst, over = max(worst, transient), over + (transient > BUFFER_BYTES)
        growth = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    return {"growth_bytes": growth, "transient_bytes": worst, "allocs_per_block": over / blocks}


def _long_kit() -> Kit:
    """Four 4-second noise samples, so every voice stays active through the run."""
    noise = np.random.default_rng(0).uniform(-0.1, 0.1, (4 * SAMPLE_RATE, 2)).astype(np.float32)
    return Kit(DEFAULT_CHANNEL_NAMES, (noise,) * 4)


def _loaded_mixer(kit: Kit, voices: int, frames: int, kind: type = Mixer) -> Mixer:
    mixer = kind(kit, max_voices=64, max_block=frames)
    for voice in range(voices):
        mixer.trigger(voice % 4, 200, voice % frames)
    return mixer


def _block_costs(mixers: Sequence[Mixer], voices: int, frames: int, blocks: int,
                 paced: bool) -> list[np.ndarray]:
    """Seconds per block of each mixer, as a fraction of the block's length; voices are retriggered as they
    end so ``voices`` stay active. Unpaced, every mixer renders each block (the order turning each block);
    paced, one block per period of real time goes to each mixer in turn."""
    period = frames / SAMPLE_RATE
    costs = [np.empty(blocks) for _ in mixers]
    deadline = time.perf_counter()
    for block in range(blocks):
        for turn in range(len(mixers)):
            which = (block + turn) % len(mixers)
            mixer = mixers[which]
            if paced:
                deadline += period
                while (wait := deadline - time.perf_counter()) > 0:
                    time.sleep(wait)
            while mixer.count < voices:
                mixer.trigger(block % 4, 200, 0)
            start = time.perf_counter()
            mixer.render(frames)
            costs[which][block] = time.perf_counter() - start
    return [cost / period for cost in costs]


def _record(figures: dict[str, float], key: str, costs: Sequence[np.ndarray], prefix: str = "") -> None:
    ours, reference = costs
    for name, found in (("", ours), ("reference_", reference)):
        figures[f"{key}.{name}{prefix}rt_median"] = float(np.median(found))
        figures[f"{key}.{name}{prefix}rt_p99"] = float(np.percentile(found, 99))
    figures[f"{key}.{prefix}p99_ratio"] = float(np.percentile(ours, 99) / np.percentile(reference, 99))


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
                mixers = [_loaded_mixer(kit, voices, frames, kind) for kind in (Mixer, ReferenceMixer)]
                _block_costs(mixers, voices, frames, 200, paced=False)           # warm up
                _record(figures, f"mixer.v{voices}.f{frames}", _block_costs(mixers, voices, frames, BLOCKS, False))
        for voices in (16, 64):
            print(f"  paced run, {voices} voices at 64 frames, {PACED_SECONDS:g} s", file=sys.stderr)
            mixers = [_loaded_mixer(kit, voices, 64, kind) for kind in (Mixer, ReferenceMixer)]
            blocks = int(PACED_SECONDS * SAMPLE_RATE / 64 / 2)
            _record(figures, f"mixer.v{voices}.f64", _block_costs(mixers, voices, 64, blocks, True), "paced_")
        for frames in FRAMES:
            for name, level in (("pass", 0.5), ("limit", 2.0)):
                costs = _limiter_costs(frames, level)
                figures[f"mixer.limiter.f{frames}.{name}_rt_median"] = float(np.median(costs))
                figures[f"mixer.limiter.f{frames}.{name}_rt_p99"] = float(np.percentile(costs, 99))
    finally:
        gc.enable()
    print(f"  allocation over {ALLOCATION_BLOCKS} blocks of 256 frames, 4 and 48 voices", file=sys.stderr)
    allocations = {voices: block_allocations(voices) for voices in (4, 48)}
    figures["mixer.allocs_per_block"] = max(found["allocs_per_block"] for found in allocations.values())
    for voices, found in allocations.items():
        figures[f"mixer.v{voices}.f256.alloc_growth_bytes"] = found["growth_bytes"]
        figures[f"mixer.v{voices}.f256.alloc_transient_bytes"] = found["transient_bytes"]
    return figures
