"""Wrap a net's graph so onnxruntime takes and gives velocities 0-255 directly (for the performance loop).

The net file keeps its contract (float 0-1 in and out); in memory, the
session runs a copy with ``Cast -> Mul(1/255)`` in front and
``Mul(255) -> Clip(0, 255) -> Round -> Cast`` behind. A pattern then maps to
its output velocities in one onnxruntime call: each numpy call around it
costs a few microseconds with cold caches, more than the net itself.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..core.pattern import MAX_VELOCITY
from .errors import NetError
from .onnx_export import INPUT_NAME, OUTPUT_NAME

VELOCITIES_IN = "breakage_pi.velocities"
VELOCITIES_OUT = "breakage_pi.velocities_u8"
MIN_OPSET = 11  # Round, and Clip with bounds as inputs
_PREFIX = "breakage_pi."


def with_velocity_io(model: onnx.ModelProto, n_in: int, n_out: int) -> onnx.ModelProto:
    """A copy of ``model`` with uint8 input :data:`VELOCITIES_IN` [1, n_in] and a second output
    :data:`VELOCITIES_OUT` uint8 [1, n_out] (rounded, clamped), beside the net's own 0-1 output."""
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if opset < MIN_OPSET:
        raise NetError(f"opset {opset} is too old to play: export the net with opset {MIN_OPSET} or newer")
    wrapped = onnx.ModelProto()
    wrapped.CopyFrom(model)
    graph = wrapped.graph
    constants = {"scale_in": 1.0 / MAX_VELOCITY, "scale_out": float(MAX_VELOCITY), "low": 0.0,
                 "high": float(MAX_VELOCITY)}
    graph.initializer.extend(numpy_helper.from_array(np.array(value, dtype=np.float32), _PREFIX + name)
                             for name, value in constants.items())
    front = [
        helper.make_node("Cast", [VELOCITIES_IN], [_PREFIX + "in_float"], to=TensorProto.FLOAT),
        helper.make_node("Mul", [_PREFIX + "in_float", _PREFIX + "scale_in"], [INPUT_NAME]),
    ]
    back = [
        helper.make_node("Mul", [OUTPUT_NAME, _PREFIX + "scale_out"], [_PREFIX + "scaled"]),
        helper.make_node("Clip", [_PREFIX + "scaled", _PREFIX + "low", _PREFIX + "high"], [_PREFIX + "clipped"]),
        helper.make_node("Round", [_PREFIX + "clipped"], [_PREFIX + "rounded"]),
        helper.make_node("Cast", [_PREFIX + "rounded"], [VELOCITIES_OUT], to=TensorProto.UINT8),
    ]
    nodes = [*front, *graph.node, *back]
    del graph.node[:]
    graph.node.extend(nodes)
    weights = [value for value in graph.input if value.name in {t.name for t in graph.initializer}]
    del graph.input[:]
    graph.input.extend([helper.make_tensor_value_info(VELOCITIES_IN, TensorProto.UINT8, [1, n_in]), *weights])
    graph.output.append(helper.make_tensor_value_info(VELOCITIES_OUT, TensorProto.UINT8, [1, n_out]))
    return wrapped
