"""Bench section ``nets``: quality on the shipped evaluation set, inference latency and training time.

Quality (``nets.quality.*``): the default training run on the evaluation set's
16 training patterns, each net (loose, medium, tight) scored beside three
baselines fitted on the same patterns (the average hats, the nearest
training pattern's hats, ridge regression):

- ``train_mse``/``train_f1`` and ``held_out_mse``/``held_out_f1`` on the 34
  held-out patterns of known styles: MSE on 0-1 velocities and onset F1 (a
  hit is a velocity at or above the default gate);
- ``unseen_style_mse``: leave one style out (train on the other four styles'
  training patterns, score on every pattern of the missing style), the mean
  over the five styles;
- ``responsive_answered``/``responsive_hits_changed``: every one-hit edit of
  every held-out pattern (a kick or snare removed, or added at velocity 200):
  the fraction of edits that change at least one played hat (starts, stops
  or moves by 16 velocity units or more, through the gate) and the mean
  number changed;
- ``gate_sweep_max_jump``: the largest jump of a played velocity (through the
  gate's knee) while any one input of a held-out pattern rises 0 -> 255 one
  velocity at a time; ``hard_gate_sweep_max_jump`` the same with a hard gate
  (knee 0), as before the knee; ``smoothness_max_step`` the raw net output's;
- ``morph.max_played_step``/``morph.max_output_step``: the NET knob turned
  0 -> 1 in hundredths over the held-out patterns;
- the ghost hits the gate removes per held-out pattern, and how much the
  nets differ (hits one plays and the other does not, per pattern; the mean
  velocity difference on steps either plays).

Inference is timed per call of ``predict(pattern)`` (pattern in, output
velocities out) over patterns that change every call; ``knob_detent`` and
``knob_between`` time what the daemon answers the state machine with (the
nets' outputs at a NET knob position: one net at a detent, two blended
between); ``onnx_run``/``numpy_forward`` time the bare net file on a
ready float input (``InferenceSession.run`` as any program would call it). Training is timed on 4, 16 and 64
synthetic patterns shaped like the demo bank (more kicks, denser hats), the median of three runs; ``cpu_seconds``
is the CPU time (all threads) of a whole run to every net.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Callable

import numpy as np
import onnxruntime as ort

from ..core.gate import DEFAULT_GATE, DEFAULT_KNEE, gated
from ..core.morph import morphed
from ..core.pattern import CHANNELS, MAX_VELOCITY, STEPS, Pattern
from ..ml.dataset import TrainingSet, training_set
from ..ml.evalset import EvalSet, load_eval_set
from ..ml.quality import (Baselines, Player, Predictor, ghosts_per_pattern, largest_played_jump, largest_sweep_step,
                          mse, onset_f1, responsiveness)
from ..ml.net import result_nets
from ..ml.netbank import NetBank
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
    """Figures: ``nets.quality.*`` (MSE, F1, velocity units, counts, seconds), ``nets.infer.*`` in
    microseconds per call, ``nets.train.p{n}.*`` in seconds and epochs."""
    figures: dict[str, float] = {}
    print("  quality on the shipped evaluation set", file=sys.stderr, flush=True)
    figures.update(quality_figures())
    figures.update(_inference())
    for size in TRAIN_SIZES:
        figures.update(_training(size))
    print("  note: 2 shared cores here; other work on the machine shows up in p99 and training seconds",
          file=sys.stderr)
    return figures


def quality_figures(config: TrainConfig = TrainConfig(), gate: int = DEFAULT_GATE,
                    knee: int = DEFAULT_KNEE) -> dict[str, float]:
    """The ``nets.quality.*`` figures of a training run with ``config`` on the shipped evaluation set."""
    evaluation = load_eval_set()
    train_set, held_out = evaluation.train, evaluation.held_out
    start = time.process_time()
    result = train(train_set, config)
    figures = {"nets.quality.train_cpu_seconds": time.process_time() - start,
               "nets.quality.reference_mse": result.reference_error}
    predictors = _predictors(result, train_set)
    nets = {net.info.label: net for net in result_nets(result, train_set)}
    for name, predict in predictors.items():
        for part, data in (("train", train_set), ("held_out", held_out)):
            predicted = predict(data.inputs)
            figures[f"nets.quality.{name}.{part}_mse"] = mse(predicted, data.targets)
            figures[f"nets.quality.{name}.{part}_f1"] = onset_f1(predicted, data.targets, gate)
        play = _player(predict, gate, knee)
        answer = responsiveness(play, held_out.inputs)
        figures[f"nets.quality.{name}.responsive_answered"] = answer.answered
        figures[f"nets.quality.{name}.responsive_hits_changed"] = answer.hits_changed
        figures[f"nets.quality.{name}.gate_sweep_max_jump"] = largest_played_jump(play, held_out.inputs)
    figures.update(_unseen_style_figures(evaluation, config))
    for label, net in nets.items():
        figures[f"nets.quality.{label}.train_unexplained"] = net.info.relative_error or float("nan")
        figures[f"nets.quality.{label}.epochs"] = float(net.info.epochs)
        figures[f"nets.quality.{label}.smoothness_max_step"] = largest_sweep_step(net.mlp.forward, held_out.inputs)
        figures[f"nets.quality.{label}.hard_gate_sweep_max_jump"] = largest_played_jump(
            _player(net.mlp.forward, gate, 0), held_out.inputs)
        figures[f"nets.quality.{label}.gated_ghosts_per_pattern"] = ghosts_per_pattern(
            net.mlp.forward(held_out.inputs), gate)
    figures.update(_morph_figures([net.mlp.forward for net in nets.values()], held_out.inputs, gate, knee))
    labels = list(nets)
    for first, second in zip(labels, labels[1:]):
        played = [gated(nets[label].mlp.forward(held_out.inputs) * MAX_VELOCITY, gate, knee=knee).astype(int)
                  for label in (first, second)]
        sounding = (played[0] > 0) | (played[1] > 0)
        figures[f"nets.quality.{first}_vs_{second}.hits_differing_per_pattern"] = \
            float(np.count_nonzero((played[0] > 0) != (played[1] > 0))) / len(held_out)
        figures[f"nets.quality.{first}_vs_{second}.mean_velocity_difference"] = \
            float(np.abs(played[0] - played[1])[sounding].mean())
    return figures


def _predictors(result: TrainingResult, data: TrainingSet) -> dict[str, Predictor]:
    """The baselines fitted on ``data`` and the run's nets, by name."""
    baselines = Baselines(data.inputs, data.targets)
    predictors: dict[str, Predictor] = {"average": baselines.average, "nearest": baselines.nearest,
                                        "ridge": baselines.ridge}
    predictors.update({net.info.label: net.mlp.forward for net in result_nets(result, data)})
    return predictors


