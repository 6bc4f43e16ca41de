"""sd_notify and the watchdog heartbeat, against a real AF_UNIX datagram socket standing in for systemd."""

import itertools
import os
import socket
import threading
import uuid

import pytest

from breakage_pi.daemon.systemd import (Heartbeat, notify, notify_ready, notify_status, notify_stopping,
                                 watchdog_interval_s)
from emulation import patience


@pytest.fixture
def systemd_socket(tmp_path):
    """A listening notify socket in a temp dir and the environment naming it."""
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(10)
        yield sock, {"NOTIFY_SOCKET": str(path)}


def received(sock) -> list[str]:
    """Every datagram already queued (delivery on AF_UNIX is synchronous with the send)."""
    messages = []
    sock.setblocking(False)
    try:
        while True:
            messages.append(sock.recv(4096).decode())
    except BlockingIOError:
        return messages
    finally:
        sock.settimeout(10)


def test_messages_arrive_as_single_datagrams(systemd_socket):
    sock, env = systemd_socket
    assert notify_ready("audio hw:CARD=Headphones, 64 frames", env)
    assert notify_status("grid: 4 boards", env)
    assert notify_stopping(env)
    assert [sock.recv(4096).decode() for _ in range(3)] == [
        "READY=1\nSTATUS=audio hw:CARD=Headphones, 64 frames", "STATUS=grid: 4 boards", "STOPPING=1"]


def test_abstract_namespace_address():
    name = f"breakage-pi-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(10)
        assert notify("READY=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(4096) == b"READY=1"


def test_no_op_without_systemd_and_no_crash_when_the_socket_is_gone(tmp_path, caplog):
    assert notify("READY=1", {}) is False
    assert notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "absent")}) is False
    assert "cannot notify systemd" in caplog.text


def test_watchdog_interval_is_half_of_watchdog_usec():
    assert watchdog_interval_s({"WATCHDOG_USEC": "2000000"}) == 1.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}) == 1.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}) is None  # meant for another process
    assert watchdog_interval_s({}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "soon"}) is None


def test_heartbeat_only_while_both_counters_advance(systemd_socket):
    sock, env = systemd_socket
    blocks = itertools.count()
    loop = {"iterations": 0}
    heartbeat = Heartbeat({"audio blocks": lambda: next(blocks), "control loop": lambda: loop["iterations"]},
                          interval_s=1.0, environ=env)
    notify_ready("", env)
    outcomes = []
    for _ in range(4):
        loop["iterations"] += 1
        outcomes.append(heartbeat.beat())
    assert outcomes == [False, True, True, True]          # the first check is the baseline
    assert received(sock) == ["READY=1"] + ["WATCHDOG=1"] * 3
    assert [heartbeat.beat() for _ in range(5)] == [False] * 5   # the control loop is stuck, audio still runs
    assert received(sock) == ["STATUS=stalled: control loop not advancing"]
    loop["iterations"] += 1
    assert heartbeat.beat()
    assert received(sock) == ["STATUS=playing", "WATCHDOG=1"]


def test_a_stuck_audio_side_stops_the_heartbeat_too(systemd_socket):
    sock, env = systemd_socket
    iterations = itertools.count()
    heartbeat = Heartbeat({"audio blocks": lambda: 41, "control loop": lambda: next(iterations)}, 1.0, env)
    assert [heartbeat.beat() for _ in range(3)] == [False] * 3
    assert received(sock) == ["STATUS=stalled: audio blocks not advancing"]


def test_heartbeat_thread_pings_while_healthy_and_stops_when_stuck(systemd_socket):
    """On its own thread at half of $WATCHDOG_USEC; waits on datagrams and reads, never on the clock."""
    sock, env = systemd_socket
    env = {**env, "WATCHDOG_USEC": "2000"}              # 1 ms between checks
    blocks = itertools.count()
    reads = itertools.count(1)
    stuck_checked = threading.Event()

    def control_loop() -> int:
        read = next(reads)
        if read > 12:                                    # check 13 onwards: the checks after it saw no progress
            stuck_checked.set()
        return min(read, 5)                             # advances for five checks, then sticks

    heartbeat = Heartbeat({"audio blocks": lambda: next(blocks), "control loop": control_loop}, environ=env)
    assert heartbeat.interval_s == 0.001
    assert heartbeat.start()
    try:
        assert [sock.recv(4096) for _ in range(4)] == [b"WATCHDOG=1"] * 4
        assert stuck_checked.wait(patience(10))
    finally:
        heartbeat.stop()
    assert received(sock) == ["STATUS=stalled: control loop not advancing"]


def test_no_thread_without_a_watchdog():
    assert Heartbeat({"control loop": lambda: 1}, environ={}).start() is False
