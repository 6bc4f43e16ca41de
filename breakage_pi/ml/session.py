"""The net in the performance loop: one onnxruntime session, created once, fed from a pre-allocated array.

One intra-op and one inter-op thread, sequential execution and no spinning,
so inference never busy-waits on a core the audio process needs. The
session runs the net wrapped by :mod:`.velocity_io`, so a pattern's input
velocities go in and the output velocities come out in one call.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

from ..core.gate import DEFAULT_GATE, DEFAULT_KNEE, gated
from ..core.pattern import MAX_VELOCITY, STEPS, Pattern
from .dataset import with_outputs
from .errors import NetError
from .netfile import NetFile
from .netinfo import NetInfo
from .onnx_export import OUTPUT_NAME
from .velocity_io import VELOCITIES_IN, VELOCITIES_OUT, with_velocity_io

_ORT_ERRORS = (ort_state.Fail, ort_state.InvalidGraph, ort_state.InvalidArgument, ort_state.InvalidProtobuf,
               ort_state.NotImplemented, ort_state.RuntimeException)


def session_options() -> ort.SessionOptions:
    """Options for a session that shares a small machine with real-time audio."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


class NetSession:
    """Runs a net file with onnxruntime: a pattern in, the output channels' velocities out.

    ``NetSession(read_net("models/net-0.005.onnx")).predict(pattern)`` is a
    (2, 16) uint8 array of velocities 0-255 with the default roles.
    """

    def __init__(self, net_file: NetFile) -> None:
        self.info: NetInfo = net_file.info
        self.source = net_file.source
        inputs, outputs = self.info.input_channels, self.info.output_channels
        try:
            model = with_velocity_io(net_file.model, len(inputs) * STEPS, len(outputs) * STEPS)
            self._session = ort.InferenceSession(model.SerializeToString(), session_options(),
                                                 providers=["CPUExecutionProvider"])
        except NetError as error:
            raise error.in_source(net_file.source) from None
        except _ORT_ERRORS as error:
            raise NetError(f"onnxruntime cannot load it: {error}", net_file.source) from None
        contiguous = inputs == tuple(range(inputs[0], inputs[-1] + 1))
        # A slice of the pattern is a view (no copy); other splits gather rows.
        self._select: slice | list[int] = slice(inputs[0], inputs[-1] + 1) if contiguous else list(inputs)
        self._outputs = outputs
        self._velocities = np.zeros((1, len(inputs) * STEPS), dtype=np.uint8)
        self._rows = self._velocities.reshape(len(inputs), STEPS)
        self._feed = {VELOCITIES_IN: self._velocities}
        self._probe()

    def _probe(self) -> None:
        """Run the net once on silence and on full velocities: a net that fails or yields NaN is refused now,
        at load, not on stage (a net can pass every check of its file and still compute NaN)."""
        for velocity in (0, 255):
            self._velocities.fill(velocity)
            try:
                self._run()
            except NetError as error:
                raise NetError(f"refused: {error.message} (probe input: all velocities {velocity})",
                               self.source) from None
        self._velocities.fill(0)

    def _run(self) -> tuple[np.ndarray, np.ndarray]:
        """(velocities uint8, the net's own 0-1 outputs) for the current feed; NaN is an error, not velocity 0."""
        try:
            velocities, raw = self._session.run([VELOCITIES_OUT, OUTPUT_NAME], self._feed)
        except _ORT_ERRORS as error:
            raise NetError(f"onnxruntime fails to run it: {str(error).strip().splitlines()[0]}", self.source) \
                from None
        if np.isnan(raw).any():
            raise NetError("its output holds NaN", self.source)
        return velocities, raw

    def predict(self, pattern: Pattern) -> np.ndarray:
        """The output channels' velocities (n_out_channels, 16) uint8 0-255 for ``pattern``'s inputs."""
        np.copyto(self._rows, pattern.velocities[self._select])
        return self._run()[0].reshape(len(self._outputs), STEPS)

    def outputs(self, pattern: Pattern) -> np.ndarray:
        """The net's own outputs (1, n_out) float32 0-1 for ``pattern``, before rounding to velocities."""
        np.copyto(self._rows, pattern.velocities[self._select])
        return self._run()[1]

    def apply(self, pattern: Pattern) -> Pattern:
        """``pattern`` with its output channels written by the net, ungated (every output, ghosts too)."""
        return with_outputs(pattern, self._outputs, self.predict(pattern))

    def play(self, pattern: Pattern, gate: int = DEFAULT_GATE, chance: bool = False, seed: int = 0,
             bar: int = 0, knee: int = DEFAULT_KNEE) -> Pattern:
        """``pattern`` with its output channels as the instrument plays them in bar ``bar``: the net's
        outputs through the gate's knee (and chance, if on; see :mod:`breakage_pi.core.gate`)."""
        outputs = self.outputs(pattern).reshape(len(self._outputs), STEPS) * MAX_VELOCITY
        return with_outputs(pattern, self._outputs, gated(outputs, gate, chance, seed, bar, knee))
