"""Frames, messages and the device session driven directly: resync, timeouts (time passed in), fuzzing."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from breakage_pi.sync.frames import (DATA, ERROR, HEADER_SIZE, MAX_PAYLOAD, REQUEST, RESPONSE, Frame, FrameDecoder,
                                     ProtocolError, encode_frame)
from breakage_pi.sync.library import DataDir
from breakage_pi.sync.messages import check_name, check_request, encode_json
from breakage_pi.sync.session import FRAME_TIMEOUT_S, TRANSFER_TIMEOUT_S, DeviceSession

DEMO_BANK = Path(__file__).resolve().parent.parent / "breakage_pi" / "data" / "demo_bank.json"


def request(request_id, **message):
    return encode_frame(Frame(REQUEST, request_id, encode_json(message)))


def decode_all(chunks):
    decoder = FrameDecoder()
    return [item for chunk in chunks for item in decoder.feed(chunk)]


def sent(session, data, now=0.0):
    """What the device sends for ``data``: its answers, then a pull's data frames as the server would send them."""
    out = list(session.receive(data, now))
    while (frame := session.next_data()) is not None:
        out.append(frame)
    return out


def replies(session, data, now=0.0):
    return [f for f in decode_all(sent(session, data, now)) if isinstance(f, Frame)]


