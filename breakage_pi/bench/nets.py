"""Bench section ``nets``: inference latency (onnxruntime and numpy) and training time to each target.

Inference is timed per call of ``predict(pattern)`` (pattern in, output
velocities out), as the performance loop calls it, over patterns that change
every call; ``onnx_run``/``numpy_forward`` time the bare net file on a
ready float input (``InferenceSession.run`` as any program would call it). Training is timed on 4, 16 and 64 synthetic patterns shaped like
the demo bank (more kicks, denser hats), the median of three runs.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Callable

import numpy as np
import onnxruntime as ort

from ..core.pattern import CHANNELS, STEPS, Pattern
from ..ml.dataset import TrainingSet, training_set
from ..ml.net import result_nets
from ..ml.netfile import parse_net
from ..ml.onnx_export import INPUT_NAME, OUTPUT_NAME, net_to_bytes
from ..ml.session import NetSession, session_options
from ..ml.train import DEFAULT_TARGETS, TrainConfig, TrainingResult, target_label, train

ROLES = ("in", "in", "out", "out")
INFER_CALLS = 20_000
TRAIN_SIZES = (4, 16, 64)
TRAIN_REPEATS = 3


def synthetic_patterns(count: int, seed: int = 1) -> list[Pattern]:
    """``count`` plausible grooves: kicks on 1 and 3 plus random extras, backbeat snares with
    ghosts, closed hats every 4, 2 or 1 steps as the kicks get busier, an open hat on step 15 now and then."""
    rng = np.random.default_rng(seed)
    patterns = []
    for _ in range(count):
        grid = np.zeros((CHANNELS, STEPS), dtype=np.int64)
        grid[0, 0] = rng.integers(200, 241)
        if rng.random() < 0.8:
            grid[0, 8] = rng.integers(180, 231)
        extra = (rng.random(STEPS) < rng.uniform(0.05, 0.35)) & (grid[0] == 0)
        grid[0, extra] = rng.integers(100, 221, size=int(extra.sum()))
        grid[1, [4, 12]] = rng.integers(190, 231, size=2)
        ghosts = (rng.random(STEPS) < 0.1) & (grid[1] == 0)
        grid[1, ghosts] = rng.integers(60, 101, size=int(ghosts.sum()))
        kicks = int((grid[0] > 0).sum())
        every = 4 if kicks <= 2 else 2 if kicks <= 4 else 1
        base = int(rng.integers(80, 171))
        for step in range(0, STEPS, every):
            grid[3, step] = base + (40 if step % 4 == 0 else 0)
        if grid[0, 10] or rng.random() < 0.3:
            grid[2, 14] = rng.integers(100, 161)
            grid[3, 14] = 0
        patterns.append(Pattern(grid.astype(np.uint8)))
    return patterns


def run() -> dict[str, float]:
    """Figures: ``nets.infer.*`` in microseconds per call, ``nets.train.p{n}.*`` in seconds and epochs."""
    figures: dict[str, float] = {}
    figures.update(_inference())
    for size in TRAIN_SIZES:
        figures.update(_training(size))
    print("  note: 2 shared cores here; other work on the machine shows up in p99 and training seconds",
          file=sys.stderr)
    return figures


def _inference() -> dict[str, float]:
    """``predict(pattern)`` (the performance path) and the bare forward pass, in interleaved rounds
    so that load from elsewhere on the machine hits every variant alike."""
    data = training_set(synthetic_patterns(16), ROLES)
    net = result_nets(train(data, TrainConfig()), data)[-1]
    net_file = parse_net(net_to_bytes(net), "<bench>")
    session = NetSession(net_file)
    plain = ort.InferenceSession(net_file.data, session_options(), providers=["CPUExecutionProvider"])
    patterns = synthetic_patterns(256, seed=2)
    x = np.asarray(data.inputs[:1], dtype=np.float32)
    feed, fetch = {INPUT_NAME: x}, [OUTPUT_NAME]
    variants: dict[str, Callable[[Pattern], object]] = {
        "onnx": session.predict,
        "numpy": net.predict,
        "onnx_run": lambda pattern: plain.run(fetch, feed),
        "numpy_forward": lambda pattern: net.mlp.forward(x),
    }
    print(f"  inference: {INFER_CALLS} calls of each of {', '.join(variants)}", file=sys.stderr, flush=True)
    times: dict[str, list[np.ndarray]] = {name: [] for name in variants}
    rounds = 10
    for _ in range(rounds):
        for name, call in variants.items():
            times[name].append(_time_calls(call, patterns, INFER_CALLS // rounds))
    figures = {}
    for name, parts in times.items():
        every = np.concatenate(parts)
        figures[f"nets.infer.{name}_median_us"] = float(np.median(every)) / 1000
        figures[f"nets.infer.{name}_p99_us"] = float(np.percentile(every, 99)) / 1000
    return figures


def _time_calls(call: Callable[[Pattern], object], patterns: list[Pattern], count: int) -> np.ndarray:
    """Nanoseconds of each of ``count`` calls, a different pattern each time."""
    for pattern in patterns[:16]:
        call(pattern)
    times = np.empty(count)
    for index in range(count):
        pattern = patterns[index % len(patterns)]
        start = time.perf_counter_ns()
        call(pattern)
        times[index] = time.perf_counter_ns() - start
    return times


def _training(size: int) -> dict[str, float]:
    print(f"  training on {size} patterns, {TRAIN_REPEATS} runs", file=sys.stderr, flush=True)
    data = training_set(synthetic_patterns(size), ROLES)
    config = TrainConfig(report_every=1)
    runs = [_timed_run(data, config) for _ in range(TRAIN_REPEATS)]
    figures = {}
    for index, target in enumerate(DEFAULT_TARGETS):
        label = target_label(index, len(DEFAULT_TARGETS))
        seconds = [crossed[target] for crossed, _ in runs if target in crossed]
        epochs = [s.epochs for s in runs[0][1].snapshots if s.target == target]
        figures[f"nets.train.p{size}.seconds_to_{label}"] = statistics.median(seconds) if seconds else float("nan")
        figures[f"nets.train.p{size}.epochs_to_{label}"] = float(epochs[0]) if epochs else float("nan")
    return figures


def _timed_run(data: TrainingSet, config: TrainConfig) -> tuple[dict[float, float], TrainingResult]:
    """One training run and the wall time (s) at which the error first reached each target."""
    crossed: dict[float, float] = {}
    pending = list(config.targets)
    start = time.perf_counter()

    def note(epoch: int, error: float) -> None:
        while pending and error <= pending[0]:
            crossed[pending.pop(0)] = time.perf_counter() - start

    return crossed, train(data, config, progress=note)
