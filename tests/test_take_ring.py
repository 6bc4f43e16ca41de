"""The take ring: the engine's blocks reach the writer in order; a full ring drops whole blocks, counted,
and the engine never waits, however slow (or stalled) the writer is."""

from __future__ import annotations

import multiprocessing
import threading

import numpy as np

from breakage_pi.audio.take_ring import FrameRing, ring_bytes


def block(index: int, size: int = 64) -> np.ndarray:
    """A block whose frames say which block and frame they are (so order and gaps show)."""
    values = np.arange(index * size, (index + 1) * size, dtype=np.int64) % 30_000
    return np.stack([values, -values], axis=1).astype(np.int16)


def collect(into: list[np.ndarray]):
    return lambda frames: into.append(frames.copy())


def test_nothing_is_written_until_a_take_is_wanted() -> None:
    ring = FrameRing(None, capacity=256)
    ring.write(block(0), frame=0)
    assert ring.backlog == 0 and ring.dropped == 0
    take = ring.open()
    assert not ring.recording(take)
    ring.write(block(1), frame=64)
    assert ring.recording(take) and ring.first_frame == 64 and ring.backlog == 64


def test_frames_come_out_in_order_across_the_wrap() -> None:
    ring = FrameRing(None, capacity=200)          # not a multiple of the block: every wrap splits a block
    ring.open()
    out: list[np.ndarray] = []
    for index in range(50):
        ring.write(block(index), frame=index * 64)
        ring.drain(collect(out))
    assert ring.dropped == 0
    np.testing.assert_array_equal(np.concatenate(out), np.concatenate([block(i) for i in range(50)]))


def test_a_slow_writer_loses_whole_blocks_counted_and_the_rest_in_order() -> None:
    ring = FrameRing(None, capacity=256)           # four blocks
    ring.open()
    out: list[np.ndarray] = []
    kept = []
    for index in range(60):
        before = ring.dropped
        ring.write(block(index), frame=index * 64)
        if ring.dropped == before:
            kept.append(index)
        if index % 6 == 5:                          # the writer wakes every sixth block and takes two blocks
            ring.drain(collect(out), limit=128)
    assert ring.dropped == 64 * (60 - len(kept)) > 0
    ring.drain(collect(out))
    np.testing.assert_array_equal(np.concatenate(out), np.concatenate([block(i) for i in kept]))


def test_the_engine_never_waits_for_a_stalled_writer() -> None:
    ring = FrameRing(None, capacity=1024)
    ring.open()
    stalled = threading.Event()
    release = threading.Event()
    drained: list[int] = []

    def writer() -> None:
        def stall(frames: np.ndarray) -> None:
            stalled.set()
            release.wait()                           # a disk that hangs in the middle of a write
        drained.append(ring.drain(stall))

    ring.write(block(0), frame=0)
    thread = threading.Thread(target=writer)
    thread.start()
    assert stalled.wait(10)
    for index in range(1, 1000):                     # the producer runs on while the consumer is stuck
        ring.write(block(index), frame=index * 64)
    assert ring.dropped == 64 * (1000 - 16)          # 16 blocks fit; the rest were dropped, not waited for
    release.set()
    thread.join()
    assert drained == [64]


def test_a_new_take_starts_clean() -> None:
    ring = FrameRing(None, capacity=128)
    first = ring.open()
    for index in range(4):
        ring.write(block(index), frame=index * 64)
    assert ring.dropped == 128
    ring.close()
    ring.write(block(4), frame=256)                   # the engine sees the close at its next block
    assert not ring.recording(first)
    second = ring.open()
    ring.write(block(5), frame=320)
    assert ring.recording(second) and ring.first_frame == 320 and ring.dropped == 0
    out: list[np.ndarray] = []
    ring.drain(collect(out))
    np.testing.assert_array_equal(np.concatenate(out), block(5))


def _produce(memory: object, capacity: int, blocks: int) -> None:
    ring = FrameRing(memory, capacity)
    for index in range(blocks):
        ring.write(block(index), frame=index * 64)


def test_the_ring_crosses_processes() -> None:
    context = multiprocessing.get_context("spawn")
    capacity = 64 * 2000
    memory = context.RawArray("b", ring_bytes(capacity))
    ring = FrameRing(memory, capacity)
    ring.open()
    child = context.Process(target=_produce, args=(memory, capacity, 1000))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    out: list[np.ndarray] = []
    assert ring.drain(collect(out)) == 64_000 and ring.dropped == 0
    np.testing.assert_array_equal(np.concatenate(out), np.concatenate([block(i) for i in range(1000)]))



def test_the_audio_process_taps_exactly_what_it_plays(tmp_path) -> None:
    import soundfile

    from breakage_pi.audio.process import AudioProcess, EngineSettings
    from breakage_pi.core.pattern import Pattern
    from breakage_pi.core.playstate import PlayState

    capacity = 48_000
    memory = multiprocessing.get_context("spawn").RawArray("b", ring_bytes(capacity))
    ring = FrameRing(memory, capacity)
    ring.open()
    wav = tmp_path / "played.wav"
    pattern = Pattern().with_velocity(0, 0, 255).with_velocity(1, 4, 200)
    audio = AudioProcess(EngineSettings(f"wav:{wav}", frames=24_000), PlayState(pattern), tap=(memory, capacity))
    audio.start()
    assert audio.wait(60)["frames"] == 24_000
    out: list[np.ndarray] = []
    ring.drain(collect(out))
    played, _ = soundfile.read(wav, dtype="int16")
    assert ring.first_frame == 0 and ring.dropped == 0 and np.abs(played).max() > 1000
    np.testing.assert_array_equal(np.concatenate(out), played)
