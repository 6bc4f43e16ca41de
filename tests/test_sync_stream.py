"""The device's side of a big pull, driven directly: digests computed in the background and kept while the file
stays the same, no answer waiting for them, files read a frame at a time and hashed again as they go."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tracemalloc
from pathlib import Path

import pytest

from breakage_pi.store import hold_folder
from breakage_pi.sync.frames import DATA, ERROR, RESPONSE, Frame
from breakage_pi.sync import hashes as hashes_module
from breakage_pi.sync.hashes import CACHE_NAME, INLINE_BYTES, Identity
from breakage_pi.sync.library import DataDir
from breakage_pi.sync.session import DeviceSession

from test_sync_frames import DEMO_BANK, decode_all, replies, request

TAKE = "2026-12-04_210000"


def device(root: Path) -> DeviceSession:
    """A session on ``root`` whose hasher is stepped by hand (``session.data.hashes.work()``), never started."""
    return DeviceSession(DataDir(root), {"product": "test"})


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "data"
    (folder / "takes" / TAKE).mkdir(parents=True)
    shutil.copy(DEMO_BANK, folder / "bank.json")
    write_wav(folder, 3 * INLINE_BYTES // 2)
    (folder / "takes" / TAKE / "take.json").write_text("{}\n")
    return folder


def write_wav(root: Path, size: int, seed: int = 1) -> Path:
    """A sparse file with a few marked bytes (quick to write, and any change of them is a change of digest)."""
    path = root / "takes" / TAKE / "take.wav"
    with open(path, "wb") as file:
        file.truncate(size)
        for offset in range(0, size, size // 7):
            file.seek(offset)
            file.write(bytes([seed]) * 16)
    return path


def listing(session: DeviceSession, request_id: int = 1) -> dict:
    (answer,) = replies(session, request(request_id, op="list"))
    return json.loads(answer.payload)


def pull(session: DeviceSession, request_id: int = 2, name: str = TAKE) -> list[Frame]:
    return replies(session, request(request_id, op="pull", kind="take", name=name))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_big_file_is_hashed_in_the_background_and_no_answer_waits_for_it(root) -> None:
    session = device(root)
    answer = listing(session)
    assert [item["name"] for item in answer["items"]] == ["bank"]                  # an older host sees only these
    (pending,) = answer["more"]
    assert (pending["name"], pending["state"], pending["done"]) == (TAKE, "checking", len("{}\n"))
    (busy,) = pull(session)
    refusal = json.loads(busy.payload)
    assert busy.type == ERROR and refusal["code"] == "busy" and refusal["total"] == pending["size"]
    assert session.data.hashes.work() and not session.data.hashes.work()          # one file, hashed once
    (take,) = [item for item in listing(session)["items"] if item["kind"] == "take"]
    header, *data = pull(session)
    files = json.loads(header.payload)["files"]
    wav = root / "takes" / TAKE / "take.wav"
    assert files[1] == {"path": "take.wav", "size": wav.stat().st_size, "sha256": sha256_of(wav)}
    assert all(frame.type == DATA for frame in data) and b"".join(f.payload for f in data)[3:] == wav.read_bytes()
    assert take["sha256"] == hashlib.sha256("".join(f"{f['path']}\0{f['size']}\0{f['sha256']}\n"
                                                    for f in files).encode()).hexdigest()


def test_kept_digests_survive_a_restart_and_a_changed_file_is_hashed_again(root) -> None:
    first = device(root)
    listing(first)
    first.data.hashes.work()
    again = device(root)                                                             # the daemon restarted
    assert [item["name"] for item in listing(again)["items"]] == ["bank", TAKE]
    assert again.data.hashes.computed == 2                                            # bank.json, take.json: small
    assert json.loads((root / CACHE_NAME).read_text())["files"].keys() == {f"takes/{TAKE}/take.wav"}
    wav = write_wav(root, 3 * INLINE_BYTES // 2, seed=2)                              # same size, new bytes
    third = device(root)
    assert listing(third)["more"][0]["state"] == "checking"
    third.data.hashes.work()
    header, *_ = pull(third)
    assert json.loads(header.payload)["files"][1]["sha256"] == sha256_of(wav)


def test_background_hashing_waits_while_a_take_records_but_a_pull_is_served(root) -> None:
    recording = root / "takes" / "2026-12-04_220000"
    recording.mkdir()
    held = hold_folder(recording)
    try:
        session = device(root)
        listing(session)                                 # queues the WAV, in the background
        assert not session.data.hashes.work()            # a take records: the SD card is its
        assert json.loads(pull(session)[0].payload)["code"] == "busy"                  # a pull asks for it
        assert session.data.hashes.work()
    finally:
        os.close(held)
    assert pull(session)[0].type == RESPONSE


def test_background_hashing_makes_way_for_a_file_a_pull_waits_for(root, monkeypatch) -> None:
    other = root / "takes" / "2026-12-04_230000"
    other.mkdir()
    with open(other / "take.wav", "wb") as file:
        file.truncate(3 * INLINE_BYTES // 2)
    session = device(root)
    hashes, asked = session.data.hashes, []
    listing(session)                                           # both WAVs queued, in the background
    hash_file = hashes_module.file_sha256

    def a_pull_arrives(path, identity, progress):              # ... while the first one is being hashed
        if path.parent.name == TAKE and not asked:
            asked.append(json.loads(pull(session, 5, other.name)[0].payload)["code"])
        return hash_file(path, identity, progress)

    monkeypatch.setattr(hashes_module, "file_sha256", a_pull_arrives)
    wavs = {folder.name: (f"takes/{folder.name}/take.wav", Identity.of((folder / "take.wav").stat()))
            for folder in (root / "takes" / TAKE, other)}
    assert hashes.work() and asked == ["busy"] and hashes.known(*wavs[TAKE]) is None      # it made way at once
    assert hashes.work() and hashes.known(*wavs[other.name]) is not None
    assert pull(session, 6, other.name)[0].type == RESPONSE
    assert hashes.work() and hashes.known(*wavs[TAKE]) is not None and not hashes.work()


def test_a_file_that_changes_while_it_is_sent_ends_the_pull_with_an_error_and_its_digest_is_dropped(root) -> None:
    session = device(root)
    listing(session)
    session.data.hashes.work()
    wav = root / "takes" / TAKE / "take.wav"
    hashed = Identity.of(wav.stat())
    out = list(session.receive(request(2, op="pull", kind="take", name=TAKE), 0.0))
    out.append(session.next_data())                                  # take.json, then the WAV's first frame
    out.append(session.next_data())
    with open(wav, "r+b") as file:                                   # rewritten in place: inode, size, times kept
        stat = os.fstat(file.fileno())
        file.seek(stat.st_size - 16)
        file.write(b"\xff" * 16)
    os.utime(wav, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    while (frame := session.next_data()) is not None:
        out.append(frame)
    error = decode_all(out)[-1]
    assert error.type == ERROR and json.loads(error.payload)["code"] == "changed"
    assert "take.wav changed while it was sent" in json.loads(error.payload)["message"]
    relative = f"takes/{TAKE}/take.wav"
    assert session.data.hashes.known(relative, hashed) is None          # dropped: computed afresh next time


def test_a_stopped_pull_lets_go_of_its_file(root) -> None:
    session = device(root)
    listing(session)
    session.data.hashes.work()
    wav = str(root / "takes" / TAKE / "take.wav")

    def open_on_wav() -> int:
        return sum(os.readlink(f"/proc/self/fd/{fd}") == wav for fd in os.listdir("/proc/self/fd")
                   if os.path.exists(f"/proc/self/fd/{fd}"))

    list(session.receive(request(2, op="pull", kind="take", name=TAKE), 0.0))
    session.next_data(), session.next_data()
    assert session.sending and open_on_wav() == 1
    (stopped, answer) = [f for f in decode_all(session.receive(request(3, op="list"), 0.0)) if isinstance(f, Frame)]
    assert json.loads(stopped.payload)["code"] == "truncated" and answer.type == RESPONSE
    assert not session.sending and open_on_wav() == 0


def test_the_device_sends_a_big_take_holding_a_frame_at_a_time(root) -> None:
    size = 48 * 1024 * 1024
    write_wav(root, size)
    session = device(root)
    listing(session)
    session.data.hashes.work()
    answer = listing(session)                   # past the first limits: where the hosts before them never look
    assert [item["kind"] for item in answer["items"]] == ["bank"]
    assert [(item["name"], item["state"]) for item in answer["more"]] == [(TAKE, "ready")]
    list(session.receive(request(2, op="pull", kind="take", name=TAKE), 0.0))
    sent = 0
    tracemalloc.start()
    try:
        while (frame := session.next_data()) is not None:
            sent += len(frame)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sent > size and peak < 1024 * 1024, f"{peak} bytes held at most to send {size}"