@pytest.fixture
def session(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    shutil.copy(DEMO_BANK, root / "bank.json")
    return DeviceSession(DataDir(root), {"product": "test"})


def test_frame_round_trip_byte_by_byte():
    frames = [Frame(REQUEST, 1, b"{}"), Frame(DATA, 2, bytes(range(256)) * 10), Frame(RESPONSE, 0xFFFFFFFF, b"")]
    wire = b"".join(map(encode_frame, frames))
    assert decode_all([wire[i:i + 1] for i in range(len(wire))]) == frames


def test_garbage_and_a_corrupt_frame_are_reported_once_each_and_the_stream_resynchronises():
    good = encode_frame(Frame(REQUEST, 5, b'{"op":"list"}'))
    corrupt = bytearray(encode_frame(Frame(DATA, 6, b"abcdef")))
    corrupt[-6] ^= 0xFF
    items = decode_all([b"\x00BKP garbage", bytes(corrupt), good])
    errors = [i for i in items if isinstance(i, ProtocolError)]
    assert [e.code for e in errors] == ["checksum"] and errors[0].request_id == 6
    assert items[-1] == Frame(REQUEST, 5, b'{"op":"list"}')
    noisy = decode_all([b"noise!" + good])
    assert noisy[0].code == "frame" and noisy[1] == Frame(REQUEST, 5, b'{"op":"list"}')


def test_a_corrupt_length_is_caught_by_the_header_crc_without_waiting():
    wire = bytearray(encode_frame(Frame(DATA, 1, b"x" * 10)))
    wire[12] ^= 0x40  # the length's low byte
    items = decode_all([bytes(wire) + encode_frame(Frame(REQUEST, 2, b"{}"))])
    assert items[0].code == "checksum" and items[-1] == Frame(REQUEST, 2, b"{}")


def test_a_frame_that_cannot_complete_does_not_take_the_good_frames_after_it_down():
    forged = encode_frame(Frame(DATA, 3, bytes(MAX_PAYLOAD)))[:HEADER_SIZE + 10]  # announces 64 KiB, sends 10
    good = encode_frame(Frame(REQUEST, 4, b'{"op":"list"}'))
    decoder = FrameDecoder()
    assert list(decoder.feed(forged + good + good[:7])) == []  # swallowed, for now
    assert decoder.stale
    expired = list(decoder.expire())
    assert [item.code for item in expired if isinstance(item, ProtocolError)] == ["timeout"]
    assert [item for item in expired if isinstance(item, Frame)] == [Frame(REQUEST, 4, b'{"op":"list"}')]
    assert not decoder.stale and decoder.pending == 0


def test_oversized_frames_are_refused():
    with pytest.raises(ProtocolError):
        Frame(DATA, 1, bytes(MAX_PAYLOAD + 1))


@pytest.mark.parametrize("name", ["..", "../x", "/etc", "a/b", ".hidden", "", "x" * 65, "a\\b", "a..b", "é"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(ProtocolError):
        check_name(name)


@pytest.mark.parametrize("message, fault", [
    ({"op": "format"}, "op: must be one of"),
    ({"op": "pull", "kind": "net"}, "pull.name: expected str"),
    ({"op": "list", "extra": 1}, "unexpected field"),
    ({"op": "pull", "kind": "bank", "name": "other"}, "one bank"),
    ({"op": "push", "kind": "net", "name": "n", "files": []}, "is one file"),
    ({"op": "hello", "version": True, "client": "x"}, "hello.version: expected int"),
])
def test_requests_are_validated_against_the_spec(message, fault):
    with pytest.raises(ProtocolError, match=fault):
        check_request(message)


def test_a_silent_host_mid_frame_is_dropped_after_the_timeout(session):
    wire = request(1, op="list")
    assert replies(session, wire[:10], now=0.0) == []
    assert list(session.tick(FRAME_TIMEOUT_S - 0.1)) == []
    (error,) = decode_all(list(session.tick(FRAME_TIMEOUT_S + 0.1)))
    assert error.type == ERROR and json.loads(error.payload)["code"] == "timeout"
    assert replies(session, wire, now=10.0)[0].type == RESPONSE


def test_a_forged_length_before_a_request_delays_its_answer_by_one_frame_timeout(session):
    forged = encode_frame(Frame(REQUEST, 3, bytes(MAX_PAYLOAD)))[:HEADER_SIZE]
    assert replies(session, forged + request(4, op="list"), now=0.0) == []
    assert list(session.tick(FRAME_TIMEOUT_S - 0.1)) == []
    error, answer = decode_all(list(session.tick(FRAME_TIMEOUT_S + 0.1)))
    assert (error.type, error.request_id, json.loads(error.payload)["code"]) == (ERROR, 0, "timeout")
    assert (answer.type, answer.request_id) == (RESPONSE, 4)


def test_noise_is_reported_under_id_0_which_no_request_uses(session):
    error, answer = replies(session, b"\x00" + request(5, op="list"))
    assert (error.type, error.request_id, answer.type, answer.request_id) == (ERROR, 0, RESPONSE, 5)


def test_a_new_request_stops_a_pull_under_way_and_says_so(session):
    (session.data.root / "nets").mkdir()
    (session.data.root / "nets" / "big.onnx").write_bytes(bytes(5 * MAX_PAYLOAD))
    (header,) = decode_all(list(session.receive(request(6, op="pull", kind="net", name="big"), 0.0)))
    assert header.type == RESPONSE and session.sending
    assert decode_all([session.next_data()])[0] == Frame(DATA, 6, bytes(MAX_PAYLOAD))
    stopped, answer = decode_all(list(session.receive(request(7, op="list"), 0.1)))
    assert (stopped.type, stopped.request_id, json.loads(stopped.payload)["code"]) == (ERROR, 6, "truncated")
    assert (answer.type, answer.request_id) == (RESPONSE, 7)
    assert not session.sending and session.next_data() is None


def test_noise_during_a_push_abandons_it_under_its_id_and_its_stray_data_is_dropped_quietly(session):
    content = b"RIFF\0\0\0\0WAVE" + bytes(100)
    files = [{"path": "kick.wav", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}]
    replies(session, request(8, op="push", kind="kit", name="k", files=files))
    (error,) = replies(session, b"noise" + encode_frame(Frame(DATA, 8, content[:50])), now=0.1)
    assert (error.type, error.request_id, json.loads(error.payload)["code"]) == (ERROR, 8, "frame")
    assert "abandoned after 0 of 112 bytes" in json.loads(error.payload)["message"]
    assert replies(session, encode_frame(Frame(DATA, 8, content[50:])), now=0.2) == []
    assert not (session.data.root / "kits" / "k").exists()


def test_an_abandoned_push_times_out_and_changes_nothing(session):
    content = b"RIFF\0\0\0\0WAVE" + bytes(100)
    files = [{"path": "kick.wav", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}]
    assert json.loads(replies(session, request(3, op="push", kind="kit", name="k", files=files))[0].payload) == {
        "ready": True}
    replies(session, encode_frame(Frame(DATA, 3, content[:50])), now=1.0)
    assert list(session.tick(1.0 + TRANSFER_TIMEOUT_S - 0.1)) == []
    (error,) = decode_all(list(session.tick(1.0 + TRANSFER_TIMEOUT_S + 0.1)))
    assert error.request_id == 3 and "abandoned" in json.loads(error.payload)["message"]
    assert not (session.data.root / "kits" / "k").exists()


def _mutations(wire: bytes):
    return st.lists(st.tuples(st.integers(0, max(len(wire) - 1, 0)), st.integers(0, 255)), max_size=4).map(
        lambda edits: _apply(wire, edits))


def _apply(wire, edits):
    data = bytearray(wire)
    for position, value in edits:
        data[position] = value
    return bytes(data)


VALID = [request(1, op="list"), request(2, op="pull", kind="bank", name="bank"),
         request(3, op="push", kind="net", name="n", files=[{"path": "n.onnx", "size": 3,
                                                               "sha256": hashlib.sha256(b"abc").hexdigest()}]),
         encode_frame(Frame(DATA, 3, b"abc")), request(4, op="delete", kind="net", name="n"),
         request(5, op="push", kind="kit", name="..", files=[]), request(6, op="pull", kind="kit", name="../..")]


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2, 2**40) | st.text(max_size=12)
                           | st.sampled_from(["bank", "net", "kit", "..", "../../etc/passwd", "k", "kick.wav",
                                            "a" * 64]),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                        max_size=3), max_leaves=8)
