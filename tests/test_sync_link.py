"""Server and client over a pty pair: round trips, live bank reload, and refusals that change nothing."""

import hashlib
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from breakage_pi.core import Pattern
from breakage_pi.store import load_bank
from breakage_pi.sync import ProtocolError
from breakage_pi.sync.frames import DATA, HEADER_SIZE, MAX_PAYLOAD, Frame, encode_frame
from breakage_pi.sync.messages import MAX_FILE_BYTES
from builders import bank_file
from sync_helpers import PtyLink, snapshot
from emulation import patience

DEMO_BANK = Path(__file__).resolve().parent.parent / "breakage_pi" / "data" / "demo_bank.json"


@pytest.fixture
def data_dir(tmp_path):
    root = tmp_path / "device"
    root.mkdir()
    shutil.copy(DEMO_BANK, root / "bank.json")
    (root / "nets").mkdir()
    (root / "nets" / "net-0.02.onnx").write_bytes(bytes(range(256)) * 40)
    (root / "state.json").write_text("{}")
    return root


@pytest.fixture
def link(data_dir):
    pty = PtyLink(data_dir)
    pty.client.hello()
    yield pty
    pty.close()


def kit_files(seed: int, seconds: float = 0.25) -> dict[str, bytes]:
    rng = np.random.default_rng(seed)
    files = {}
    for name in ("kick", "snare", "open_hat", "closed_hat"):
        buffer = io.BytesIO()
        soundfile.write(buffer, rng.uniform(-0.5, 0.5, int(48000 * seconds)).astype(np.float32), 48000,
                        format="WAV", subtype="PCM_16")
        files[f"{name}.wav"] = buffer.getvalue()
    return files


def test_hello_reports_version_and_device(link):
    info = link.client.hello()
    assert info["version"] == 1 and info["product"] == "Breakage Pi" and info["serial"]


def test_list_shows_bank_and_nets_with_sizes_and_digests(link, data_dir):
    items = {(item["kind"], item["name"]): item for item in link.client.list()}
    assert set(items) == {("bank", "bank"), ("net", "net-0.02")}
    net = (data_dir / "nets" / "net-0.02.onnx").read_bytes()
    assert items["net", "net-0.02"]["size"] == len(net)
    assert items["net", "net-0.02"]["sha256"] == hashlib.sha256(net).hexdigest()


