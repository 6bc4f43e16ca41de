"""A fake device that answers with hostile names, paths, counts and sizes: the host writes nothing and says who lied."""

import hashlib
import json
import os
import threading
import tty
import uuid

import pytest

from breakage_pi.cli import main
from breakage_pi.sync import FdTransport
from breakage_pi.sync.frames import DATA, ERROR, REQUEST, RESPONSE, Frame, FrameDecoder, encode_frame
from sync_helpers import snapshot
from test_takes_disk import tiny_disk  # noqa: F401 (a fixture: a 1 MB tmpfs)

OUTSIDE = f"/tmp/breakage-pi-hostile-{uuid.uuid4().hex}.wav"
"""An absolute path a hostile device names (unique: /tmp is shared)."""
KICK = b"RIFF\0\0\0\0WAVE" + bytes(100)
SHA = hashlib.sha256(KICK).hexdigest()
HONEST_HELLO = {"version": 1, "product": "Breakage Pi", "software": "0.1.0", "serial": "f00dcafe"}


def summary(kind="kit", name="808", **changes):
    return {"kind": kind, "name": name, "size": len(KICK), "modified": 1.7e9, "sha256": SHA, "files": 1, **changes}


def kick(path="kick.wav", **changes):
    return {"path": path, "size": len(KICK), "sha256": SHA, **changes}


class Refusal(dict):
    """An answer sent as an error frame."""


class FakeDevice:
    """Answers on a pty's master end: ``answers[op]`` is the JSON (raw bytes, a :class:`Refusal`) to send; a pull's
    data (``data``: the DATA payloads, by default the kick) follows its answer."""

    def __init__(self, answers, data=(KICK,)):
        self.answers = {"hello": HONEST_HELLO, "list": {"items": [summary()]}, **answers}
        self.data = data
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # kept open: the master never reads EIO between the CLI's opens
        self.port = os.ttyname(self.slave)
        self.link = FdTransport(self.master)
        self.pulls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        decoder = FrameDecoder()
        while not self._stop.is_set():
            for frame in decoder.feed(self.link.read(0.05)):
                if isinstance(frame, Frame) and frame.type == REQUEST:
                    self._answer(frame.request_id, json.loads(frame.payload)["op"])

    def _answer(self, request_id, op):
        answer = self.answers[op]
        payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        self.link.write(encode_frame(Frame(ERROR if isinstance(answer, Refusal) else RESPONSE, request_id, payload)))
        if op == "pull":
            self.pulls += 1
            for payload in self.data:
                self.link.write(encode_frame(Frame(DATA, request_id, payload)))

    def close(self):
        self._stop.set()
        self._thread.join()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def device_with():
    devices = []

    def start(data=(KICK,), **answers):
        devices.append(FakeDevice(answers, data))
        return devices[-1]

    yield start
    for device in devices:
        device.close()


HOSTILE_PULLS = {
    "parent": {**summary(), "files": [kick("../x.wav")]},
    "absolute": {**summary(), "files": [kick(OUTSIDE)]},
    "separator": {**summary(), "files": [kick("sub/x.wav")]},
    "backslash": {**summary(), "files": [kick("..\\x.wav")]},
    "nul": {**summary(), "files": [kick("x\0.wav")]},
    "newline": {**summary(), "files": [kick("x\n.wav")]},
    "escape": {**summary(), "files": [kick("\x1b[2J.wav")]},
    "hidden": {**summary(), "files": [kick(".x.wav")]},
    "long": {**summary(), "files": [kick("x" * 300 + ".wav")]},
    "not a wav": {**summary(), "files": [kick("x.sh")]},
    "many files": {**summary(), "files": [kick(f"k{i}.wav") for i in range(500)]},
    "duplicate": {**summary(), "files": [kick(), kick()]},
    "no files": {**summary(), "files": []},
    "huge size": {**summary(), "files": [kick(size=2 ** 40)]},
    "negative size": {**summary(), "files": [kick(size=-1)]},
    "size as text": {**summary(), "files": [kick(size="100")]},
    "extra field": {**summary(), "files": [kick(mode=0o4755)]},
    "files as text": {**summary(), "files": "../x.wav"},
    "another item": {**summary(name="909"), "files": [kick()]},
    "deep json": b"[" * 30_000 + b"]" * 30_000,
    "huge number": b'{"files": ' + b"9" * 6000 + b"}",
}


@pytest.mark.parametrize("case", HOSTILE_PULLS)
def test_a_hostile_pull_writes_nothing_anywhere_and_names_the_device(device_with, tmp_path, capsys, case):
    device = device_with(pull=HOSTILE_PULLS[case])
    out = tmp_path / "out"
    before = snapshot(tmp_path)
    assert main(["sync", "--port", device.port, "--timeout", "2", "pull", "808", str(out)]) == 2
    error = capsys.readouterr().err
    assert f"the device f00dcafe on {device.port} answered the pull of kit 808" in error, error
    assert "nothing was written" in error and "\x1b" not in error and "\0" not in error
    assert error.count("\n") == 1, error  # one line, no traceback
    assert snapshot(tmp_path) == before
    assert not os.path.exists(OUTSIDE)


