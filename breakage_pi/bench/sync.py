"""``bench sync``: push and pull throughput of a 1 MiB kit, and pull throughput of a 64 MiB take (disk to disk,
as ``sync pull`` does it), over a pseudo-terminal, server and client as over USB.

The device server runs in its thread on the pty's master end, the host
client uses pyserial on its slave end. A pty moves bytes as fast as the CPU
allows, so this measures the protocol's own cost (framing, CRC-32, SHA-256,
atomic writes with fsync); a real USB full-speed ACM link tops out near
1 MB/s. Median of five runs, with the slowest and fastest beside it (the
take: median of three, after an untimed pull while the device hashes it).

``sync.loop_late_ms_*``: how late a 2 ms ticker in the main thread (a
stand-in for the control loop, with the daemon's switch interval) wakes at
worst, idle and while the device side, in threads of the same process as in
the daemon, sends one 64 MiB take and hashes another: what serving a long
take costs the control loop through the GIL.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np
import serial
import soundfile

from ..daemon.controller import quick_thread_switches
from ..daemon.take_wav import wav_header
from ..sync import DataDir, DeviceSession, FdTransport, SerialTransport, SyncClient, SyncServer
from ..sync.frames import REQUEST, Frame, encode_frame
from ..sync.hashes import Identity
from ..sync.messages import encode_json

KIT_BYTES = 1024 * 1024
TAKE_BYTES = 64 * 1024 * 1024
RUNS = 5
TAKE_RUNS = 3
TICK_S = 0.002


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


def sparse_take(data_dir: Path, name: str = "bench", size: int = TAKE_BYTES) -> Path:
    """A take whose WAV is ``size`` bytes, written at once: sparse zeros with 4 KiB of noise in every MiB,
    so the bytes pulled have to be the bytes on the device."""
    folder = Path(data_dir) / "takes" / name
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    with open(folder / "take.wav", "wb") as wav:
        wav.write(wav_header(48_000, size - 44))
        wav.truncate(size)
        for offset in range(44, size - 4096, 1024 * 1024):
            wav.seek(offset)
            wav.write(rng.bytes(4096))
    (folder / "take.json").write_text('{"ended": "stopped from the grid"}\n')
    return folder


def run() -> dict[str, float]:
    kit = _kit()
    kib = sum(len(content) for content in kit.values()) / 1024
    push, pull, take_pull = [], [], []
    with tempfile.TemporaryDirectory() as data_dir, tempfile.TemporaryDirectory() as host_dir:
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
            take = sparse_take(Path(data_dir)).name
            client.pull_into("take", take, Path(host_dir), force=True)      # the device hashes it first: not timed
            for _ in range(TAKE_RUNS):
                start = time.perf_counter()
                client.pull_into("take", take, Path(host_dir), force=True)
                take_pull.append(TAKE_BYTES / 1e6 / (time.perf_counter() - start))
        finally:
            server.stop()
            host.close()
            transport.close()
    idle, serving = _loop_lateness()
    print(f"sync: {RUNS} runs of a {kib:.0f} KiB kit, {TAKE_RUNS} pulls of a {TAKE_BYTES / 1e6:.0f} MB take "
          f"(MB/s: {', '.join(f'{speed:.1f}' for speed in take_pull)}) over a pty", file=sys.stderr)
    return {"sync.push_kib_s": statistics.median(push), "sync.push_kib_s_min": min(push),
            "sync.push_kib_s_max": max(push), "sync.pull_kib_s": statistics.median(pull),
            "sync.pull_kib_s_min": min(pull), "sync.pull_kib_s_max": max(pull),
            "sync.pull_take_mb_s": statistics.median(take_pull), "sync.loop_late_ms_max_idle": idle,
            "sync.loop_late_ms_max_serving": serving}


def _loop_lateness() -> tuple[float, float]:
    """The worst lateness (ms) of a :data:`TICK_S` ticker, idle and while a take is sent and another hashed."""
    quick_thread_switches()
    with tempfile.TemporaryDirectory() as data_dir:
        sent, hashed = sparse_take(Path(data_dir), "sent").name, sparse_take(Path(data_dir), "hashed").name
        session = DeviceSession(DataDir(data_dir), {"product": "bench"})
        hashes = session.data.hashes
        session.data.prime("take", sent)
        hashes.work()                                       # the sent take's digest is known, as after a listing
        wav = Path(data_dir) / "takes" / hashed / "take.wav"
        identity = Identity.of(wav.stat())
        idle = _ticker(lambda: False)

        def serve() -> None:
            list(session.receive(encode_frame(Frame(REQUEST, 1, encode_json(
                {"op": "pull", "kind": "take", "name": sent}))), 0.0))
            while session.next_data() is not None:
                pass

        hashes.start()
        session.data.prime("take", hashed)
        server = threading.Thread(target=serve)
        server.start()
        serving = _ticker(lambda: server.is_alive() or hashes.known(f"takes/{hashed}/take.wav", identity) is None)
        server.join()
        hashes.stop()
    return idle, serving


def _ticker(going: Callable[[], bool], least: int = 500) -> float:
    """Tick every :data:`TICK_S` at least ``least`` times and while ``going()``; the worst lateness, ms."""
    worst, due, ticks = 0.0, time.perf_counter(), 0
    while ticks < least or going():
        due += TICK_S
        time.sleep(max(due - time.perf_counter(), 0.0))
        worst = max(worst, time.perf_counter() - due)
        ticks += 1
    return worst * 1000