WELL_FRAMED = st.builds(
    lambda kind, request_id, message: encode_frame(Frame(kind, request_id, json.dumps(message).encode())),
    st.sampled_from([REQUEST, DATA, RESPONSE, ERROR]), st.integers(0, 2**32 - 1),
    st.fixed_dictionaries({"op": st.sampled_from(["hello", "list", "pull", "push", "delete", "nope"])},
                          optional={key: JSON_VALUES for key in ("kind", "name", "files", "version", "client", "x")}))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.binary(max_size=64), st.sampled_from(VALID).flatmap(_mutations),
                          st.sampled_from(VALID), WELL_FRAMED), max_size=8),
       st.integers(1, 64))
def test_fuzzed_frames_never_crash_the_device_nor_write_outside_its_data_dir(session, tmp_path, chunks, split):
    outside_before = sorted(str(p) for p in tmp_path.rglob("*") if session.data.root not in p.parents)
    wire = b"".join(chunks)
    now = 0.0
    for start in range(0, len(wire), split):
        now += 0.01
        for out in session.receive(wire[start:start + split], now):
            assert isinstance(out, bytes)
    list(session.tick(now + 100.0))  # whatever was half-sent is dropped
    outside_after = sorted(str(p) for p in tmp_path.rglob("*") if session.data.root not in p.parents)
    assert outside_after == outside_before
    assert all(not p.is_symlink() for p in session.data.root.rglob("*"))
    answer = [f for f in replies(session, request(77, op="pull", kind="bank", name="bank"), now + 200.0)
              if f.request_id == 77]  # a fuzzed pull under way is stopped, and says so under its own id
    assert answer[0].type == RESPONSE and answer[0].request_id == 77
    assert b"".join(f.payload for f in answer[1:]) == (session.data.root / "bank.json").read_bytes()


def test_a_kit_swap_cut_by_a_power_loss_is_undone_at_start(tmp_path):
    kits = tmp_path / "kits"
    (kits / ".808.old-1a2b3c4d").mkdir(parents=True)  # the old kit moved aside, the new one never renamed in
    (kits / ".808.old-1a2b3c4d" / "kick.wav").write_bytes(b"old kick")
    (kits / ".909.new-5e6f7a8b").mkdir()  # a half-written new kit
    (kits / ".909.new-5e6f7a8b" / "kick.wav").write_bytes(b"half")
    (kits / "909").mkdir()
    (kits / "909" / "kick.wav").write_bytes(b"new kick")
    data = DataDir(tmp_path)
    assert sorted(p.name for p in kits.iterdir()) == ["808", "909"]
    assert (kits / "808" / "kick.wav").read_bytes() == b"old kick"
    assert [item.name for item in data.items()] == ["808", "909"]
