"""The human-readable summary written beside the nets of a training run.

Deterministic (no dates, no timings) so that regenerated nets give the same
summary. Besides each net's target and error it gives each net's error on
every slot of the bank: on slots outside the training set that shows how
each net generalises.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.bank import Bank
from ..core.pattern import Pattern
from .dataset import TrainingSet, input_vector
from .net import Net
from .train import TrainingResult, target_label

_STOPPED = {"targets": "all targets reached", "max_epochs": "max epochs reached", "aborted": "aborted"}


def format_summary(bank_name: str, bank: Bank, data: TrainingSet, result: TrainingResult,
                   nets: Sequence[tuple[str, Net]]) -> str:
    """The summary text; ``nets`` are ``(file name, net)`` for the targets reached, loose to tight."""
    config = result.config
    inputs = ", ".join(data.channels[c] for c in data.input_channels)
    outputs = ", ".join(data.channels[c] for c in data.output_channels)
    sizes = (data.inputs.shape[1], *config.hidden, data.targets.shape[1])
    layers = "-".join(str(size) for size in sizes)
    lines = [
        "Breakage Pi nets",
        "",
        f"bank:      {bank_name}, {len(bank.training_slots)} training slots: "
        + ", ".join(slot.name or "unnamed" for slot in bank.training_slots)
        + (f" and {len(bank.corrections)} correction(s) made in PERFORM" if bank.corrections else ""),
        f"data:      {data.digest}",
        f"channels:  {inputs} -> {outputs}",
        f"net:       MLP {layers} (tanh hidden, sigmoid out), velocities scaled 0-1",
        f"training:  full-batch Adam, learning rate {config.learning_rate:g}, input noise {config.input_noise:g}, "
        f"seed {config.seed}, max {config.max_epochs} epochs; "
        + (f"looser nets also on copies shifted by {', '.join(map(str, config.shifts))} steps"
           if config.shifts and len(config.targets) > 1 else "no shifted copies"),
        f"stopped:   {_STOPPED[result.stopped]} after {result.epochs} epochs, "
        f"{result.relative_error:.4g} unexplained (MSE {result.error:.4g})",
        "",
        "Targets are fractions of the training outputs' variance a net leaves unexplained (1 - R^2): always",
        f"playing the training set's average outputs leaves 1, an MSE of {result.reference_error:.4g} here.",
        "MSE is the mean squared error on velocities scaled 0-1 (0.005 is about 18 of 255 RMS).",
        "",
    ]
    if result.floor > 0.0:
        lines += [f"Some training slots share their inputs but differ in outputs: no net can leave less than "
                  f"{result.floor:.4g}", "unexplained, so each target counts from there (target t is reached at "
                  "floor + t * (1 - floor)).", ""]
    name_width = max([len("net"), *(len(name) for name, _ in nets)])
    lines.append(f"{'net':<{name_width}}  {'label':<6}  {'target':>6}  {'reached':>7}  {'MSE':>9}  {'epochs':>6}")
    count = len(config.targets)
    for name, net in nets:
        target, reached = net.info.relative_target or 0.0, net.info.relative_error or 0.0
        lines.append(f"{name:<{name_width}}  {net.info.label:<6}  {target:>6.4g}  {reached:>7.4g}  "
                     f"{net.info.error_reached:>9.4g}  {net.info.epochs:>6}"
                     + ("  not reached: the closest net" if reached > target else ""))
    for index in range(len(nets), count):
        lines.append(f"{'(none)':<{name_width}}  {target_label(index, count):<6}  "
                     f"{config.targets[index]:>6g}  not reached (aborted)")
    if nets:
        lines += ["", "MSE per slot (* = in the training set):", ""]
        slot_width = max(len(f"{number} {slot.name}") for number, slot in enumerate(bank.slots, 1)) + 2
        lines.append(" " * slot_width + "  ".join(f"{name:>{max(len(name), 8)}}" for name, _ in nets))
        for number, slot in enumerate(bank.slots, 1):
            errors = "  ".join(f"{_slot_error(net, slot.pattern):>{max(len(name), 8)}.4g}" for name, net in nets)
            lines.append(f"{f'{number} {slot.name}' + (' *' if slot.train else ''):<{slot_width}}{errors}")
    return "\n".join(lines) + "\n"


def _slot_error(net: Net, pattern: Pattern) -> float:
    x = input_vector(pattern, net.info.input_channels)[None, :]
    y = input_vector(pattern, net.info.output_channels)
    return float(np.mean((net.mlp.forward(x)[0] - y) ** 2))
