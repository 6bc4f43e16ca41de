"""`systemd-analyze verify` on every unit in systemd/, inside a throw-away root.

Verifying in place would fail on this machine for reasons that say nothing
about the unit (its program is not installed here), so the units are
verified the way they are installed: in a temp root holding the system's
own units (the targets they order against), the units under
etc/systemd/system, the service user and groups, and each program they run, at its path: copied from
this machine if it is a system program, or an executable placeholder if it
is one the installer puts under /opt/breakage-pi. Any other missing program
fails, as does any warning about the unit.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from emulation import patience

REPO = Path(__file__).resolve().parent.parent
UNITS = sorted((REPO / "systemd").glob("*.service"))
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
INSTALLED_PREFIX = "/opt/breakage-pi/"
EXEC = re.compile(r"^Exec\w+=[-@:+!]*(\S+)", re.MULTILINE)

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None or not SYSTEM_UNITS.is_dir(),
                                reason="systemd-analyze not installed (apt install systemd)")


def programs(unit: Path) -> set[str]:
    return set(EXEC.findall(unit.read_text()))


@pytest.fixture(scope="module")
def verify_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    shutil.copytree(SYSTEM_UNITS, root / SYSTEM_UNITS.relative_to("/"), symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    # the user and groups firmware/install.sh creates (or Pi OS has), for versions of verify that look them up
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n"
                                     "breakage-pi:x:996:996::/var/lib/breakage-pi:/usr/sbin/nologin\n")
    (root / "etc/group").write_text("root:x:0:\naudio:x:29:breakage-pi\ngpio:x:997:breakage-pi\n"
                                    "i2c:x:998:breakage-pi\nspi:x:999:breakage-pi\nbreakage-pi:x:996:\n")
    for unit in UNITS:
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
        for program in programs(unit):
            target = root / program.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if Path(program).is_file():
                shutil.copy(program, target)
            elif program.startswith(INSTALLED_PREFIX):
                target.write_text("#!/bin/sh\n")
                target.chmod(0o755)
    return root


def test_there_is_a_unit_to_verify():
    assert REPO / "systemd/breakage-pi.service" in UNITS


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_unit_verifies(unit, verify_root):
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={verify_root}", unit.name],
                            capture_output=True, text=True, timeout=patience(120))
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and unit.name not in output, output


def test_verify_catches_a_broken_unit(verify_root):
    """The check can fail: a program that is not there, an unknown key."""
    broken = verify_root / "etc/systemd/system/breakage-pi-broken.service"
    broken.write_text((REPO / "systemd/breakage-pi.service").read_text()
                      .replace("/opt/breakage-pi/bin/breakage-pi", "/opt/breakage-pi/bin/absent")
                      .replace("WatchdogSec=", "WatchdogSecs="))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={verify_root}", broken.name],
                            capture_output=True, text=True, timeout=patience(120))
    assert result.returncode != 0
    assert "WatchdogSecs" in result.stderr and "/opt/breakage-pi/bin/absent" in result.stderr
    broken.unlink()


def test_real_time_is_allowed_but_not_imposed_unit_wide():
    text = (REPO / "systemd/breakage-pi.service").read_text()
    assert "LimitRTPRIO=" in text and "LimitMEMLOCK=" in text
    assert not re.search(r"^(CPUSchedulingPolicy|CPUSchedulingPriority)=", text, re.MULTILINE)
    assert re.search(r"^Type=notify$", text, re.MULTILINE) and re.search(r"^WatchdogSec=", text, re.MULTILINE)
