"""Noise costs at most the exchange it hits: a real client and a real server over two ptys and a faulty relay.

The relay (here, in the test) forwards bytes both ways and, when told,
inserts noise, flips a byte, cuts a chunk short, forges a CRC-valid header
announcing bytes that never come, or forges whole CRC-valid frames, in
either direction, at once or amid the next chunks of an exchange. After
every fault the very next legitimate request must succeed, with the right
result, and nothing may appear outside the device's data dir or the host's
pull folder.
"""

import os
import random
import select
import shutil
import tempfile
import threading
import time
import tty
from dataclasses import dataclass
from pathlib import Path

import pytest
import serial
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from breakage_pi.sync import FdTransport, ProtocolError, SerialTransport, SyncClient, SyncServer
from breakage_pi.sync.frames import (DATA, ERROR, HEADER_SIZE, MAGIC, MAX_PAYLOAD, REQUEST, RESPONSE, Frame,
                                     FrameDecoder, encode_frame)
from breakage_pi.sync.messages import encode_json

DEMO_BANK = Path(__file__).resolve().parent.parent / "breakage_pi" / "data" / "demo_bank.json"
TO_DEVICE, TO_HOST = "to device", "to host"
FRAME_TIMEOUT_S = 0.25
"""Both ends give up a partial frame after this much silence (2 s in use): keeps a forged length cheap here."""


class Relay:
    """Forwards bytes between the host's pty and the device's pty; faults go in on command."""

    def __init__(self, host_fd: int, device_fd: int) -> None:
        self._ends = {TO_DEVICE: (host_fd, device_fd), TO_HOST: (device_fd, host_fd)}
        self._out = {TO_DEVICE: bytearray(), TO_HOST: bytearray()}
        self._armed: dict[str, list] = {}
        self._lock = threading.Lock()
        self._flushed = threading.Condition(self._lock)
        self._wake_read, self._wake_write = os.pipe()
        self._requests = FrameDecoder()
        self.last_request_id = 0
        self.fired = 0
        self._stop = False
        for fd in (host_fd, device_fd):
            os.set_blocking(fd, False)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def inject(self, direction: str, data: bytes) -> None:
        """Put ``data`` on the line now, between whatever else passes; returns once it is in the pty."""
        with self._lock:
            self._out[direction] += data
            os.write(self._wake_write, b"!")
            assert self._flushed.wait_for(lambda: not self._out[direction], timeout=10)

    def arm(self, direction: str, skip: int, mangle) -> None:
        """Let ``skip`` chunks pass in ``direction``, then replace the next one with ``mangle(chunk)``."""
        with self._lock:
            self._armed[direction] = [skip, mangle]

    def disarm(self) -> None:
        with self._lock:
            self._armed.clear()

    def close(self) -> None:
        self._stop = True
        os.write(self._wake_write, b"!")
        self._thread.join()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def _run(self) -> None:
        while not self._stop:
            with self._lock:
                writable = [self._ends[d][1] for d in self._ends if self._out[d]]
            readable, ready, _ = select.select([*(src for src, _ in self._ends.values()), self._wake_read],
                                               writable, [], 0.5)
            if self._wake_read in readable:
                os.read(self._wake_read, 4096)
            for direction, (source, target) in self._ends.items():
                if source in readable:
                    self._forward(direction, source)
                if target in ready:
                    with self._lock:
                        pending = self._out[direction]
                        try:
                            del pending[:os.write(target, pending)]
                        except BlockingIOError:
                            pass
                        if not pending:
                            self._flushed.notify_all()

    def _forward(self, direction: str, source: int) -> None:
        try:
            chunk = os.read(source, 65536)
        except (BlockingIOError, OSError):
            return
        if direction == TO_DEVICE:
            for item in self._requests.feed(chunk):
                if isinstance(item, Frame) and item.type == REQUEST:
                    self.last_request_id = item.request_id
        with self._lock:
            armed = self._armed.get(direction)
            if armed is not None:
                if armed[0] > 0:
                    armed[0] -= 1
                else:
                    del self._armed[direction]
                    chunk = armed[1](chunk)
                    self.fired += 1
            self._out[direction] += chunk


# --- faults: each makes the bytes to insert, or changes a chunk -------------------------------------------------

@dataclass(frozen=True)
class Noise:
    data: bytes

    def insert(self, relay: Relay, direction: str) -> bytes:
        return self.data


@dataclass(frozen=True)
class ForgedLength:
    """A CRC-valid header announcing ``length`` bytes, then only ``sent`` of them: it cannot complete."""
    frame_type: int
    length: int
    sent: int

    def insert(self, relay: Relay, direction: str) -> bytes:
        whole = encode_frame(Frame(self.frame_type, relay.last_request_id, bytes(self.length)))
        return whole[:HEADER_SIZE + min(self.sent, self.length)]


@dataclass(frozen=True)
class ForgedFrame:
    """A whole CRC-valid frame nobody sent, under id 0, the exchange's own id, the next exchange's, or a stranger's."""
    frame_type: int
    whose: str
    payload: bytes

    def insert(self, relay: Relay, direction: str) -> bytes:
        request_id = {"none": 0, "current": relay.last_request_id, "next": relay.last_request_id + 1,
                      "stranger": 0xFFFF_0000}[self.whose]
        return encode_frame(Frame(self.frame_type, request_id, self.payload))


