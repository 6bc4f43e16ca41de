"""``breakage-pi doctor``: is this machine ready to be the instrument? Each check says why not and the fix.

Checks the model, the config, I2C and each NeoTrellis at its address, the
ADC's SPI device, the audio device at the configured period (and the latency
it got), real-time limits, the service user's groups, the data directory
(free space, and whether it would survive a power cut) and the USB gadget.
A finding is ``ok``, a ``problem`` (something needed is missing: non-zero
exit), a ``warning`` (not needed to play) or ``unchecked`` (what cannot be
checked here, e.g. off the Pi, said in words). Paths are read under
``Machine.root`` so tests can hand it a fake ``/sys`` and ``/proc``.
"""

from __future__ import annotations

import grp
import os
import pwd
import resource
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .config_file import Config, ConfigError, config_path, load_config

OK, PROBLEM, WARNING, UNCHECKED = "ok", "PROBLEM", "warning", "unchecked"
SERVICE = "breakage-pi.service"
SERVICE_USER = "breakage-pi"
SERVICE_GROUPS = ("audio", "gpio", "i2c", "spi")
RUNNING_STATES = ("active", "activating", "reloading")   # from `systemctl is-active`
AUDIO_PRIORITY = 70                   # the SCHED_FIFO priority the audio process asks for
MIN_FREE_BYTES = 50 * 2**20           # below this a save may fail: a problem
LOW_FREE_BYTES = 500 * 2**20          # below this: a warning
VOLATILE_FILESYSTEMS = ("tmpfs", "overlay", "ramfs")
FIX_INSTALL = "sudo make install in the breakage-pi checkout (it sets this up), then reboot"


@dataclass(frozen=True)
class Finding:
    """One check's outcome: ``status`` is OK, PROBLEM, WARNING or UNCHECKED; ``fix`` says what to do."""

    check: str
    status: str
    detail: str
    fix: str = ""


@dataclass
class Machine:
    """Where the doctor looks. Defaults are this machine; tests replace the parts they fake.

    ``open_bus(bus_number)`` returns an I2C bus (``LinuxI2C`` on the Pi);
    ``open_sink(audio_config)`` an unopened audio sink; ``service_state()``
    what ``systemctl is-active`` says of the instrument's unit.
    """

    root: Path = Path("/")
    data_dir: Path = Path("/var/lib/breakage-pi")
    open_bus: Callable[[int], Any] | None = None
    open_sink: Callable[[Any], Any] | None = None
    service_state: Callable[[], str] | None = None
    _model: str | None = field(default=None, init=False)

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    @property
    def model(self) -> str:
        """``Raspberry Pi 4 Model B Rev 1.4``, or "" when this is not a Raspberry Pi."""
        if self._model is None:
            try:
                text = self.path("/proc/device-tree/model").read_text(errors="replace").rstrip("\0\n")
            except OSError:
                text = ""
            self._model = text if text.startswith("Raspberry Pi") else ""
        return self._model


def diagnose(machine: Machine, config_file: Path | None = None) -> list[Finding]:
    """Run every check in order; a check that cannot run says so in its finding."""
    findings = [_model(machine)]
    config, finding = _config(config_file)
    findings.append(finding)
    state = (machine.service_state or _systemctl_is_active)()
    busy = state in RUNNING_STATES
    findings.append(_service(state))
    findings += check_grid(config, machine, busy)
    findings.append(check_adc(config, machine))
    findings.append(check_audio(config, machine, busy))
    findings.append(check_realtime(machine))
    findings.append(check_groups(machine))
    findings += check_data_dir(machine)
    findings.append(check_usb_gadget(machine))
    return findings


def _model(machine: Machine) -> Finding:
    if machine.model:
        return Finding("model", OK, machine.model)
    return Finding("model", UNCHECKED, f"not a Raspberry Pi ({os.uname().machine}): the Pi's buses, groups and "
                   "USB gadget cannot be checked here, only the config, audio device, limits and data directory")


def _config(config_file: Path | None) -> tuple[Config, Finding]:
    where = str(config_file or config_path())
    try:
        config = load_config(config_file)
    except ConfigError as error:
        return Config(), Finding("config", PROBLEM, f"{error}; checking with the defaults instead",
                                 f"correct it (breakage-pi config {where} names the key)")
    exists = Path(where).is_file()
    return config, Finding("config", OK, f"{where} is valid" if exists else f"no {where}: every default applies")


