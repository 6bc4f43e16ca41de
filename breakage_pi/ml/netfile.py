"""Reading net files: bytes or a path to a checked model and its :class:`NetInfo`.

Any valid ONNX model with the contract of :mod:`.onnx_export` (input and
output names, shapes, metadata) is a net onnxruntime can play; only nets
made by :mod:`.onnx_export` can also be turned back into the numpy reference.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import numpy_helper

from ..core.pattern import STEPS
from .errors import NetError
from .mlp import Mlp
from .net import Net
from .netinfo import NetInfo, info_from_props
from .onnx_export import INPUT_NAME, OUTPUT_NAME

MAX_NET_BYTES = 16 * 1024 * 1024
"""Nets here are ~10 kB; a file far larger is not a net (and would cost the device its memory)."""


@dataclass(frozen=True)
class NetFile:
    """A checked net file: its serialized model, the parsed model, its metadata and where it came from."""

    data: bytes
    model: onnx.ModelProto
    info: NetInfo
    source: str = ""


def parse_net(data: bytes, source: str = "") -> NetFile:
    """Check ``data`` is an ONNX model following the net contract; errors name ``source``."""
    if not data:
        raise NetError("empty file, expected an ONNX net", source)
    try:
        model = onnx.load_model_from_string(data)
    except DecodeError:
        hint = "it looks like JSON: a bank?" if data.lstrip()[:1] in (b"{", b"[") else "corrupt or truncated"
        raise NetError(f"not an ONNX model ({hint})", source) from None
    if not model.graph.node:
        raise NetError("not an ONNX model (no graph)", source)
    try:
        onnx.checker.check_model(model, full_check=True)
    except UnicodeDecodeError:
        raise NetError("invalid ONNX model: a name or text is not UTF-8 (corrupt?)", source) from None
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError, ValueError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise NetError(f"invalid ONNX model: {first_line}", source) from None
    try:
        _check_weights(model)
        info = info_from_props(_text_props(model))
        _check_io(model, info)
    except NetError as error:
        raise error.in_source(source) from None
    return NetFile(bytes(data), model, info, source)


def read_net(path: str | os.PathLike[str]) -> NetFile:
    """Read and check a ``.onnx`` net file; a missing, unreadable or wrong file raises naming it.

    Only a regular file of at most :data:`MAX_NET_BYTES` is read (``/dev/zero``
    or a FIFO given as a net must neither eat the memory nor hang). The store
    has the same guard for JSON; ``ml`` may not depend on it, hence this one.
    """
    source = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise NetError("no such file", source) from None
    except IsADirectoryError:
        raise NetError("is a folder, expected a .onnx net file", source) from None
    except OSError as error:
        raise NetError(f"cannot read: {error.strerror or error}", source) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise NetError("is a folder, expected a .onnx net file", source)
        if not stat.S_ISREG(info.st_mode):
            raise NetError("not a regular file (a device, FIFO or socket?)", source)
        if info.st_size > MAX_NET_BYTES:
            raise NetError(f"{info.st_size} bytes is too big for a net (at most {MAX_NET_BYTES}): is it one?", source)
        chunks: list[bytes] = []
        while sum(map(len, chunks)) <= MAX_NET_BYTES and (chunk := os.read(fd, 1 << 16)):
            chunks.append(chunk)
    except OSError as error:
        raise NetError(f"cannot read: {error.strerror or error}", source) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_NET_BYTES:
        raise NetError(f"too big for a net (at most {MAX_NET_BYTES} bytes): is it one?", source)
    return parse_net(data, source)


def reference_net(net_file: NetFile) -> Net:
    """The numpy reference of a net made by this program (Gemm/Tanh layers, Sigmoid output)."""
    weights = {tensor.name: numpy_helper.to_array(tensor) for tensor in net_file.model.graph.initializer}
    layers = []
    while f"layer{len(layers)}.weight" in weights:
        index = len(layers)
        layers.append((weights[f"layer{index}.weight"], weights.get(f"layer{index}.bias")))
    expected: list[str] = []
    for index in range(len(layers)):
        expected += ["Gemm", "Tanh" if index < len(layers) - 1 else "Sigmoid"]
    nodes = net_file.model.graph.node
    if not layers or [node.op_type for node in nodes] != expected or any(node.attribute for node in nodes) \
            or not _chained(layers):
        raise NetError("not a net made by breakage-pi (unknown layer structure): it can be played "
                       "but has no numpy reference", net_file.source)
    mlp = Mlp(tuple(np.asarray(w) for w, _ in layers), tuple(np.asarray(b) for _, b in layers))
    return Net(mlp, net_file.info)


def _check_weights(model: onnx.ModelProto) -> None:
    """Weights must be inside the file (a shared net never reads other files) and finite."""
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.external_data:
            raise NetError(f"weight {tensor.name!r} is stored outside the file: a net file must be self-contained")
        try:
            values = numpy_helper.to_array(tensor)
        except (ValueError, KeyError, TypeError):
            raise NetError(f"weight {tensor.name!r} cannot be read (corrupt file?)") from None
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            raise NetError(f"weight {tensor.name!r} holds NaN or infinity (corrupt file?)")


def _text_props(model: onnx.ModelProto) -> dict[str, str]:
    """Metadata as text; protobuf hands back undecodable strings as bytes."""
    props = {}
    for prop in model.metadata_props:
        key, value = prop.key, prop.value
        if isinstance(key, bytes) or isinstance(value, bytes):
            raise NetError(f"metadata {key!r} is not UTF-8 text (corrupt file?)")
        props[key] = value
    return props


def _chained(layers: list[tuple[np.ndarray, np.ndarray | None]]) -> bool:
    """Whether the layers' shapes follow on from each other: (a, b), (b,), (b, c), (c,) ..."""
    for index, (weight, bias) in enumerate(layers):
        if weight.ndim != 2 or bias is None or bias.shape != (weight.shape[1],):
            return False
        if index and layers[index - 1][0].shape[1] != weight.shape[0]:
            return False
    return True


def _check_io(model: onnx.ModelProto, info: NetInfo) -> None:
    inputs = [value for value in model.graph.input if value.name not in {t.name for t in model.graph.initializer}]
    _check_tensor(inputs, INPUT_NAME, len(info.input_channels) * STEPS, "input")
    _check_tensor(list(model.graph.output), OUTPUT_NAME, len(info.output_channels) * STEPS, "output")


def _check_tensor(values: list[onnx.ValueInfoProto], name: str, width: int, kind: str) -> None:
    """One float32 tensor ``name`` of shape [1, width] or [N, width] (a dynamic batch, as PyTorch exports)."""
    if [value.name for value in values] != [name]:
        raise NetError(f"expected one {kind} named {name!r}, got {[value.name for value in values]}")
    tensor = values[0].type.tensor_type
    shape: list[int | str | None] = [dim.dim_value if dim.HasField("dim_value") else dim.dim_param or None
                                     for dim in tensor.shape.dim]
    batch_ok = len(shape) == 2 and (shape[0] == 1 or not isinstance(shape[0], int))
    if tensor.elem_type != onnx.TensorProto.FLOAT or not batch_ok or shape[1] != width:
        raise NetError(f"{kind} {name!r} must be float32 [1, {width}] or [N, {width}] for these roles, "
                       f"got {onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type) if tensor.elem_type else '?'} "
                       f"{shape}")