def _player(predict: Predictor, gate: int, knee: int) -> Player:
    """What the instrument plays of a predictor's outputs: through the gate's knee."""
    return lambda x: gated(np.asarray(predict(x)) * MAX_VELOCITY, gate, knee=knee)


def _unseen_style_figures(evaluation: EvalSet, config: TrainConfig) -> dict[str, float]:
    """Leave one style out: for each style, train on the other styles' training patterns and score on
    every pattern of that style; ``unseen_style_mse`` is the mean over the styles."""
    styles = sorted(set(evaluation.train_styles))
    train_set, held_out = evaluation.train, evaluation.held_out
    scores: dict[str, list[float]] = {}
    for style in styles:
        kept = [i for i, s in enumerate(evaluation.train_styles) if s != style]
        learn = TrainingSet(train_set.inputs[kept], train_set.targets[kept], train_set.channels, train_set.roles,
                            train_set.digest)
        unseen = [i for i, s in enumerate(evaluation.train_styles) if s == style]
        unseen_held = [i for i, s in enumerate(evaluation.held_out_styles) if s == style]
        x = np.concatenate([train_set.inputs[unseen], held_out.inputs[unseen_held]])
        y = np.concatenate([train_set.targets[unseen], held_out.targets[unseen_held]])
        for name, predict in _predictors(train(learn, config), learn).items():
            scores.setdefault(name, []).append(mse(predict(x), y))
    return {f"nets.quality.{name}.unseen_style_mse": float(np.mean(values)) for name, values in scores.items()}


def _morph_figures(nets: list[Predictor], inputs: np.ndarray, gate: int, knee: int) -> dict[str, float]:
    """The NET knob turned 0 -> 1 in hundredths over every held-out pattern: the largest change of a played
    velocity (gate included) and of a raw output (velocity units) per hundredth of a turn."""
    outputs = [np.asarray(net(inputs)) * MAX_VELOCITY for net in nets]
    raw = np.stack([morphed(outputs, position) for position in np.linspace(0.0, 1.0, 101)])
    played = np.stack([gated(frame, gate, knee=knee) for frame in raw]).astype(np.float64)
    return {"nets.quality.morph.max_output_step": float(np.abs(np.diff(raw, axis=0)).max()),
            "nets.quality.morph.max_played_step": float(np.abs(np.diff(played, axis=0)).max())}


def _inference() -> dict[str, float]:
    """``predict(pattern)`` (the performance path) and the bare forward pass, in interleaved rounds
    so that load from elsewhere on the machine hits every variant alike."""
    data = training_set(synthetic_patterns(16), ROLES)
    nets = result_nets(train(data, TrainConfig()), data)
    net = nets[-1]
    net_file = parse_net(net_to_bytes(net), "<bench>")
    knob = NetBank([parse_net(net_to_bytes(each), f"<bench {index}>") for index, each in enumerate(nets)])
    session = NetSession(net_file)
    plain = ort.InferenceSession(net_file.data, session_options(), providers=["CPUExecutionProvider"])
    patterns = synthetic_patterns(256, seed=2)
    x = np.asarray(data.inputs[:1], dtype=np.float32)
    feed, fetch = {INPUT_NAME: x}, [OUTPUT_NAME]
    variants: dict[str, Callable[[Pattern], object]] = {
        "onnx": session.predict,
        "numpy": net.predict,
        "knob_detent": lambda pattern: knob.outputs_at(pattern, 0.5),
        "knob_between": lambda pattern: knob.outputs_at(pattern, 0.75),
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
    runs, cpu = [], []
    for _ in range(TRAIN_REPEATS):
        start = time.process_time()
        runs.append(_timed_run(data, config))
        cpu.append(time.process_time() - start)
    figures = {f"nets.train.p{size}.cpu_seconds": statistics.median(cpu)}
    for index, target in enumerate(DEFAULT_TARGETS):
        label = target_label(index, len(DEFAULT_TARGETS))
        seconds = [crossed[target] for crossed, _ in runs if target in crossed]
        epochs = [s.epochs for s in runs[0][1].snapshots if s.index == index]
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
