"""``bench sync``: push and pull throughput of a 1 MiB kit over a pseudo-terminal, server and client as over USB.

The device server runs in its thread on the pty's master end, the host
client uses pyserial on its slave end. A pty moves bytes as fast as the CPU
allows, so this measures the protocol's own cost (framing, CRC-32, SHA-256,
atomic writes with fsync); a real USB full-speed ACM link tops out near
1 MB/s. Median of five runs, with the slowest and fastest beside it.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import serial
import soundfile

from ..sync import FdTransport, SerialTransport, SyncClient, SyncServer

KIT_BYTES = 1024 * 1024
RUNS = 5


def _kit() -> dict[str, bytes]:
    """Four 16-bit WAVs of noise (incompressible), 1 MiB in all."""
    rng = np.random.default_rng(0)
    files = {}
    for name in ("kick", "snare", "open_hat", "closed_hat"):
        buffer = io.BytesIO()
        frames = (KIT_BYTES // 4 - 44) // 4
        soundfile.write(buffer, rng.uniform(-1, 1, (frames, 2)).astype(np.float32), 48000, format="WAV",
                        subtype="PCM_16")
        files[f"{name}.wav"] = buffer.getvalue()
    return files


def run() -> dict[str, float]:
    kit = _kit()
    kib = sum(len(content) for content in kit.values()) / 1024
    push, pull = [], []
    with tempfile.TemporaryDirectory() as data_dir:
        master, slave = os.openpty()
        host = serial.Serial(os.ttyname(slave), timeout=0.1)
        os.close(slave)
        transport = FdTransport(master)
        server = SyncServer(Path(data_dir), transport=transport).start()
        try:
            client = SyncClient(SerialTransport(host))
            client.hello()
            for _ in range(RUNS):
                start = time.perf_counter()
                client.push("kit", "bench", kit)
                push.append(kib / (time.perf_counter() - start))
                start = time.perf_counter()
                client.pull("kit", "bench")
                pull.append(kib / (time.perf_counter() - start))
        finally:
            server.stop()
            host.close()
            transport.close()
    print(f"sync: {RUNS} runs of a {kib:.0f} KiB kit over a pty", file=sys.stderr)
    return {"sync.push_kib_s": statistics.median(push), "sync.push_kib_s_min": min(push),
            "sync.push_kib_s_max": max(push), "sync.pull_kib_s": statistics.median(pull),
            "sync.pull_kib_s_min": min(pull), "sync.pull_kib_s_max": max(pull)}
