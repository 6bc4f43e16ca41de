"""A net to an ONNX model, built with the ``onnx`` package.

The file contract: opset :data:`OPSET` (IR version :data:`IR_VERSION`, so any
onnxruntime from 1.14 on loads it), one input ``velocities_in`` float32
[1, n_in], one output ``velocities_out`` float32 [1, n_out], both 0-1
velocities (see :mod:`.dataset` for the order), and the metadata of
:mod:`.netinfo`. The graph is ``Gemm -> Tanh`` per hidden layer, then
``Gemm -> Sigmoid``, with initializers ``layer{k}.weight`` (fan_in, fan_out)
and ``layer{k}.bias``.
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper, numpy_helper

from .net import Net

OPSET = 17
IR_VERSION = 8
INPUT_NAME = "velocities_in"
OUTPUT_NAME = "velocities_out"
PRODUCER = "breakage-pi"


def net_to_model(net: Net) -> onnx.ModelProto:
    """The net as a checked ONNX model (raises ``onnx.checker.ValidationError`` on a bug here)."""
    sizes = net.mlp.sizes
    nodes, initializers = [], []
    current = INPUT_NAME
    last = len(net.mlp.weights) - 1
    for index, (weight, bias) in enumerate(zip(net.mlp.weights, net.mlp.biases)):
        initializers.append(numpy_helper.from_array(weight.astype("float32"), f"layer{index}.weight"))
        initializers.append(numpy_helper.from_array(bias.astype("float32"), f"layer{index}.bias"))
        linear = f"layer{index}.linear"
        nodes.append(helper.make_node("Gemm", [current, f"layer{index}.weight", f"layer{index}.bias"], [linear],
                                      name=f"layer{index}.gemm"))
        current = OUTPUT_NAME if index == last else f"layer{index}.out"
        activation = "Sigmoid" if index == last else "Tanh"
        nodes.append(helper.make_node(activation, [linear], [current], name=f"layer{index}.{activation.lower()}"))
    graph = helper.make_graph(
        nodes, "breakage_pi_net",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [1, sizes[0]])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [1, sizes[-1]])],
        initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name=PRODUCER, ir_version=IR_VERSION,
                              doc_string="Breakage Pi net: input channels' velocities (0-1) to output channels' (0-1).")
    helper.set_model_props(model, net.info.to_props())
    onnx.checker.check_model(model, full_check=True)
    return model


def net_to_bytes(net: Net) -> bytes:
    """The bytes of a ``.onnx`` net file, ready for :func:`breakage_pi.store.atomic_write_bytes`."""
    return net_to_model(net).SerializeToString()


__all__ = ["INPUT_NAME", "IR_VERSION", "OPSET", "OUTPUT_NAME", "PRODUCER", "net_to_bytes", "net_to_model"]
