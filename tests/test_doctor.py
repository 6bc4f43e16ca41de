"""breakage-pi doctor: on this machine (not a Pi) and on fake Pi trees with the emulated bus."""

from pathlib import Path

import pytest

from breakage_pi.audio.period import CHOICES

from breakage_pi.cli import main
from breakage_pi.cli.config_file import Config
from breakage_pi.core.settings import parse_config
from breakage_pi.cli.doctor_checks import (OK, PROBLEM, UNCHECKED, WARNING, Machine, check_adc, check_audio, check_data_dir,
                                check_grid, check_groups, check_realtime, check_usb_gadget, diagnose)
from breakage_pi.hw.errors import HardwareError
from breakage_pi.hw.probe import jumpers_for
from breakage_pi.hw.sim import EmulatedI2C, EmulatedNeoTrellis

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def pi(tmp_path):
    """A fake root that says it is a Pi 4, with nothing else on it yet."""
    root = tmp_path / "root"
    (root / "proc/device-tree").mkdir(parents=True)
    (root / "proc/device-tree/model").write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\0")
    return root


def make(root: Path, path: str, content: str | bytes = "") -> Path:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content if isinstance(content, bytes) else content.encode())
    return target


def test_off_the_pi_it_says_what_it_cannot_check(tmp_path, capsys):
    config = make(tmp_path, "config.toml", '[audio]\ndevice = "null"\nperiod = 64\n')
    assert main(["doctor", "--config", str(config), "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for line in ("unchecked  model      not a Raspberry Pi", "unchecked  I2C        not a Pi: the grid's bus is not probed here",
                 "unchecked  ADC", "unchecked  USB sync   not a Pi",
                 "ok         audio      null opened at 48000 Hz, period 64 frames (pinned by [audio] period), "
                 "buffer latency 4.0 ms"):
        assert line in out
    assert out.rstrip().endswith("nothing needed is missing")


def test_missing_data_dir_and_bad_config_fail_with_a_fix(tmp_path, capsys):
    config = make(tmp_path, "config.toml", "[grid]\nint_pin = 40\n")
    assert main(["doctor", "--config", str(config), "--data", str(tmp_path / "absent")]) == 1
    out = capsys.readouterr().out
    assert f"PROBLEM    config     {config}: grid.int_pin: must be a BCM GPIO number 0-27, got 40" in out
    assert f"PROBLEM    data       {tmp_path / 'absent'} does not exist" in out
    assert "fix: sudo make install" in out and out.rstrip().endswith("2 problems to fix before the instrument can run")


def test_a_pi_with_i2c_and_spi_off(pi, tmp_path):
    machine = Machine(root=pi, data_dir=tmp_path, service_state=lambda: "inactive")
    [i2c] = check_grid(Config(), machine)
    assert (i2c.status, i2c.detail) == (PROBLEM, "/dev/i2c-1 is missing: I2C is off")
    assert "raspi-config nonint do_i2c 0" in i2c.fix
    adc = check_adc(Config(), machine)
    assert adc.status == PROBLEM and "do_spi 0" in adc.fix
    make(pi, "dev/spidev0.0")
    assert check_adc(Config(), machine).status == OK
    only_encoders = parse_config({"knobs": {name: {"kind": "encoder", "a": pin, "b": pin + 1}
                                            for name, pin in zip(Config().knobs, range(18, 28, 2))}})
    assert check_adc(only_encoders, Machine(root=pi)).detail == "no pots configured: no MCP3008 needed"


def test_each_board_is_probed_and_a_missing_one_names_its_jumpers(pi):
    bus = EmulatedI2C([EmulatedNeoTrellis(address) for address in (0x2E, 0x2F, 0x30)])
    make(pi, "dev/i2c-1")
    make(pi, "sys/class/i2c-adapter/i2c-1/of_node/clock-frequency", (400_000).to_bytes(4, "big"))
    findings = check_grid(Config(), Machine(root=pi, open_bus=lambda number: bus))
    assert [(f.status, f.detail) for f in findings] == [
        (OK, "/dev/i2c-1 present"),
        (WARNING, "the bus runs at 400000 Hz, the config says 100000"),
        (OK, "board 1 of 4 (0x2E) answers"), (OK, "board 2 of 4 (0x2F) answers"), (OK, "board 3 of 4 (0x30) answers"),
        (PROBLEM, "board 4 of 4 (0x31): no answer")]
    assert "A0 and A1 bridged" in findings[-1].fix
    assert "dtparam=i2c_arm_baudrate=100000" in findings[1].fix


def test_jumpers():
    assert jumpers_for(0x2E) == ()
    assert jumpers_for(0x31) == ("A0", "A1")
    assert jumpers_for(0x4D) == ("A0", "A1", "A2", "A3", "A4")
    with pytest.raises(HardwareError, match="0x4E cannot be set"):
        jumpers_for(0x4E)


def test_a_running_instrument_is_not_disturbed(pi, tmp_path):
    bus = EmulatedI2C([EmulatedNeoTrellis(0x2E)])
    make(pi, "dev/i2c-1")
    findings = diagnose(Machine(root=pi, data_dir=tmp_path, open_bus=lambda number: bus,
                                service_state=lambda: "active"), tmp_path / "absent.toml")
    by_check = {f.check: f for f in findings}
    assert by_check["service"].status == OK and "sudo systemctl stop breakage-pi" in by_check["service"].fix
    assert by_check["grid"].status == UNCHECKED and by_check["audio"].status == UNCHECKED
    assert sum(bus.transactions.values()) == 0


def test_audio_on_a_pi_reports_a_missing_card_with_the_fix(pi):
    config = parse_config({"audio": {"device": "hw:CARD=NoSuchCard,DEV=0"}})
    finding = check_audio(config, Machine(root=pi))
    assert finding.status == PROBLEM and "NoSuchCard" in finding.detail and "aplay -L" in finding.fix


def test_audio_reports_a_changed_period(pi):
    class Sink:
        """A device that grants 128 frames for 64 asked (as a JACK-backed one did)."""
        period, latency = 128, 384 / 48_000

        def open(self):
            pass

        def close(self):
            self.closed = True

    sink = Sink()
    finding = check_audio(parse_config({"audio": {"period": 64}}), Machine(root=pi, open_sink=lambda audio: sink))
    assert finding.detail.endswith("period 128 frames (pinned by [audio] period; asked for 64), buffer latency 8.0 ms")
    assert sink.closed


def test_an_automatic_period_is_measured_and_explained(tmp_path):
    """What the engine would find at its start: a period it can keep, the measured cost, and what it does later."""
    finding = check_audio(parse_config({"audio": {"device": "null"}}), Machine(root=tmp_path))
    assert finding.status == OK and "(auto: " in finding.detail, finding.detail
    period = int(finding.detail.split("period ")[1].split(" frames")[0])
    assert period in CHOICES
    assert "us a block at p99 here" in finding.detail or "no period leaves half free" in finding.detail


def test_data_in_ram_is_a_problem(tmp_path):
    root = tmp_path / "root"
    make(root, "proc/mounts", f"/dev/root / ext4 rw 0 0\ntmpfs {tmp_path} tmpfs rw 0 0\n")
    findings = check_data_dir(Machine(root=root, data_dir=tmp_path))
    assert [f.status for f in findings] == [OK, PROBLEM]
    assert "lost at power-off" in findings[1].detail and "recurse=0" in findings[1].fix
    make(root, "proc/mounts", f"/dev/root / overlay rw 0 0\n/dev/mmcblk0p3 {tmp_path} ext4 rw 0 0\n")
    assert [f.status for f in check_data_dir(Machine(root=root, data_dir=tmp_path))] == [OK]


def test_real_time_limits_come_from_the_installed_unit(pi):
    assert check_realtime(Machine(root=pi)).status == WARNING
    unit = make(pi, "etc/systemd/system/breakage-pi.service", (REPO / "systemd/breakage-pi.service").read_text())
    finding = check_realtime(Machine(root=pi))
    assert finding.status == OK and finding.detail.startswith("the service allows priority 95 (audio asks 70)")
    unit.write_text(unit.read_text().replace("LimitRTPRIO=95", "LimitRTPRIO=10"))
    assert check_realtime(Machine(root=pi)).status == WARNING


def test_usb_gadget_states(pi):
    assert "dtoverlay=dwc2" in check_usb_gadget(Machine(root=pi)).fix
    make(pi, "sys/class/udc/fe980000.usb/state", "not attached\n")
    assert "no gadget is bound" in check_usb_gadget(Machine(root=pi)).detail
    make(pi, "sys/kernel/config/usb_gadget/breakage-pi/UDC", "fe980000.usb\n")
    assert check_usb_gadget(Machine(root=pi)).detail == \
        "gadget breakage-pi on fe980000.usb: no computer connected (not attached)"
    make(pi, "sys/class/udc/fe980000.usb/state", "configured\n")
    finding = check_usb_gadget(Machine(root=pi))
    assert finding.status == OK and finding.detail.endswith("a computer is connected")


def test_a_pi_without_the_service_user(pi):
    finding = check_groups(Machine(root=pi))
    assert (finding.status, finding.detail) == (PROBLEM, "no user breakage-pi for the service to run as")
    assert finding.fix.startswith("sudo make install")
