"""ONNX export, checked loading, onnxruntime against the numpy reference, and the net bank."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
import onnx.external_data_helper
import onnxruntime as ort
import pytest
from onnx import helper

from breakage_pi.ml.dataset import input_vector, training_set
from breakage_pi.ml.errors import NetError
from breakage_pi.ml.net import Net, result_nets
from breakage_pi.ml.netbank import NetBank
from breakage_pi.ml.netfile import MAX_NET_BYTES, parse_net, read_net, reference_net
from breakage_pi.ml.netinfo import NET_VERSION
from breakage_pi.ml.onnx_export import INPUT_NAME, IR_VERSION, OPSET, OUTPUT_NAME, net_to_bytes, net_to_model
from breakage_pi.ml.session import NetSession, session_options
from breakage_pi.ml.train import TrainConfig, train
from breakage_pi.ml.velocity_io import VELOCITIES_IN, VELOCITIES_OUT, with_velocity_io
from ml_builders import random_patterns, seed_example_run


def _tight() -> Net:
    return seed_example_run()[2][-1]


def test_export_is_a_valid_model_with_the_documented_contract() -> None:
    model = onnx.load_model_from_string(net_to_bytes(_tight()))
    onnx.checker.check_model(model, full_check=True)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)]
    assert model.ir_version == IR_VERSION
    for value, name in ((model.graph.input[0], INPUT_NAME), (model.graph.output[0], OUTPUT_NAME)):
        assert value.name == name
        assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        assert [d.dim_value for d in value.type.tensor_type.shape.dim] == [1, 32]
    assert len(model.graph.input) == 1 and len(model.graph.output) == 1


def test_metadata_round_trips() -> None:
    net = _tight()
    loaded = parse_net(net_to_bytes(net), "x.onnx")
    assert loaded.info == net.info
    props = {p.key: p.value for p in loaded.model.metadata_props}
    assert props["format_version"] == str(NET_VERSION)
    assert props["channels"] == '["kick", "snare", "open_hat", "closed_hat"]'
    assert props["roles"] == '["in", "in", "out", "out"]'
    assert float(props["error_target"]) == pytest.approx(0.03 * net.info.reference_error)
    assert float(props["error_reached"]) <= float(props["error_target"])
    assert props["target_measure"] == "unexplained_variance" and float(props["relative_target"]) == 0.03
    assert float(props["relative_error"]) <= 0.03 and props["label"] == "tight"
    assert int(props["epochs"]) == net.info.epochs and props["training_set_hash"].startswith("sha256:")


def test_weights_round_trip_exactly() -> None:
    net = _tight()
    back = reference_net(parse_net(net_to_bytes(net)))
    assert all(np.array_equal(p, q) for p, q in zip(back.mlp.parameters(), net.mlp.parameters()))


def test_onnxruntime_matches_numpy_within_1e_5() -> None:
    net_file = parse_net(net_to_bytes(_tight()))
    reference = reference_net(net_file)
    plain = ort.InferenceSession(net_file.data, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    inputs = np.concatenate([rng.random((200, 32)), np.zeros((1, 32)), np.ones((1, 32))]).astype(np.float32)
    for x in inputs:
        ours = plain.run([OUTPUT_NAME], {INPUT_NAME: x[None, :]})[0]
        assert np.abs(ours - reference.mlp.forward(x[None, :])).max() <= 1e-5
    session = NetSession(net_file)
    for pattern in random_patterns(100, seed=1):
        x = input_vector(pattern, (0, 1))[None, :]
        assert np.abs(session.outputs(pattern) - reference.mlp.forward(x)).max() <= 1e-5
        assert np.abs(session.predict(pattern).astype(int) - reference.predict(pattern).astype(int)).max() <= 1


def test_session_rounds_and_clamps_like_the_reference() -> None:
    net_file = parse_net(net_to_bytes(_tight()))
    reference, session = reference_net(net_file), NetSession(net_file)
    exact = 0
    for pattern in random_patterns(100, seed=2):
        predicted = session.predict(pattern)
        assert predicted.dtype == np.uint8 and predicted.shape == (2, 16)
        exact += int(np.array_equal(predicted, reference.predict(pattern)))
    assert exact >= 95, "float32 vs float64 may differ by one only at a rounding boundary"


def test_float32_export_stays_close_to_the_float64_training_net() -> None:
    _, result, nets = seed_example_run()
    x = np.random.default_rng(1).random((20, 32))
    assert np.abs(result.snapshots[-1].mlp.forward(x) - nets[-1].mlp.forward(x)).max() <= 1e-5


@pytest.mark.parametrize("roles", [("in", "out", "out", "out"), ("out", "in", "in", "in"), ("in", "out", "in", "out")])
def test_other_role_splits_export_and_run(roles: tuple[str, ...]) -> None:
    data = training_set(random_patterns(3, seed=4), roles)
    net = result_nets(train(data, TrainConfig(targets=(0.05,))), data)[0]
    net_file = parse_net(net_to_bytes(net))
    session = NetSession(net_file)
    pattern = random_patterns(1, seed=9)[0]
    played = session.apply(pattern)
    inputs = [c for c, role in enumerate(roles) if role == "in"]
    assert np.array_equal(played.velocities[inputs], pattern.velocities[inputs])
    assert np.abs(session.outputs(pattern) - net.mlp.forward(input_vector(pattern, inputs)[None, :])).max() <= 1e-5


def test_a_net_of_too_old_an_opset_is_refused_clearly() -> None:
    model = net_to_model(_tight())
    model.opset_import[0].version = 9
    net_file = parse_net(model.SerializeToString(), "old.onnx")
    with pytest.raises(NetError, match="old.onnx: opset 9 is too old"):
        NetSession(net_file)


def test_the_wrapped_performance_graph_is_valid_onnx() -> None:
    wrapped = with_velocity_io(net_to_model(_tight()), 32, 32)
    onnx.checker.check_model(wrapped, full_check=True)
    assert [value.name for value in wrapped.graph.input] == [VELOCITIES_IN]
    assert [value.name for value in wrapped.graph.output] == [OUTPUT_NAME, VELOCITIES_OUT]


def test_session_options_keep_off_the_audio_core() -> None:
    options = session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1
    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_read_net_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "tight.onnx"
    path.write_bytes(net_to_bytes(_tight()))
    loaded = read_net(path)
    assert loaded.source == str(path) and loaded.info == _tight().info
    onnx.checker.check_model(str(path))


def _props_without(key: str) -> bytes:
    model = net_to_model(_tight())
    kept = [p for p in model.metadata_props if p.key != key]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    return model.SerializeToString()


def _props_with(key: str, value: str) -> bytes:
    model = net_to_model(_tight())
    for prop in model.metadata_props:
        if prop.key == key:
            prop.value = value
    return model.SerializeToString()


@pytest.mark.parametrize("make, message", [
    (lambda: b"", "empty file"),
    (lambda: b"this is not a net", "not an ONNX model"),
    (lambda: b'{"format": "breakage-pi/bank"}', "looks like JSON"),
    (lambda: _props_without("roles"), "missing metadata roles"),
    (lambda: _props_without("training_set_hash"), "missing metadata training_set_hash"),
    (lambda: _props_with("format_version", "2"), "newer than this program"),
    (lambda: _props_with("format", "something-else"), "expected 'breakage-pi/net'"),
    (lambda: _props_with("roles", '["in", "in", "in", "in"]'), "no output channel"),
    (lambda: _props_with("roles", '["in", "out", "out"]'), "roles must be 4"),
    (lambda: _props_with("roles", "in,in,out,out"), "JSON list"),
    (lambda: _props_with("channels", '["a", "a", "b", "c"]'), "distinct"),
    (lambda: _props_with("error_target", "tight"), "must be a number"),
    (lambda: _props_with("epochs", "1.5"), "integer"),
    (lambda: _props_with("roles", '["in", "in", "in", "out"]'), "input 'velocities_in' must be float32 \\[1, 48\\] or \\[N, 48\\]"),
])
def test_bad_net_files_are_clear_errors_naming_the_file(make: Callable[[], bytes], message: str) -> None:
    data = make()
    with pytest.raises(NetError, match=message) as caught:
        parse_net(data, "my.onnx")
    assert str(caught.value).startswith("my.onnx: ")
    assert isinstance(caught.value, ValueError)


def test_every_truncation_of_a_net_is_a_clear_error_or_a_complete_net() -> None:
    data = net_to_bytes(_tight())
    for size in range(0, len(data), 37):
        try:
            loaded = parse_net(data[:size], "cut.onnx")
        except NetError as error:
            assert str(error).startswith("cut.onnx: ")
        else:
            assert loaded.info.error_target == 0.005


def test_random_corruption_is_a_clear_error_or_a_playable_net() -> None:
    data = net_to_bytes(_tight())
    rng = np.random.default_rng(0)
    for _ in range(200):
        corrupt = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            region = rng.choice([rng.integers(0, 200), rng.integers(len(data) - 600, len(data)),
                                 rng.integers(0, len(data))])
            corrupt[region] = rng.integers(0, 256)
        try:
            NetSession(parse_net(bytes(corrupt), "bad.onnx")).predict(random_patterns(1, seed=0)[0])
        except NetError as error:
            assert str(error).startswith("bad.onnx: ")


def test_non_finite_or_external_weights_are_refused() -> None:
    model = net_to_model(_tight())
    weight = model.graph.initializer[0]
    values = onnx.numpy_helper.to_array(weight).copy()
    values[0, 0] = np.nan
    weight.CopyFrom(onnx.numpy_helper.from_array(values, weight.name))
    with pytest.raises(NetError, match="NaN or infinity"):
        parse_net(model.SerializeToString(), "nan.onnx")
    model = net_to_model(_tight())
    onnx.external_data_helper.set_external_data(model.graph.initializer[0], location="../../etc/passwd")
    model.graph.initializer[0].data_location = onnx.TensorProto.EXTERNAL
    model.graph.initializer[0].ClearField("raw_data")
    with pytest.raises(NetError, match="external.onnx: .*points outside"):
        parse_net(model.SerializeToString(), "external.onnx")


def test_metadata_that_is_not_utf8_is_refused() -> None:
    data = net_to_bytes(_tight())
    corrupt = data.replace(b"closed_hat", b"closed\xffhat")
    with pytest.raises(NetError, match="not UTF-8"):
        parse_net(corrupt, "bytes.onnx")


def test_a_huge_file_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.onnx"
    with path.open("wb") as handle:
        handle.truncate(MAX_NET_BYTES + 1)
    with pytest.raises(NetError, match="too big for a net"):
        read_net(path)


def test_missing_file_and_directory_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(NetError, match="no such file"):
        read_net(tmp_path / "missing.onnx")
    with pytest.raises(NetError, match="is a folder"):
        read_net(tmp_path)


def test_invalid_onnx_graph_is_a_clear_error() -> None:
    model = net_to_model(_tight())
    model.graph.node[0].input[1] = "no_such_tensor"
    with pytest.raises(NetError, match="invalid ONNX model"):
        parse_net(model.SerializeToString(), "broken.onnx")


def test_foreign_net_plays_but_has_no_numpy_reference() -> None:
    """A net made elsewhere (here: MatMul + Add instead of Gemm) with the contract runs in onnxruntime."""
    reference = _tight()
    model = net_to_model(reference)
    graph = model.graph
    weight, bias = graph.node[0].input[1], graph.node[0].input[2]
    matmul = helper.make_node("MatMul", [INPUT_NAME, weight], ["mm"])
    add = helper.make_node("Add", ["mm", bias], [graph.node[0].output[0]])
    nodes = [matmul, add, *graph.node[1:]]
    del graph.node[:]
    graph.node.extend(nodes)
    net_file = parse_net(model.SerializeToString(), "foreign.onnx")
    pattern = random_patterns(1, seed=3)[0]
    assert np.abs(NetSession(net_file).predict(pattern).astype(int) - reference.predict(pattern).astype(int)).max() <= 1
    with pytest.raises(NetError, match="no numpy reference"):
        reference_net(net_file)


def test_net_bank_orders_loose_to_tight_and_switches() -> None:
    nets = seed_example_run()[2]
    files = [parse_net(net_to_bytes(net), f"{net.info.error_target}.onnx") for net in reversed(nets)]
    bank = NetBank(files)
    assert bank.labels == ("loose", "medium", "tight") and len(bank) == 3
    assert bank.targets == tuple(net.info.error_target for net in nets)
    pattern = random_patterns(1, seed=5)[0]
    assert not np.array_equal(bank[0].predict(pattern), bank[2].predict(pattern))


def test_net_bank_blends_at_a_knob_position_as_predict_does() -> None:
    """At a detent exactly that net's outputs; between, the crossfade of the two neighbours (core.morph)."""
    from breakage_pi.core.morph import morphed

    nets = seed_example_run()[2]
    bank = NetBank([parse_net(net_to_bytes(net), f"{net.info.error_target}.onnx") for net in nets])
    pattern = random_patterns(1, seed=5)[0]
    each = [bank[index].outputs(pattern).reshape(2, 16) * 255 for index in range(3)]
    for position in (0.0, 0.5, 1.0):
        assert np.array_equal(bank.outputs_at(pattern, position), each[round(position * 2)])
    for position in (0.1, 0.3, 0.75, 0.99):
        assert np.array_equal(bank.outputs_at(pattern, position), morphed(each, position))


