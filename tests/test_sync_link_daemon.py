"""The daemon's side of USB sync (breakage_pi.sync_link): what a push changes comes back as state machine
events, made ready off the control loop; the server on the pty's device end, the client on the host end."""

from __future__ import annotations

import os
import tty

import pytest
from test_daemon import MODELS, offset_kit

from breakage_pi.core import Bank, Pattern, Slot
from breakage_pi.core.instrument import BankLoaded, Instrument, KitsFound
from breakage_pi.core.settings import TakesConfig
from breakage_pi.daemon.datadir import DataDir
from breakage_pi.daemon.takes import Takes
from breakage_pi.store import folder_held, save_bank
from breakage_pi.sync import FdTransport, ProtocolError, SyncClient
from breakage_pi.sync.hashes import INLINE_BYTES, Identity
from breakage_pi.daemon.sync_link import SyncLink
from emulation import patience
from test_takes_disk import wait_for


@pytest.fixture
def linked(tmp_path):
    root = tmp_path / "data"
    (root / "nets").mkdir(parents=True)
    save_bank(root / "bank.json", Bank(slots=(Slot("a", True, Pattern()),)))
    master, slave = os.openpty()
    tty.setraw(slave)
    calls: dict[str, list] = {"load_nets": [], "adopt": [], "reload_kit": []}
    state = Instrument(Bank(slots=(Slot("a", True, Pattern()),)), kits=("offsets",), kit="offsets")

    def load_nets():
        calls["load_nets"].append(sorted(p.name for p in (root / "nets").glob("*.onnx")))
        return "net bank"

    link = SyncLink(os.ttyname(slave), DataDir(root), load_nets,
                    lambda bank: calls["adopt"].append(bank) or "nets loaded",
                    lambda bank: tuple(sorted(p.name for p in (root / "kits").iterdir())),
                    lambda: state, calls["reload_kit"].append).start()
    try:
        for _ in range(100):                # the server opens the port in its own time; HELLO until it answers
            try:
                SyncClient(FdTransport(master), timeout_s=0.1).hello()
                break
            except ProtocolError:           # a HELLO sent before the port opened is lost
                continue
        client = SyncClient(FdTransport(master), timeout_s=10.0)
        yield root, link, client, calls
    finally:
        link.close()
        os.close(master)
        os.close(slave)


def next_events(link):
    assert link.ready.wait(patience(10)), "nothing was made ready"
    return link.poll(1.0)


def test_pushed_bank_nets_and_kits_become_events(linked, tmp_path):
    root, link, client, calls = linked
    save_bank(tmp_path / "b.json", Bank(slots=(Slot("x", True, Pattern().with_velocity(0, 0, 99)),), tempo=90.0))
    client.push("bank", "bank", {"bank.json": (tmp_path / "b.json").read_bytes()})
    [event] = next_events(link)
    assert isinstance(event, BankLoaded) and event.bank.tempo == 90.0 and event.time == 1.0

    net = sorted(MODELS.glob("*.onnx"))[0]
    client.push("net", "pushed", {"pushed.onnx": net.read_bytes()})
    assert next_events(link) == ["nets loaded"]
    assert calls["load_nets"] == [["pushed.onnx"]] and calls["adopt"] == ["net bank"]

    kit = offset_kit(tmp_path / "offsets")
    client.push("kit", "offsets", {f.name: f.read_bytes() for f in sorted(kit.iterdir())})
    [event] = next_events(link)
    assert event == KitsFound(("offsets",), 1.0) and calls["reload_kit"] == ["offsets"]   # the kit playing


def test_a_take_is_hashed_once_it_ends_so_a_pull_need_not_wait(linked):
    root, link, client, _ = linked
    takes = Takes(TakesConfig(), root, 48_000, 128, shared=False)
    told = []
    takes.on_finished = lambda folder: (told.append((folder, folder_held(folder))), link.take_finished(folder))
    takes.start(Instrument(Bank(slots=(Slot("a", True, Pattern()),))), "from a test")
    (folder,) = (root / "takes").iterdir()
    with open(folder / "extra.bin", "wb") as big:          # a file too big to hash while a host waits
        big.truncate(INLINE_BYTES + 1)
    assert [item["state"] for item in client.list() if item["kind"] == "take"] == ["recording"]
    takes.stop("stopped from the grid")
    assert told == [(folder, False)]                        # told once every file is written and let go
    hashes, identity = link.server.session.data.hashes, Identity.of((folder / "extra.bin").stat())
    wait_for(lambda: hashes.known(f"takes/{folder.name}/extra.bin", identity) is not None, patience(10),
             "the take's digests")                    # no host asked: the hasher thread did it on its own
    assert [item["state"] for item in client.list() if item["kind"] == "take"] == ["ready"]