def _service(state: str) -> Finding:
    if state in RUNNING_STATES:
        return Finding("service", OK, f"running ({state}): it owns the grid and the audio device, so those are "
                       "not probed", "to probe them: sudo systemctl stop breakage-pi, run the doctor, "
                       "sudo systemctl start breakage-pi")
    if state == "failed":
        return Finding("service", WARNING, f"{SERVICE} has failed", "journalctl -u breakage-pi -b says why")
    return Finding("service", OK, f"not running ({state or 'no systemd here'})")


def _systemctl_is_active() -> str:
    if shutil.which("systemctl") is None:
        return ""
    result = subprocess.run(["systemctl", "is-active", SERVICE], capture_output=True, text=True, timeout=10)
    return result.stdout.strip()


def check_grid(config: Config, machine: Machine, busy: bool = False) -> list[Finding]:
    """The I2C bus exists, runs at the configured clock, and a NeoTrellis answers at each address."""
    from ..hw.errors import HardwareError
    from ..hw.probe import NEOTRELLIS_HW_ID, hardware_id, jumpers_for

    grid = config.grid
    device = f"/dev/i2c-{grid.i2c_bus}"
    if machine.open_bus is None and not machine.model:
        # A PC's SMBus may hold a fan controller at 0x2E: never write to it.
        return [Finding("I2C", UNCHECKED, "not a Pi: the grid's bus is not probed here")]
    if not machine.path(device).exists():
        return [Finding("I2C", PROBLEM, f"{device} is missing: I2C is off",
                        f"sudo raspi-config nonint do_i2c 0, or {FIX_INSTALL}")]
    findings = [Finding("I2C", OK, f"{device} present")]
    clock = _i2c_clock(machine, grid.i2c_bus)
    if clock is not None and clock != grid.frequency:
        findings.append(Finding("I2C clock", WARNING, f"the bus runs at {clock} Hz, the config says {grid.frequency}",
                                f"dtparam=i2c_arm_baudrate={grid.frequency} in /boot/firmware/config.txt, reboot"))
    if busy:
        return findings + [Finding("grid", UNCHECKED, "the instrument is running and scanning the boards")]
    try:
        bus = (machine.open_bus or _linux_bus)(grid.i2c_bus)
    except HardwareError as error:
        return findings + [Finding("grid", PROBLEM, str(error), "check that your user is in the i2c group")]
    for index, address in enumerate(grid.addresses):
        name = f"board {index + 1} of 4 (0x{address:02X})"
        answer = hardware_id(bus, address)
        if answer == NEOTRELLIS_HW_ID:
            findings.append(Finding("grid", OK, f"{name} answers"))
            continue
        try:
            jumpers = " and ".join(jumpers_for(address)) or "no jumper"
        except HardwareError:
            jumpers = "(not a NeoTrellis address)"
        what = "no answer" if answer is None else f"answers with id 0x{answer:02X}, not a NeoTrellis (0x55)"
        findings.append(Finding("grid", PROBLEM, f"{name}: {what}",
                                f"check its SDA/SCL/power wires and that it has {jumpers} bridged "
                                f"(or change grid.addresses); `i2cdetect -y {grid.i2c_bus}` lists what answers"))
    return findings


def _linux_bus(number: int) -> Any:
    from ..hw.i2c import LinuxI2C

    return LinuxI2C(number)


def _i2c_clock(machine: Machine, bus: int) -> int | None:
    try:
        raw = machine.path(f"/sys/class/i2c-adapter/i2c-{bus}/of_node/clock-frequency").read_bytes()
    except OSError:
        return None
    return int.from_bytes(raw[:4], "big")


def check_adc(config: Config, machine: Machine) -> Finding:
    """The MCP3008's /dev/spidev node exists when any knob is a pot."""
    pots = [name for name, knob in config.knobs.items() if knob.kind == "pot"]
    if not pots:
        return Finding("ADC", OK, "no pots configured: no MCP3008 needed")
    device = f"/dev/spidev{config.adc.spi_port}.{config.adc.spi_device}"
    if machine.path(device).exists():
        return Finding("ADC", OK, f"{device} present for the pots ({', '.join(pots)})")
    if not machine.model:
        return Finding("ADC", UNCHECKED, f"no {device} here (not a Pi): the knobs' ADC cannot be checked")
    return Finding("ADC", PROBLEM, f"{device} is missing: SPI is off, and the pots ({', '.join(pots)}) need it",
                   f"sudo raspi-config nonint do_spi 0, or {FIX_INSTALL}")


