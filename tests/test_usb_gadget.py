"""firmware/usb-gadget.sh on a fake root: the gadget it builds, idempotent up/down; the unit and the udev rule."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"
UNIT = Path(__file__).resolve().parent.parent / "systemd" / "breakage-pi-gadget.service"


@pytest.fixture
def fake_root(tmp_path):
    """A root with a UDC and a serial number, modprobe/mount stubs, and rmdir removing attribute files as configfs."""
    root = tmp_path / "root"
    (root / "sys/class/udc/fe980000.usb").mkdir(parents=True)
    (root / "sys/kernel/config").mkdir(parents=True)
    (root / "sys/firmware/devicetree/base").mkdir(parents=True)
    (root / "sys/firmware/devicetree/base/serial-number").write_bytes(b"00000000c0ffee42\0")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in {"modprobe": "exit 0", "mount": "exit 0", "mountpoint": "exit 0",
                       "rmdir": 'exec rm -r "$@"'}.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "BREAKAGE_PI_ROOT": str(root), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return root, env


def gadget(env, action):
    return subprocess.run(["sh", str(FIRMWARE / "usb-gadget.sh"), action], env=env, capture_output=True, text=True)


def test_up_builds_the_composite_gadget_and_is_idempotent(fake_root):
    root, env = fake_root
    assert gadget(env, "up").returncode == 0
    g = root / "sys/kernel/config/usb_gadget/breakage-pi"
    read = lambda name: (g / name).read_text().strip()
    assert (read("idVendor"), read("idProduct")) == ("0x1d6b", "0x0104")
    assert (read("bDeviceClass"), read("bDeviceSubClass"), read("bDeviceProtocol")) == ("0xEF", "0x02", "0x01")
    assert read("strings/0x409/serialnumber") == "c0ffee42"
    assert read("strings/0x409/product") == "Breakage Pi groovebox"
    assert read("strings/0x409/manufacturer") == "Breakage Pi"
    assert os.readlink(g / "configs/c.1/acm.usb0") == "functions/acm.usb0"
    assert os.readlink(g / "configs/c.1/midi.usb0") == "functions/midi.usb0"
    assert read("UDC") == "fe980000.usb"
    snapshot = sorted((str(p), p.read_text() if p.is_file() else "") for p in g.rglob("*"))
    again = gadget(env, "up")
    assert again.returncode == 0 and "already bound" in again.stderr
    assert sorted((str(p), p.read_text() if p.is_file() else "") for p in g.rglob("*")) == snapshot
    assert gadget(env, "status").returncode == 0
    assert gadget(env, "down").returncode == 0 and not g.exists()
    assert gadget(env, "down").returncode == 0
    assert gadget(env, "status").returncode == 3


def test_up_without_a_device_controller_says_what_to_add(fake_root):
    root, env = fake_root
    shutil.rmtree(root / "sys/class/udc")
    result = gadget(env, "up")
    assert result.returncode == 1 and "dtoverlay=dwc2" in result.stderr


def test_the_host_rule_keeps_modemmanager_away_from_our_device_only():
    rules = (FIRMWARE / "99-breakage-pi.rules").read_text()
    active = [line for line in rules.splitlines() if line and not line.startswith("#")]
    assert any('ENV{ID_MM_DEVICE_IGNORE}="1"' in line for line in active)
    assert all('ATTRS{idVendor}=="1d6b"' in line and 'ATTRS{idProduct}=="0104"' in line
               and 'ATTRS{manufacturer}=="Breakage Pi"' in line for line in active)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_unit_verifies():
    result = subprocess.run(["systemd-analyze", "verify", str(UNIT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
