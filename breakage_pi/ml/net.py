"""A trained net in numpy: weights plus metadata, the reference the ONNX session must match."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.pattern import Pattern
from .dataset import TrainingSet, input_vector, output_velocities, with_outputs
from .mlp import Mlp
from .netinfo import NetInfo, measured
from .train import TARGET_MEASURE, TrainingResult, target_label


@dataclass(frozen=True)
class Net:
    """An MLP with its :class:`NetInfo`; maps a pattern's input channels to its output channels.

    Weights are float32 once exported or loaded; the forward pass runs in float64.
    """

    mlp: Mlp
    info: NetInfo

    def predict(self, pattern: Pattern) -> np.ndarray:
        """The output channels' velocities (n_out_channels, 16) uint8 0-255 for ``pattern``'s inputs."""
        x = input_vector(pattern, self.info.input_channels)[None, :]
        return output_velocities(self.mlp.forward(x)[0], len(self.info.output_channels))

    def apply(self, pattern: Pattern) -> Pattern:
        """``pattern`` with its output channels written by the net: what the engine plays in PERFORM."""
        return with_outputs(pattern, self.info.output_channels, self.predict(pattern))


def result_nets(result: TrainingResult, data: TrainingSet) -> list[Net]:
    """One net per snapshot (every target, unless aborted), loose to tight, with float32 weights as they will be exported."""
    return [
        Net(snapshot.mlp.astype(np.float32),
            NetInfo(channels=data.channels, roles=data.roles, error_target=measured(snapshot.error_target),
                    error_reached=measured(snapshot.error), epochs=snapshot.epochs, training_set_hash=data.digest,
                    seed=result.config.seed, examples=len(data), target_measure=TARGET_MEASURE,
                    relative_target=snapshot.target, relative_error=measured(snapshot.relative_error),
                    reference_error=measured(snapshot.reference_error),
                    label=target_label(snapshot.index, len(result.config.targets))))
        for snapshot in result.snapshots
    ]