def check_audio(config: Config, machine: Machine, busy: bool = False) -> Finding:
    """Open the configured device at the configured rate and period (measured here if automatic); say what was
    granted, why that period, and the latency."""
    from ..audio.period import explain
    from ..audio.sinks import AlsaSink, SinkLost, SinkRefused

    audio = config.audio
    if busy:
        return Finding("audio", UNCHECKED, f"{audio.device} is in use by the running instrument")
    period, why = explain(audio.period, audio.rate)
    sink = (machine.open_sink or (lambda a: AlsaSink(a.device, a.rate, period, a.periods)))(audio)
    try:
        sink.open()
    except SinkRefused as error:
        return Finding("audio", PROBLEM, str(error), "choose another device or rate in [audio] of the config")
    except SinkLost as error:
        if not machine.model:
            return Finding("audio", UNCHECKED, f"{error} (not a Pi: the configured card is the Pi's)")
        return Finding("audio", PROBLEM, str(error),
                       "`aplay -L` lists the devices: set [audio] device to one (hw:CARD=...,DEV=0); "
                       "an I2S DAC needs its dtoverlay line (see firmware/config.txt)")
    try:
        granted = "" if sink.period == period else f"; asked for {period}"
        return Finding("audio", OK, f"{audio.device} opened at {audio.rate} Hz, period {sink.period} frames"
                       f" ({why}{granted}), buffer latency {sink.latency * 1e3:.1f} ms")
    finally:
        sink.close()


def check_realtime(machine: Machine) -> Finding:
    """Whether the audio process can get SCHED_FIFO and lock its memory: under the unit, and from this shell."""
    rtprio, _ = resource.getrlimit(resource.RLIMIT_RTPRIO)
    memlock, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    here = "this shell: " + ("root, any priority" if os.geteuid() == 0 else
                             f"real-time priority up to {rtprio}, locked memory "
                             + ("unlimited" if memlock == resource.RLIM_INFINITY else f"{memlock // 1024} KiB"))
    unit = machine.path(f"/etc/systemd/system/{SERVICE}")
    try:
        settings = dict(line.split("=", 1) for line in unit.read_text().splitlines() if line.startswith("Limit"))
    except OSError:
        return Finding("real time", WARNING, f"{SERVICE} is not installed; {here}", FIX_INSTALL)
    try:
        unit_rtprio = int(settings.get("LimitRTPRIO", "0"))
    except ValueError:
        unit_rtprio = 0
    if unit_rtprio >= AUDIO_PRIORITY and settings.get("LimitMEMLOCK") == "infinity":
        return Finding("real time", OK, f"the service allows priority {unit_rtprio} (audio asks {AUDIO_PRIORITY}) "
                       f"and locked memory; {here}")
    return Finding("real time", WARNING, f"{unit} grants LimitRTPRIO={unit_rtprio}, "
                   f"LimitMEMLOCK={settings.get('LimitMEMLOCK', 'unset')}: audio runs without real-time priority",
                   f"reinstall the unit ({FIX_INSTALL})")


