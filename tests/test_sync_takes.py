"""Takes over USB sync: listed, pulled and deleted like kits (a folder of files); never pushed."""

from __future__ import annotations

import pytest

from breakage_pi.sync import ProtocolError

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
