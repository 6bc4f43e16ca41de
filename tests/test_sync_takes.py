"""Takes over USB sync: listed, pulled and deleted like kits (a folder of files); never pushed; pulled whatever
their length with bounded memory on both ends; refused while they record."""

from __future__ import annotations

import datetime
import filecmp
import json
import os
import tracemalloc

import pytest

from breakage_pi.audio.take_ring import FrameRing
from breakage_pi.bench.sync import sparse_take
from breakage_pi.cli import main
from breakage_pi.daemon.take_folder import new_take_folder
from breakage_pi.daemon.take_recorder import TakeRecorder
from breakage_pi.store import folder_held, hold_folder
from breakage_pi.sync import ProtocolError
from breakage_pi.sync.messages import CHUNK_BYTES, MAX_FILE_BYTES, MAX_ITEM_BYTES

from sync_helpers import PtyLink, snapshot


def make_take(root, name="2026-12-02_230000"):
    folder = root / "takes" / name
    folder.mkdir(parents=True)
    files = {"take.wav": b"RIFF\x24\0\0\0WAVEfmt ", "take.json": b"{}\n", "performance.txt": b"0 button play down\n",
             "loose.onnx": b"net"}
    for path, content in files.items():
        (folder / path).write_bytes(content)
    (folder / ".take.json.abc.tmp").write_bytes(b"half written")
    return folder, files


@pytest.fixture
def link(tmp_path):
    data = tmp_path / "device"
    data.mkdir()
    (data / "bank.json").write_text("{}")
    opened = PtyLink(data)
    yield opened, data
    opened.close()


def test_a_take_is_listed_pulled_and_deleted(link) -> None:
    client, data = link[0].client, link[1]
    folder, files = make_take(data)
    listed = [item for item in client.list() if item["kind"] == "take"]
    assert [(item["name"], item["files"]) for item in listed] == [("2026-12-02_230000", 4)]
    pulled = client.pull("take", "2026-12-02_230000")
    assert dict(zip((entry.path for entry in pulled.files), pulled.contents)) == files     # hidden temp left out
    saved = pulled.save(data.parent / "host")
    assert saved == data.parent / "host" / "2026-12-02_230000" and (saved / "take.json").read_bytes() == b"{}\n"
    client.delete("take", "2026-12-02_230000")
    assert not folder.exists()
    assert [item for item in client.list() if item["kind"] == "take"] == []


def test_a_take_is_never_pushed(link) -> None:
    client, data = link[0].client, link[1]
    make_take(data)
    before = snapshot(data)
    with pytest.raises(ProtocolError, match="take"):
        client.push("take", "2026-12-02_230000", {"take.wav": b"RIFF"})
    assert snapshot(data) == before


BIG = MAX_FILE_BYTES + 1024 * 1024 + 44
"""A take.wav past the 32 MiB a file of a kit may hold (~3 min of 48 kHz stereo)."""


def make_long_take(root, name="2026-12-03_200000", size=BIG):
    """A take whose WAV is ``size`` bytes (the bench's sparse take), with a performance."""
    folder = sparse_take(root, name, size)
    (folder / "performance.txt").write_text("0 button play down\n")
    return folder


def test_a_take_beyond_the_old_limits_arrives_whole_with_bounded_memory_on_both_ends(link, tmp_path) -> None:
    client, data = link[0].client, link[1]
    folder = make_long_take(data)
    seen, told = [], []
    client.on_wait = told.append
    tracemalloc.start()
    try:
        where, size = client.pull_into("take", folder.name, tmp_path / "host",
                                       progress=lambda done, total: seen.append((done, total)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == sum(p.stat().st_size for p in folder.iterdir()) > MAX_ITEM_BYTES // 2
    assert peak < 4 * 1024 * 1024, f"{peak} bytes held at most (device and host), for a {size}-byte take"
    assert sorted(p.name for p in where.iterdir()) == ["performance.txt", "take.json", "take.wav"]
    assert all(filecmp.cmp(folder / p.name, p, shallow=False) for p in where.iterdir())
    assert seen[-1] == (size, size) and [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(seen) >= size // CHUNK_BYTES                # the bar moves with every frame
    assert len(told) == 1 and f"computes the SHA-256 of take {folder.name} (" in told[0]      # asked, then waited
    with pytest.raises(ProtocolError, match="too big to hold in memory"):
        client.pull("take", folder.name)


def test_a_take_still_recording_is_listed_so_and_neither_pulled_nor_deleted(link, tmp_path, capsys) -> None:
    opened, data = link
    done, _ = make_take(data, "2026-12-02_220000")
    recording, _ = make_take(data)
    held = hold_folder(recording)
    try:
        listed = {item["name"]: item["state"] for item in opened.client.list() if item["kind"] == "take"}
        assert listed == {"2026-12-02_220000": "ready", recording.name: "recording"}
        with pytest.raises(ProtocolError, match=f"take {recording.name} is still recording") as refused:
            opened.client.pull_into("take", recording.name, tmp_path / "host")
        assert refused.value.code == "recording" and not (tmp_path / "host").exists()
        with pytest.raises(ProtocolError, match="still recording"):
            opened.client.delete("take", recording.name)
        assert (recording / "take.wav").exists()
        assert main(["sync", "--port", opened.port_name, "pull", str(tmp_path / "all")]) == 0
        assert f"not pulling take {recording.name}: it is still recording" in capsys.readouterr().err
        assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["2026-12-02_220000", "bank.json"]
        assert main(["sync", "--port", opened.port_name, "ls"]) == 0
        assert f"{recording.name}" in capsys.readouterr().out.split("(recording)")[0]
    finally:
        os.close(held)
    where, _ = opened.client.pull_into("take", recording.name, tmp_path / "host")      # ended: it goes now
    assert (where / "take.wav").read_bytes() == (recording / "take.wav").read_bytes()
    assert done.exists()


def test_the_recorder_holds_its_take_until_its_last_file_is_written(tmp_path) -> None:
    folder = new_take_folder(tmp_path, datetime.datetime(2026, 12, 2, 23, tzinfo=datetime.timezone.utc))
    recorder = TakeRecorder(folder, FrameRing(None, 4800), 48_000, 128, floor_bytes=0,
                            started=datetime.datetime.now(datetime.timezone.utc), exact=True)
    assert folder_held(folder)
    recorder.stop()
    recorder.finish("stopped from the grid")
    assert not folder_held(folder)
    assert json.loads((folder / "take.json").read_text())["ended"] == "stopped from the grid"


def test_a_pull_cut_mid_file_leaves_nothing_on_the_host(tmp_path) -> None:
    data = tmp_path / "device"
    data.mkdir()
    folder = make_long_take(data, size=8 * 1024 * 1024)
    opened = PtyLink(data, timeout_s=1.0)
    host = tmp_path / "host"
    halfway = []

    def cut(done, total):
        if done > total // 2 and not halfway:
            halfway.append(done)
            opened.server._stop.set()                # the device falls silent mid-file, as if unplugged

    try:
        with pytest.raises(ProtocolError, match="no answer"):
            opened.client.pull_into("take", folder.name, host, progress=cut)
    finally:
        opened.close()
    assert halfway and not host.exists()