@dataclass(frozen=True)
class Flip:
    position: int
    mask: int

    def mangle(self, chunk: bytes) -> bytes:
        changed = bytearray(chunk)
        changed[self.position % len(chunk)] ^= self.mask
        return bytes(changed)


@dataclass(frozen=True)
class Cut:
    """The rest of a chunk is lost from ``position`` on (at least its first byte passes)."""
    position: int

    def mangle(self, chunk: bytes) -> bytes:
        return chunk[:max(1, self.position % len(chunk))]


JSON_FORGERIES = [encode_json(message) for message in (
    {"items": []}, {"ready": True}, {"done": True, "size": 3}, {"code": "checksum", "message": "forged"},
    {"code": "io", "message": "forged"}, {"version": 1, "product": "x", "software": "x", "serial": "x"},
    {"kind": "kit", "name": "k1", "files": []})]
DEVICE_FORGERIES = [encode_json(message) for message in (
    {"op": "list"}, {"op": "pull", "kind": "bank", "name": "bank"},
    {"op": "hello", "version": 1, "client": "forger"})]
FORGED_PAYLOADS = st.one_of(st.sampled_from(JSON_FORGERIES + DEVICE_FORGERIES), st.binary(max_size=64))
FRAME_TYPES = st.sampled_from([RESPONSE, ERROR, DATA, REQUEST])
INSERTS = st.one_of(
    st.builds(Noise, st.binary(min_size=1, max_size=48)),
    st.builds(Noise, st.sampled_from([MAGIC, MAGIC[:3], MAGIC + b"\x01"])),
    st.builds(ForgedLength, FRAME_TYPES, st.sampled_from([MAX_PAYLOAD, 4096, 64]), st.integers(0, 40)),
    st.builds(ForgedFrame, FRAME_TYPES, st.sampled_from(["none", "current", "stranger"]), FORGED_PAYLOADS))
MANGLES = st.one_of(st.builds(Flip, st.integers(0, 2 ** 20), st.integers(1, 255)), st.builds(Cut, st.integers(0, 2 ** 20)))


@dataclass(frozen=True)
class Fault:
    direction: str
    when: str  # "now": between exchanges; "amid": in the exchange, after ``skip`` chunks
    skip: int
    insert: object = None
    mangle: object = None

    @property
    def may_fail_its_exchange(self) -> bool:
        """Only a forged CRC-valid frame under the exchange's own id can fool it; one retry outlasts any other
        single fault, and a fault between exchanges is no exchange's."""
        return self.when == "amid" and isinstance(self.insert, ForgedFrame) and self.insert.whose == "current"

    def apply(self, relay: Relay) -> int:
        """Put the fault on the line (or arm it); the bytes put on the line now."""
        if self.insert is not None and self.when == "now":
            data = self.insert.insert(relay, self.direction)
            relay.inject(self.direction, data)
            return len(data)
        if self.insert is not None:
            insert = self.insert
            relay.arm(self.direction, self.skip, lambda chunk: _insert_at(chunk, insert.insert(relay, self.direction)))
        else:
            relay.arm(self.direction, self.skip, self.mangle.mangle)
        return 0


def _insert_at(chunk: bytes, extra: bytes) -> bytes:
    position = random.Random(len(chunk)).randrange(len(chunk) + 1)
    return chunk[:position] + extra + chunk[position:]


DIRECTIONS = st.sampled_from([TO_DEVICE, TO_HOST])
SKIPS = st.one_of(st.just(0), st.integers(1, 3))  # chunks let through first: most exchanges are one chunk each way
FAULTS = st.one_of(
    st.builds(Fault, DIRECTIONS, st.sampled_from(["now", "amid"]), SKIPS, insert=INSERTS),
    # to the host under the next exchange's id, between exchanges: what came before a request is not its answer
    # (amid an exchange it could be that exchange's retry's id; to the device, the device's answer to a forged
    # request is indistinguishable from its answer to the real one, which no protocol can help)
    st.builds(Fault, st.just(TO_HOST), st.just("now"), st.just(0),
              insert=st.builds(ForgedFrame, FRAME_TYPES, st.just("next"), FORGED_PAYLOADS)),
    st.builds(Fault, DIRECTIONS, st.just("amid"), SKIPS, mangle=MANGLES))

# --- operations -------------------------------------------------------------------------------------------------

OPERATIONS = st.one_of(
    st.tuples(st.just("ls")),
    st.tuples(st.just("pull"), st.integers(0, 7)),
    st.tuples(st.just("push"), st.sampled_from([("net", "n1"), ("net", "n2"), ("kit", "k1"), ("kit", "k2")]),
              st.integers(0, 2 ** 16), st.sampled_from([1, 3000, 150_000])),
    st.tuples(st.just("delete"), st.integers(0, 7)))