def check_groups(machine: Machine) -> Finding:
    """The service user exists and is in the groups that open the sound card, GPIO, I2C and SPI."""
    missing_groups = [name for name in SERVICE_GROUPS if not _group_exists(name)]
    try:
        user = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        if not machine.model:
            return Finding("user", UNCHECKED, f"no user {SERVICE_USER} here (not a Pi)")
        return Finding("user", PROBLEM, f"no user {SERVICE_USER} for the service to run as", FIX_INSTALL)
    if missing_groups and not machine.model:
        return Finding("user", UNCHECKED, f"groups {', '.join(missing_groups)} do not exist here (not Pi OS)")
    member_of = {group.gr_name for group in grp.getgrall() if SERVICE_USER in group.gr_mem}
    member_of.add(grp.getgrgid(user.pw_gid).gr_name)
    lacking = [name for name in SERVICE_GROUPS if name not in member_of]
    if lacking:
        return Finding("user", PROBLEM, f"{SERVICE_USER} is not in {', '.join(lacking)}: it cannot open those devices",
                       f"sudo usermod -aG {','.join(SERVICE_GROUPS)} {SERVICE_USER}")
    return Finding("user", OK, f"{SERVICE_USER} is in {', '.join(SERVICE_GROUPS)}")


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def check_data_dir(machine: Machine) -> list[Finding]:
    """The data directory exists, has room, and sits on storage that survives a power cut."""
    data = machine.data_dir
    if not data.is_dir():
        return [Finding("data", PROBLEM, f"{data} does not exist: nothing can be saved",
                        f"{FIX_INSTALL} (or give --data DIR)")]
    free = shutil.disk_usage(data).free
    room = f"{data}: {free / 2**20:.0f} MiB free"
    if free < MIN_FREE_BYTES:
        findings = [Finding("data", PROBLEM, room + ": saving may fail", "delete old kits or nets, or a bigger card")]
    elif free < LOW_FREE_BYTES:
        findings = [Finding("data", WARNING, room + ", running low", "delete old kits or nets")]
    else:
        findings = [Finding("data", OK, room)]
    mount = _mount_of(machine, data)
    if mount and mount[1] in VOLATILE_FILESYSTEMS:
        findings.append(Finding("data", PROBLEM, f"{data} is on {mount[1]} ({mount[0]}): in RAM, lost at power-off",
                                "with overlayroot use overlayroot=tmpfs:recurse=0 and put the data dir on its own "
                                "ext4 partition (sudo make install OVERLAYROOT=1 DATA_PARTITION=LABEL=...)"))
    return findings


def _mount_of(machine: Machine, path: Path) -> tuple[str, str] | None:
    """(mount point, file system type) holding ``path``, from /proc/mounts."""
    try:
        lines = machine.path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None
    resolved = str(path.resolve())
    best: tuple[str, str] | None = None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best[0])):
            best = (point, parts[2])
    return best


def check_usb_gadget(machine: Machine) -> Finding:
    """The USB device controller (dwc2) and the gadget bound to it, for sync with a computer."""
    if not machine.model:
        return Finding("USB sync", UNCHECKED, "not a Pi: the USB gadget cannot be checked")
    if "Raspberry Pi 3" in machine.model:
        return Finding("USB sync", WARNING, "the Pi 3 has no OTG port: no USB sync (copy files over the network)")
    controllers = sorted(machine.path("/sys/class/udc").glob("*")) if machine.path("/sys/class/udc").is_dir() else []
    if not controllers:
        return Finding("USB sync", WARNING, "no USB device controller: the dwc2 overlay is not loaded",
                       f"dtoverlay=dwc2,dr_mode=peripheral in /boot/firmware/config.txt ({FIX_INSTALL})")
    gadgets = machine.path("/sys/kernel/config/usb_gadget")
    bound = [gadget.name for gadget in sorted(gadgets.glob("*"))
             if (gadget / "UDC").is_file() and (gadget / "UDC").read_text().strip()] if gadgets.is_dir() else []
    if not bound:
        return Finding("USB sync", WARNING, f"controller {controllers[0].name} is there but no gadget is bound",
                       "sudo systemctl status breakage-pi-gadget says why")
    state = _read(controllers[0] / "state") or "unknown"
    cable = "a computer is connected" if state == "configured" else f"no computer connected ({state})"
    return Finding("USB sync", OK, f"gadget {', '.join(bound)} on {controllers[0].name}: {cable}")


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def report(findings: list[Finding]) -> str:
    """The findings in plain words, one per line, each fix indented under its finding."""
    lines = []
    for finding in findings:
        lines.append(f"{finding.status:<10} {finding.check:<10} {finding.detail}")
        if finding.fix:
            lines.append(f"{'':<21} fix: {finding.fix}")
    problems = sum(finding.status == PROBLEM for finding in findings)
    lines.append("")
    lines.append(f"{problems} problem{'s' * (problems != 1)} to fix before the instrument can run"
                 if problems else "nothing needed is missing")
    return "\n".join(lines)
