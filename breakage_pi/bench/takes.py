"""``bench takes``: what recording a take costs the engine (one ring write a block) and the writer (disk).

- ``takes.ring.f<N>.write_us_median`` / ``_p99``: the engine's copy of one N-frame block into the ring,
  a writer draining it every 0.1 s of audio as the daemon's does;
- ``takes.ring.f<N>.transient_bytes``: the most memory one write allocated (tracemalloc; scalars only, no
  arrays);
- ``takes.writer.ms_per_second``: the writer's work for a second of audio on this disk (append, and the
  two ``fdatasync`` of a sync every half second), in ms: the share of one core it needs is this / 1000.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from ..audio.take_ring import FrameRing
from ..daemon.take_recorder import SYNC_EVERY_S
from ..daemon.take_wav import GrowingWav

RATE = 48_000
BLOCKS = 20_000


def ring_costs(frames: int, blocks: int = BLOCKS) -> dict[str, float]:
    ring = FrameRing(None, capacity=4 * RATE)
    ring.open()
    block = (np.arange(frames * 2, dtype=np.int16) % 1000).reshape(frames, 2)
    drain_every = max(1, round(0.1 * RATE / frames))
    costs = np.empty(blocks)
    for number in range(blocks):
        started = time.perf_counter()
        ring.write(block, number * frames)
        costs[number] = time.perf_counter() - started
        if number % drain_every == 0:
            ring.drain(lambda view: None)
    tracemalloc.start()
    try:
        worst = 0
        for number in range(2000):
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            ring.write(block, number * frames)
            worst = max(worst, tracemalloc.get_traced_memory()[1] - before)
            if number % drain_every == 0:
                ring.drain(lambda view: None)
    finally:
        tracemalloc.stop()
    prefix = f"takes.ring.f{frames}"
    return {f"{prefix}.write_us_median": float(np.median(costs) * 1e6),
            f"{prefix}.write_us_p99": float(np.percentile(costs, 99) * 1e6),
            f"{prefix}.transient_bytes": worst, f"{prefix}.dropped": ring.dropped}


def writer_cost(seconds: int = 10) -> dict[str, float]:
    """Append ``seconds`` of audio in 0.1 s pieces, syncing every SYNC_EVERY_S, in a temporary folder here."""
    piece = np.zeros((RATE // 10, 2), dtype=np.int16)
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as folder:
        wav = GrowingWav(Path(folder) / "take.wav", RATE)
        started = time.perf_counter()
        for _ in range(seconds * 10):
            wav.append(piece)
            if wav.unsynced_frames >= SYNC_EVERY_S * RATE:
                wav.sync()
        wav.close()
        took = time.perf_counter() - started
    return {"takes.writer.ms_per_second": took / seconds * 1e3}


def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    for frames in (64, 256):
        figures.update(ring_costs(frames))
    figures.update(writer_cost())
    return figures