def item_content(kind: str, seed: int, size: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    if kind == "net":
        return {"x.onnx": rng.randbytes(size)}
    return {f"{name}.wav": b"RIFF\0\0\0\0WAVE" + rng.randbytes(size // 2) for name in ("kick", "snare")}


def device_items(root: Path) -> dict[tuple[str, str], dict[str, bytes]]:
    """What the device holds, read straight from its data dir (not through the code under test)."""
    items = {("bank", "bank"): {"bank.json": (root / "bank.json").read_bytes()}}
    for net in sorted((root / "nets").glob("*.onnx")):
        items["net", net.stem] = {net.name: net.read_bytes()}
    for kit in sorted(p for p in (root / "kits").glob("*") if not p.name.startswith(".")):
        items["kit", kit.name] = {f.name: f.read_bytes() for f in kit.iterdir()}
    return items


class NoisyLink(RuleBasedStateMachine):
    """A host and a device over a faulty relay; every fault is followed by a request that must succeed."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="noisy-link-"))
        self.device_dir, self.host_dir = self.root / "device", self.root / "host"
        for folder in (self.device_dir / "nets", self.device_dir / "kits", self.host_dir):
            folder.mkdir(parents=True)
        shutil.copy(DEMO_BANK, self.device_dir / "bank.json")
        host_master, host_slave = os.openpty()
        device_master, device_slave = os.openpty()
        tty.setraw(device_slave)
        self.port = serial.Serial(os.ttyname(host_slave), timeout=0.1)
        os.close(host_slave)
        self.fds = (host_master, device_master, device_slave)
        self.relay = Relay(host_master, device_slave)
        self.server = SyncServer(self.device_dir, transport=FdTransport(device_master),
                                 frame_timeout_s=FRAME_TIMEOUT_S, transfer_timeout_s=1.0).start()
        self.client = SyncClient(SerialTransport(self.port), timeout_s=2.0, frame_timeout_s=FRAME_TIMEOUT_S)

    def teardown(self) -> None:
        self.server.stop()
        self.relay.close()
        self.port.close()
        for fd in self.fds:
            os.close(fd)
        shutil.rmtree(self.root)

    @initialize()
    def hello(self) -> None:
        assert self.client.hello()["version"] == 1

    @rule(fault=FAULTS, during=OPERATIONS, then=OPERATIONS)
    def a_fault_costs_at_most_its_exchange(self, fault: Fault, during: tuple, then: tuple) -> None:
        injected = fault.apply(self.relay)
        if fault.direction == TO_HOST and injected:  # the pty hands bytes over a moment later: wait till they are there
            deadline = time.monotonic() + 5
            while self.port.in_waiting < injected and time.monotonic() < deadline:
                time.sleep(0.001)
        if fault.may_fail_its_exchange:
            try:
                self._run(during, check=False)
            except ProtocolError:
                pass  # cleanly, with a message
        else:
            self._run(during, check=True)
        self.relay.disarm()
        self._run(then, check=True)
        self._run(("ls",), check=True)

    @rule(operation=OPERATIONS)
    def a_clean_request_succeeds(self, operation: tuple) -> None:
        self._run(operation, check=True)

    @invariant()
    def nothing_appears_outside_either_side(self) -> None:
        assert sorted(p.name for p in self.root.iterdir()) == ["device", "host"]
        assert sorted(p.name for p in self.device_dir.iterdir()) == ["bank.json", "kits", "nets"]
        assert not any(p.is_symlink() for p in self.root.rglob("*"))
        assert {p.name for p in self.host_dir.iterdir()} <= {"pulls"}

    def _run(self, operation: tuple, check: bool) -> None:
        held = device_items(self.device_dir)
        action = operation[0]
        if action in ("pull", "delete"):
            candidates = sorted(held) if action == "pull" else sorted(key for key in held if key[0] != "bank")
            if not candidates:
                action = "ls"
            else:
                kind, name = candidates[operation[1] % len(candidates)]
        if action == "ls":
            listing = self.client.list()
            if check:
                assert {(item["kind"], item["name"]) for item in listing} == set(held)
        elif action == "pull":
            item = self.client.pull(kind, name)
            where = item.save(self.host_dir / "pulls", force=True)
            if check:
                assert dict(zip((f.path for f in item.files), item.contents)) == held[kind, name]
                saved = [where] if where.is_file() else sorted(where.iterdir())
                assert {p.name: p.read_bytes() for p in saved} == held[kind, name]
        elif action == "push":
            (kind, name), seed, size = operation[1:]
            files = item_content(kind, seed, size)
            if kind == "net":
                files = {f"{name}.onnx": files["x.onnx"]}
            self.client.push(kind, name, files)
            if check:
                assert device_items(self.device_dir)[kind, name] == files
        else:
            self.client.delete(kind, name)
            if check:
                assert (kind, name) not in device_items(self.device_dir)


def _settings(examples: int, steps: int) -> settings:
    return settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def test_noise_costs_at_most_the_exchange_it_hits():
    run_state_machine_as_test(NoisyLink, settings=_settings(examples=6, steps=5))


@pytest.mark.soak
def test_noise_costs_at_most_the_exchange_it_hits_soak():
    run_state_machine_as_test(NoisyLink, settings=_settings(examples=300, steps=12))
