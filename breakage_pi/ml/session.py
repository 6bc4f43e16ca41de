"""The net in the performance loop: one onnxruntime session, created once, fed from pre-allocated arrays.

One intra-op and one inter-op thread, sequential execution and no spinning,
so inference never busy-waits on a core the audio process needs. At this
size ``InferenceSession.run`` costs a few microseconds; IO binding is slower.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

from ..core.pattern import MAX_VELOCITY, STEPS, Pattern
from .dataset import output_velocities, with_outputs
from .errors import NetError
from .netfile import NetFile
from .netinfo import NetInfo
from .onnx_export import INPUT_NAME, OUTPUT_NAME

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
        try:
            self._session = ort.InferenceSession(net_file.data, session_options(), providers=["CPUExecutionProvider"])
        except _ORT_ERRORS as error:
            raise NetError(f"onnxruntime cannot load it: {error}", net_file.source) from None
        self._inputs = np.array(self.info.input_channels, dtype=np.intp)
        self._outputs = self.info.output_channels
        self._velocities = np.zeros((len(self._inputs), STEPS), dtype=np.uint8)
        self._x = np.zeros((1, len(self._inputs) * STEPS), dtype=np.float32)
        self._rows = self._x.reshape(len(self._inputs), STEPS)
        self._feed = {INPUT_NAME: self._x}
        self._fetch = [OUTPUT_NAME]

    def run(self, x: np.ndarray) -> np.ndarray:
        """The net's outputs (1, n_out) float32 0-1 for inputs ``x`` (1, n_in) 0-1."""
        self._x[...] = x
        return self._session.run(self._fetch, self._feed)[0]

    def predict(self, pattern: Pattern) -> np.ndarray:
        """The output channels' velocities (n_out_channels, 16) uint8 0-255 for ``pattern``'s inputs."""
        np.take(pattern.velocities, self._inputs, axis=0, out=self._velocities)
        np.multiply(self._velocities, np.float32(1.0 / MAX_VELOCITY), out=self._rows)
        y = self._session.run(self._fetch, self._feed)[0]
        return output_velocities(y[0], len(self._outputs))

    def apply(self, pattern: Pattern) -> Pattern:
        """``pattern`` with its output channels written by the net: what the engine plays in PERFORM."""
        return with_outputs(pattern, self._outputs, self.predict(pattern))