def test_push_pull_delete_round_trip_byte_exactly(link, data_dir):
    kit = kit_files(1)
    sent = []
    link.client.push("kit", "noise", kit, progress=lambda done, total: sent.append((done, total)))
    total = sum(map(len, kit.values()))
    assert sent[-1] == (total, total) and len(sent) == -(-total // (64 * 1024))
    assert {p.name: p.read_bytes() for p in (data_dir / "kits" / "noise").iterdir()} == kit
    pulled = link.client.pull("kit", "noise")
    assert dict(zip((f.path for f in pulled.files), pulled.contents)) == kit
    net = link.client.pull("net", "net-0.02")
    assert net.contents == ((data_dir / "nets" / "net-0.02.onnx").read_bytes(),)
    replacement = kit_files(2, 0.1)
    link.client.push("kit", "noise", replacement)
    assert {p.name: p.read_bytes() for p in (data_dir / "kits" / "noise").iterdir()} == replacement
    link.client.delete("kit", "noise")
    link.client.delete("net", "net-0.02")
    assert {item["kind"] for item in link.client.list()} == {"bank"}
    assert sorted(p.name for p in (data_dir / "kits").iterdir()) == []
    assert link.changes == [("kit", "noise"), ("kit", "noise"), ("kit", "noise"), ("net", "net-0.02")]


def test_push_of_the_playing_bank_is_picked_up_live(link, data_dir, tmp_path):
    reloaded = []
    link.on_change = lambda kind, name: reloaded.append(load_bank(data_dir / "bank.json"))
    new_bank = bank_file(tmp_path / "mine.json", Pattern().with_velocity(0, 3, 77), tempo=97.0)
    link.client.push("bank", "bank", {"bank.json": new_bank.read_bytes()})
    assert link.changes == [("bank", "bank")]
    assert reloaded[0].tempo == 97.0 and reloaded[0].slot(1).pattern.velocity(0, 3) == 77


@pytest.mark.parametrize("kind, name, files, code", [
    ("bank", "bank", {"bank.json": b'{"format": "breakage-pi/bank", "version": 1}'}, "rejected"),
    ("bank", "bank", {"bank.json": b"\xff not json"}, "rejected"),
    ("kit", "txt", {"notes.txt": b"hello"}, "bad-name"),
    ("kit", "fake", {"kick.wav": b"not a wav at all"}, "rejected"),
    ("net", "../../etc/passwd", {"passwd.onnx": b"x"}, "bad-name"),
    ("kit", "..", {"kick.wav": b"RIFF\0\0\0\0WAVE"}, "bad-name"),
    ("net", "/etc/passwd", {"passwd.onnx": b"x"}, "bad-name"),
    ("net", "x", {"y.onnx": b"x"}, "bad-name"),
])
def test_bad_pushes_are_refused_and_change_nothing(link, data_dir, kind, name, files, code):
    before = snapshot(data_dir.parent)
    with pytest.raises(ProtocolError) as refused:
        _raw_push(link, kind, name, files)
    assert refused.value.code == code, refused.value
    assert snapshot(data_dir.parent) == before
    link.client.hello()  # the link still works


def _raw_push(link, kind, name, files):
    """A push that skips the client's own checks, as a hostile or buggy host would send it."""
    entries = [{"path": p, "size": len(c), "sha256": hashlib.sha256(c).hexdigest()} for p, c in files.items()]
    link.raw.call(1001, op="push", kind=kind, name=name, files=entries)
    link.raw.send(DATA, 1001, b"".join(files.values()))
    link.raw.answer(1001)


def test_bad_checksum_is_refused_and_changes_nothing(link, data_dir):
    before = snapshot(data_dir.parent)
    content = b"RIFF\0\0\0\0WAVE" + bytes(1000)
    entry = {"path": "kick.wav", "size": len(content), "sha256": hashlib.sha256(b"other").hexdigest()}
    link.raw.call(1001, op="push", kind="kit", name="k", files=[entry])
    link.raw.send(DATA, 1001, content)
    with pytest.raises(ProtocolError, match="SHA-256") as refused:
        link.raw.answer(1001)
    assert refused.value.code == "checksum"
    assert snapshot(data_dir.parent) == before


def test_oversized_file_is_refused_before_any_byte_moves(link, data_dir):
    before = snapshot(data_dir.parent)
    entry = {"path": "big.onnx", "size": MAX_FILE_BYTES + 1, "sha256": "0" * 64}
    with pytest.raises(ProtocolError, match="exceeds the limit") as refused:
        link.raw.call(1001, op="push", kind="net", name="big", files=[entry])
    assert refused.value.code == "too-big"
    assert snapshot(data_dir.parent) == before


def test_truncated_transfer_is_refused_and_changes_nothing(link, data_dir):
    before = snapshot(data_dir.parent)
    content = b"RIFF\0\0\0\0WAVE" + bytes(5000)
    entry = {"path": "kick.wav", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
    link.raw.call(1001, op="push", kind="kit", name="k", files=[entry])
    link.raw.send(DATA, 1001, content[:2000])
    link.raw.request(99, op="list")
    with pytest.raises(ProtocolError, match="2000 of 5012 bytes") as refused:
        link.raw.answer(1001)
    assert refused.value.code == "truncated"
    assert link.raw.answer(99)["items"]
    assert snapshot(data_dir.parent) == before


def test_after_a_byte_of_noise_the_very_next_ls_succeeds(link):
    """Measured before: garbage then ls failed 5 of 33 times (the device's report of it was taken as the answer)."""
    for garbage in (b"\x00", b"BKPI", b"\xff" * 7, b"BKPI\x01\x00"):
        link.host.write(garbage)
        assert {item["kind"] for item in link.client.list()} == {"bank", "net"}


def test_after_a_forged_length_the_very_next_ls_succeeds(link):
    """A header announcing 64 KiB that never arrive swallows the ls behind it for one frame timeout, no more."""
    link.host.write(encode_frame(Frame(DATA, 1, bytes(MAX_PAYLOAD)))[:HEADER_SIZE + 3])
    assert {item["kind"] for item in link.client.list()} == {"bank", "net"}


def test_pull_of_a_missing_item_names_it(link):
    with pytest.raises(ProtocolError, match="no kit named 'ghost'"):
        link.client.pull("kit", "ghost")


def test_links_in_the_data_dir_are_not_followed(link, data_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.onnx").write_bytes(b"secret")
    (data_dir / "nets" / "leak.onnx").symlink_to(outside / "secret.onnx")
    (data_dir / "kits").symlink_to(outside)
    assert ("net", "leak") not in {(i["kind"], i["name"]) for i in link.client.list()}
    with pytest.raises(ProtocolError):
        link.client.pull("net", "leak")
    with pytest.raises(ProtocolError, match="is a link") as refused:
        link.client.push("kit", "k", {"kick.wav": b"RIFF\0\0\0\0WAVE"})
    assert refused.value.code == "rejected"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.onnx"]


def test_a_silent_device_times_out(tmp_path):
    import os
    import serial
    from breakage_pi.sync import SerialTransport, SyncClient

    master, slave = os.openpty()
    host = serial.Serial(os.ttyname(slave), timeout=0.01)
    try:
        with pytest.raises(ProtocolError, match="no answer from the device on .* within 0.05 s"):
            SyncClient(SerialTransport(host), timeout_s=0.05).hello()
    finally:
        host.close()
        os.close(slave)
        os.close(master)


def test_version_mismatch_is_refused(link):
    with pytest.raises(ProtocolError, match="version mismatch") as refused:
        link.raw.call(1001, op="hello", version=2, client="future")
    assert refused.value.code == "version"


def test_cli_push_ls_pull_over_the_pty(link, data_dir, tmp_path, capsys):
    from breakage_pi.cli import main

    link.close()  # the CLI opens the port itself
    pty = PtyLink(data_dir)
    pty.host.close()
    try:
        kit_dir = tmp_path / "my-kit"
        kit_dir.mkdir()
        for name, content in kit_files(3).items():
            (kit_dir / name).write_bytes(content)
        assert main(["sync", "--port", pty.port_name, "push", str(kit_dir), str(DEMO_BANK)]) == 0
        assert main(["sync", "ls", "--port", pty.port_name]) == 0
        listing = capsys.readouterr().out
        assert "kit   my-kit" in listing and "bank  bank" in listing
        out = tmp_path / "pulled"
        assert main(["sync", "--port", pty.port_name, "pull", "my-kit", "bank", str(out)]) == 0
        assert (out / "bank.json").read_bytes() == DEMO_BANK.read_bytes()
        assert snapshot(out / "my-kit") == snapshot(kit_dir)
        everything = tmp_path / "backup"
        assert main(["sync", "--port", pty.port_name, "pull", str(everything)]) == 0
        assert sorted(str(p.relative_to(everything)) for p in everything.rglob("*")) == [
            "bank.json", "my-kit", *sorted(f"my-kit/{name}" for name in kit_files(3)), "net-0.02.onnx"]
        (out / "bank.json").write_text("changed locally")
        assert main(["sync", "--port", pty.port_name, "pull", "bank", str(out)]) == 2
        assert "pass --force" in capsys.readouterr().err
        assert (out / "bank.json").read_text() == "changed locally"
        assert main(["sync", "--port", pty.port_name, "push", str(tmp_path / "nope.onnx")]) == 2
        assert main(["sync", "--port", pty.port_name, "rm", "bank"]) == 2
        assert "always holds a bank" in capsys.readouterr().err
    finally:
        pty.close()


def test_cli_without_a_device_says_so(capsys, monkeypatch):
    from serial.tools import list_ports
    from breakage_pi.cli import main

    monkeypatch.setattr(list_ports, "comports", lambda: [])
    assert main(["sync", "ls"]) == 2
    assert "no Breakage Pi found" in capsys.readouterr().err


def test_sync_serve_runs_the_device_side_on_a_serial_port(data_dir):
    """`breakage-pi sync serve` opens the pty's slave with pyserial; the host speaks on the master end."""
    import os
    import subprocess
    import sys
    from breakage_pi.sync import FdTransport, SyncClient

    import tty

    master, slave = os.openpty()
    tty.setraw(slave)  # no echo of the host's bytes before the server has opened the port
    cli = "import sys; from breakage_pi.cli import main; sys.exit(main())"
    serve = subprocess.Popen([sys.executable, "-c", cli, "sync", "serve", "--port", os.ttyname(slave),
                              "--data", str(data_dir)], stderr=subprocess.PIPE, text=True)
    try:  # the slave stays open here too, so the master end never reads EIO before the server opens it
        assert "Ctrl-C stops" in serve.stderr.readline()
        assert "breakage-pi sync: serving" in serve.stderr.readline()  # logged once the port is open
        client = SyncClient(FdTransport(master), timeout_s=10.0)
        assert client.hello()["version"] == 1
        client.push("net", "fresh", {"fresh.onnx": b"\x08\x07onnx"})
        assert (data_dir / "nets" / "fresh.onnx").read_bytes() == b"\x08\x07onnx"
    finally:
        serve.terminate()
        serve.wait(patience(10))
        os.close(master)
        os.close(slave)