def test_net_bank_refuses_nets_of_different_roles_or_none() -> None:
    net = _tight()
    other = Net(net.mlp, replace(net.info, roles=("in", "in", "out", "out"), channels=("a", "b", "c", "d")))
    with pytest.raises(NetError, match="differ"):
        NetBank([parse_net(net_to_bytes(net), "a.onnx"), parse_net(net_to_bytes(other), "b.onnx")])
    with pytest.raises(NetError, match="no nets"):
        NetBank([])


@pytest.mark.parametrize("batch", ["N", "batch_size", None])
def test_a_net_with_a_dynamic_batch_dimension_plays(batch: str | None) -> None:
    """PyTorch exports with ``dynamic_axes`` give ``[N, n_in]`` (a named or unnamed first dimension)."""
    reference = _tight()
    model = net_to_model(reference)
    for value in (model.graph.input[0], model.graph.output[0]):
        first = value.type.tensor_type.shape.dim[0]
        first.Clear()
        if batch:
            first.dim_param = batch
    net_file = parse_net(model.SerializeToString(), "torch.onnx")
    for pattern in random_patterns(4, seed=9):
        played = NetSession(net_file).predict(pattern).astype(int)
        assert np.abs(played - reference.predict(pattern).astype(int)).max() <= 1


def test_a_fixed_batch_other_than_one_is_refused() -> None:
    model = net_to_model(_tight())
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 8
    model.graph.output[0].type.tensor_type.shape.dim[0].dim_value = 8
    with pytest.raises(NetError, match=r"batch8.onnx: input 'velocities_in' must be float32 \[1, 32\] or \[N, 32\]"):
        parse_net(model.SerializeToString(), "batch8.onnx")