def test_a_net_answered_with_another_file_name_is_refused(device_with, tmp_path, capsys):
    device = device_with(list={"items": [summary("net", "n")]},
                         pull={**summary("net", "n"), "files": [kick("bank.json")]})
    assert main(["sync", "--port", device.port, "pull", "n", str(tmp_path / "out")]) == 2
    assert "is the file 'n.onnx', got 'bank.json'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


HOSTILE_LISTINGS = {
    "parent": [summary(name="..")],
    "escape": [summary(name="\x1b]0;pwned\x07")],
    "unknown kind": [summary(kind="script")],
    "bank by another name": [summary(kind="bank", name="other")],
    "huge count": [summary(files=10 ** 9)],
    "huge size": [summary(size=2 ** 50)],
    "time past the year 9999": [summary(modified=1e300)],
    "negative time": [summary(modified=-1)],
    "bad digest": [summary(sha256="../../etc")],
    "listed twice": [summary(), summary()],
    "not objects": ["kit/808"],
}


@pytest.mark.parametrize("case", HOSTILE_LISTINGS)
def test_a_hostile_listing_is_refused_in_one_line(device_with, tmp_path, capsys, case):
    device = device_with(list={"items": HOSTILE_LISTINGS[case]})
    assert main(["sync", "--port", device.port, "ls"]) == 2
    error = capsys.readouterr().err
    assert f"the device f00dcafe on {device.port} answered the list" in error
    assert error.count("\n") == 1 and "\x1b" not in error and "\x07" not in error
    assert main(["sync", "--port", device.port, "pull", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("hello", [
    {**HONEST_HELLO, "serial": "\x1b[2J"}, {**HONEST_HELLO, "product": 7}, {**HONEST_HELLO, "serial": "x" * 1000}])
def test_a_hostile_hello_is_refused(device_with, capsys, hello):
    device = device_with(hello=hello)
    assert main(["sync", "--port", device.port, "ls"]) == 2
    error = capsys.readouterr().err
    assert f"the device on {device.port} answered the hello" in error and "\x1b" not in error


def test_a_pull_whose_bytes_do_not_match_is_tried_twice_then_refused(device_with, tmp_path, capsys):
    device = device_with(pull={**summary(), "files": [kick(sha256="0" * 64)]})
    assert main(["sync", "--port", device.port, "pull", "808", str(tmp_path / "out")]) == 2
    assert "pull of kit 808 failed twice on a noisy line" in capsys.readouterr().err
    assert device.pulls == 2
    assert not (tmp_path / "out").exists()


def test_links_in_the_pull_folder_are_not_followed(device_with, tmp_path, capsys):
    device = device_with(pull={**summary(), "files": [kick()]})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "808").symlink_to(elsewhere)
    assert main(["sync", "--port", device.port, "pull", "808", str(out)]) == 2
    assert "is a link" in capsys.readouterr().err
    (out / "808").unlink()
    (out / "808").mkdir()
    (out / "808" / "kick.wav").symlink_to(elsewhere / "kick.wav")
    assert main(["sync", "--port", device.port, "pull", "--force", "808", str(out)]) == 2
    assert list(elsewhere.iterdir()) == []
    (out / "808" / "kick.wav").unlink()
    assert main(["sync", "--port", device.port, "pull", "808", str(out)]) == 0
    assert (out / "808" / "kick.wav").read_bytes() == KICK


def test_error_texts_from_the_device_are_printed_escaped(device_with, capsys):
    device = device_with(list=Refusal(code="io", message="\x1b[2Jdisk \x07gone"))
    assert main(["sync", "--port", device.port, "ls"]) == 2
    error = capsys.readouterr().err
    assert "device: \\x1b[2Jdisk \\x07gone" in error and "\x1b" not in error


WAV = bytes(range(256)) * (12 * 1024)
"""3 MiB of a take's audio: a hundred frames of data, more than any kit file's frame."""
WAV_SHA = hashlib.sha256(WAV).hexdigest()
TAKE = "2026-12-02_230000"


def take_summary(size=len(WAV), sha256=WAV_SHA, **changes):
    return {"kind": "take", "name": TAKE, "size": size, "modified": 1.7e9, "sha256": sha256, "files": 1,
            **changes}


def take_answer(**changes):
    return {**take_summary(), "files": [{"path": "take.wav", "size": len(WAV), "sha256": WAV_SHA, **changes}]}


def pieces(data, size=64 * 1024):
    return [data[start:start + size] for start in range(0, len(data), size)]


def no_temporary_files(root):
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("size", [2 ** 33, 8 + 2 ** 32])
def test_a_take_announced_beyond_what_a_wav_can_hold_is_refused_before_any_byte(device_with, tmp_path, capsys, size):
    device = device_with(list={"items": [take_summary()]}, pull=take_answer(size=size), data=())
    before = snapshot(tmp_path)
    assert main(["sync", "--port", device.port, "--timeout", "2", "pull", TAKE, str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "answered the pull of take" in error and "exceeds the limit of 4294967303 bytes" in error, error
    assert snapshot(tmp_path) == before


def test_more_bytes_than_a_large_file_announced_are_refused_and_nothing_is_left(device_with, tmp_path, capsys):
    device = device_with(list={"items": [take_summary()]}, pull=take_answer(), data=pieces(WAV + b"extra", 50_000))
    before = snapshot(tmp_path)
    assert main(["sync", "--port", device.port, "--timeout", "2", "pull", TAKE, str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert f"more than the {len(WAV)} bytes announced" in error and "nothing was written" in error, error
    assert snapshot(tmp_path) == before


def test_a_large_file_whose_bytes_do_not_match_is_tried_twice_and_nothing_is_left(device_with, tmp_path, capsys):
    wrong = bytearray(WAV)
    wrong[len(WAV) // 2] ^= 1
    device = device_with(list={"items": [take_summary()]}, pull=take_answer(), data=pieces(bytes(wrong)))
    before = snapshot(tmp_path)
    assert main(["sync", "--port", device.port, "--timeout", "2", "pull", TAKE, str(tmp_path / "out")]) == 2
    assert "take.wav: SHA-256 mismatch after transfer" in capsys.readouterr().err
    assert device.pulls == 2 and snapshot(tmp_path) == before


@pytest.mark.parametrize("existing", [False, True])
def test_a_link_cut_mid_file_leaves_nothing_half_written(device_with, tmp_path, capsys, existing):
    device = device_with(list={"items": [take_summary()]}, pull=take_answer(), data=pieces(WAV[:len(WAV) // 3]))
    out = tmp_path / "out"
    if existing:                                   # a folder of the user's: kept as it was, with what it held
        (out / TAKE).mkdir(parents=True)
        (out / TAKE / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    assert main(["sync", "--port", device.port, "--timeout", "1", "pull", TAKE, str(out)]) == 2
    assert "no answer from the device f00dcafe" in capsys.readouterr().err
    assert snapshot(tmp_path) == before and no_temporary_files(tmp_path)


def test_a_large_take_arrives_whole_from_an_honest_device(device_with, tmp_path, capsys):
    device = device_with(list={"items": [take_summary()]}, pull=take_answer(), data=pieces(WAV, 50_000))
    assert main(["sync", "--port", device.port, "pull", TAKE, str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / TAKE / "take.wav").read_bytes() == WAV and no_temporary_files(tmp_path)
    assert f"pulled take {TAKE}" in capsys.readouterr().out


HOSTILE_MORE = {
    "not a list": "take/x",
    "unknown state": [take_summary(state="done")],
    "ready without a digest": [take_summary(state="ready", sha256=None)],
    "done past its size": [take_summary(state="checking", done=len(WAV) + 1)],
    "a take past what a WAV holds": [take_summary(state="ready", size=2 ** 40)],
    "also in items": [summary(state="ready")],
}


@pytest.mark.parametrize("case", HOSTILE_MORE)
def test_a_hostile_listing_of_more_items_is_refused_in_one_line(device_with, capsys, case):
    device = device_with(list={"items": [summary()], "more": HOSTILE_MORE[case]})
    assert main(["sync", "--port", device.port, "ls"]) == 2
    error = capsys.readouterr().err
    assert f"the device f00dcafe on {device.port} answered the list" in error and error.count("\n") == 1, error


def test_items_past_the_first_limits_are_listed_in_more(device_with, capsys):
    more = [take_summary(state="ready", size=4 * 2 ** 30), take_summary(name="2026-12-03_010000", state="checking",
                                                                        done=len(WAV) // 2, sha256=None),
            take_summary(name="2026-12-03_020000", state="recording", sha256=None)]
    device = device_with(list={"items": [summary()], "more": more})
    assert main(["sync", "--port", device.port, "ls"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[1].split()[2] == str(4 * 2 ** 30) and shown[1].endswith(WAV_SHA[:16])
    assert shown[2].endswith("(checking, 50 %)") and shown[3].endswith("(recording)")


def test_a_take_the_host_disk_cannot_hold_is_refused_before_any_byte(device_with, tiny_disk, capsys):
    device = device_with(list={"items": [take_summary()]}, pull=take_answer(), data=())
    assert main(["sync", "--port", device.port, "pull", TAKE, str(tiny_disk / "out")]) == 2
    error = capsys.readouterr().err
    assert f"{tiny_disk / 'out' / TAKE}: 1 MB free, 3 MB needed; nothing was written" in error, error
    assert list(tiny_disk.iterdir()) == []
