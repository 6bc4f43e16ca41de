"""firmware/install.sh in a fake root: a temp dir stands for /, recorders stand for the commands that change
the system (apt-get, systemctl, useradd, ...), found first on $PATH. Everything else runs for real."""

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from emulation import patience

REPO = Path(__file__).resolve().parent.parent
INSTALL = REPO / "firmware/install.sh"
BOOKWORM_CONFIG_TXT = """\
# For more options and information see
# http://rptl.io/configtxt
dtparam=audio=on
camera_auto_detect=1
display_auto_detect=1
auto_initramfs=1
dtoverlay=vc4-kms-v3d
max_framebuffers=2
disable_fw_kms_setup=1
arm_64bit=1
disable_overscan=1
arm_boost=1

[cm4]
otg_mode=1

[cm5]
dtoverlay=dwc2,dr_mode=host

[all]
"""
BOOKWORM_CMDLINE = "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait\n"
RECORDED = ("apt-get", "systemctl", "useradd", "groupadd", "usermod", "userdel", "chown")
RECORDER = """#!/bin/sh
echo "$(basename "$0") $*" >> "$RECORD"
"""
# systemctl says every unit asked about is enabled, so the services list is applied.
SYSTEMCTL = RECORDER + '[ "$1" != is-enabled ] || echo enabled\n'
# `python3 -m venv DIR` leaves DIR/bin/python, which records what pip is asked.
PYTHON3 = RECORDER + """if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"; printf '#!/bin/sh\\necho "venv-python $*" >> "$RECORD"\\n' > "$3/bin/python"; chmod +x "$3/bin/python"
fi
"""


@pytest.fixture
def machine(tmp_path):
    """A fake Pi OS root and the recorders; ``machine.run(*args)`` runs the installer in it."""
    root, recorders = tmp_path / "root", tmp_path / "bin"
    (root / "boot/firmware").mkdir(parents=True)
    (root / "boot/firmware/config.txt").write_text(BOOKWORM_CONFIG_TXT)
    (root / "boot/firmware/cmdline.txt").write_text(BOOKWORM_CMDLINE)
    (root / "etc").mkdir()
    (root / "etc/group").write_text("root:x:0:\naudio:x:29:pi\ngpio:x:997:pi\ni2c:x:998:pi\nspi:x:999:pi\n")
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    recorders.mkdir()
    for name in RECORDED:
        (recorders / name).write_text(SYSTEMCTL if name == "systemctl" else RECORDER)
    (recorders / "python3").write_text(PYTHON3)
    for script in recorders.iterdir():
        script.chmod(0o755)

    class Machine:
        def __init__(self):
            self.root, self.record = root, tmp_path / "record.log"

        def run(self, *args, check=True):
            self.record.write_text("")
            env = {"PATH": f"{recorders}:/usr/bin:/bin", "BREAKAGE_PI_ROOT": str(root), "RECORD": str(self.record)}
            result = subprocess.run(["bash", str(INSTALL), *args], env=env, capture_output=True, text=True,
                                    timeout=patience(60))
            assert not check or result.returncode == 0, result.stderr
            return result

        def commands(self):
            return self.record.read_text().splitlines()

        def snapshot(self):
            """Every path under the root with its mode and content hash."""
            return {str(path.relative_to(root)): (path.stat().st_mode, path.is_file()
                                                  and hashlib.sha256(path.read_bytes()).hexdigest())
                    for path in sorted(root.rglob("*"))}

        def text(self, path):
            return (root / path).read_text()

    return Machine()


def test_install_twice_gives_identical_results(machine):
    machine.run("install")
    files, commands = machine.snapshot(), machine.commands()
    machine.run("install")
    assert machine.snapshot() == files
    venv = f"python3 -m venv {machine.root}/opt/breakage-pi"
    assert machine.commands() == [line for line in commands if line != venv]   # the venv is made once


def test_install_sets_up_the_instrument(machine):
    machine.run()
    commands = machine.commands()
    apt = next(line for line in commands if line.startswith("apt-get install"))
    assert "--no-install-recommends" in apt and "libasound2-dev" in apt and "overlayroot" not in apt
    assert "useradd --system --user-group --home-dir /var/lib/breakage-pi --no-create-home " \
           "--shell /usr/sbin/nologin breakage-pi" in commands
    assert "usermod --append --groups audio,gpio,i2c,spi breakage-pi" in commands
    assert not [line for line in commands if line.startswith("groupadd")]        # Pi OS has them all
    assert f"python3 -m venv {machine.root}/opt/breakage-pi" in commands
    assert f"venv-python -m pip install -q --upgrade {REPO}" in commands
    assert f"chown breakage-pi:breakage-pi {machine.root}/var/lib/breakage-pi" in commands
    assert commands.index("systemctl daemon-reload") < commands.index("systemctl enable breakage-pi.service")
    assert "systemctl disable bluetooth.service" in commands
    assert "systemctl mask NetworkManager-wait-online.service" in commands
    assert machine.text("etc/systemd/system/breakage-pi.service") == (REPO / "systemd/breakage-pi.service").read_text()
    assert machine.text("etc/breakage-pi.toml") == (REPO / "firmware/breakage-pi.toml").read_text()
    assert machine.text("etc/modules-load.d/breakage-pi.conf") == "i2c-dev\n"
    assert (machine.root / "etc/udev/rules.d/60-breakage-pi.rules").is_file()
    assert (machine.root / "var/lib/breakage-pi").is_dir()
    for page in ["README.md", *(f"docs/{path.name}" for path in (REPO / "docs").glob("*.md"))]:
        assert machine.text(f"opt/breakage-pi/{page}") == (REPO / page).read_text(), page


def test_boot_files_are_merged_keeping_what_was_there(machine):
    machine.run()
    config = machine.text("boot/firmware/config.txt")
    assert config.startswith(BOOKWORM_CONFIG_TXT)
    assert config.count("dtparam=i2c_arm_baudrate=100000") == 1 and config.rstrip().endswith("# <<< breakage-pi <<<")
    assert machine.text("boot/firmware/config.txt.breakage-pi-backup") == BOOKWORM_CONFIG_TXT
    cmdline = machine.text("boot/firmware/cmdline.txt")
    assert cmdline.count("\n") == 1 and cmdline.split() == BOOKWORM_CMDLINE.split() + [
        "quiet", "loglevel=3", "logo.nologo", "vt.global_cursor_default=0"]      # fsck.repair=yes was there
    assert "overlayroot" not in cmdline


def test_a_changed_fragment_replaces_the_old_block_and_the_backup_stays_the_original(machine):
    machine.run()
    config = machine.root / "boot/firmware/config.txt"
    config.write_text(config.read_text().replace("dtparam=spi=on", "dtparam=spi=off") + "hdmi_blanking=1\n")
    machine.run()
    text = config.read_text()
    assert text.count("# >>> breakage-pi") == 1 and "dtparam=spi=on" in text and "dtparam=spi=off" not in text
    assert "hdmi_blanking=1" in text                                            # the user's own line survives
    assert machine.text("boot/firmware/config.txt.breakage-pi-backup") == BOOKWORM_CONFIG_TXT


def test_an_existing_config_is_kept(machine):
    (machine.root / "etc/breakage-pi.toml").write_text("[audio]\nperiod = 128\n")
    machine.run()
    assert machine.text("etc/breakage-pi.toml") == "[audio]\nperiod = 128\n"


def test_read_only_root_option(machine):
    for _ in range(2):
        machine.run("--overlayroot", "--data-partition", "LABEL=breakage-data")
    commands = machine.commands()
    assert "overlayroot" in next(line for line in commands if line.startswith("apt-get install"))
    assert machine.text("boot/firmware/cmdline.txt").split().count("overlayroot=tmpfs:recurse=0") == 1
    assert "Storage=volatile" in machine.text("etc/systemd/journald.conf.d/breakage-pi.conf")
    assert "systemctl mask dphys-swapfile.service" in commands
    assert machine.text("etc/fstab") == "LABEL=breakage-data /var/lib/breakage-pi ext4 defaults,noatime,commit=5 0 2\n"


def test_uninstall_reverses_install_but_keeps_the_users_data(machine):
    machine.run("install", "--overlayroot")
    (machine.root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n"
                                             "breakage-pi:x:996:996::/var/lib/breakage-pi:/usr/sbin/nologin\n")
    (machine.root / "var/lib/breakage-pi/bank.json").write_text("{}")
    machine.run("uninstall")
    commands = machine.commands()
    assert "systemctl disable --now breakage-pi.service" in commands
    assert "systemctl enable bluetooth.service" in commands and "systemctl unmask dphys-swapfile.service" in commands
    assert "userdel breakage-pi" in commands
    assert machine.text("boot/firmware/config.txt") == BOOKWORM_CONFIG_TXT
    assert machine.text("boot/firmware/cmdline.txt").split() == BOOKWORM_CMDLINE.split()
    for gone in ("opt/breakage-pi", "etc/systemd/system/breakage-pi.service", "etc/udev/rules.d/60-breakage-pi.rules",
                 "etc/modules-load.d/breakage-pi.conf", "etc/systemd/journald.conf.d/breakage-pi.conf"):
        assert not (machine.root / gone).exists(), gone
    assert machine.text("var/lib/breakage-pi/bank.json") == "{}"
    assert (machine.root / "etc/breakage-pi.toml").is_file()


def test_bad_argument_is_one_clear_line(machine):
    result = machine.run("--overlay", check=False)
    assert result.returncode != 0 and not machine.commands()
    assert result.stderr == "breakage-pi install: error: unknown argument '--overlay' " \
                            "(install|uninstall, --overlayroot, --data-partition DEVICE)\n"


def test_needs_root_without_a_fake_root():
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    if as_nobody and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: the real install would run")
    with tempfile.TemporaryDirectory() as folder:      # a copy nobody can read (a checkout may be private to root)
        script = Path(folder) / "firmware" / "install.sh"
        script.parent.mkdir()
        shutil.copy(INSTALL, script)
        for path in (Path(folder), script.parent, script):
            path.chmod(0o755)
        result = subprocess.run([*as_nobody, "bash", str(script)], capture_output=True, text=True, timeout=patience(60),
                                env={"PATH": "/usr/bin:/bin"})
    assert result.returncode != 0 and "needs root: sudo make install" in result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed (apt install shellcheck)")
def test_shell_scripts_pass_shellcheck():
    scripts = sorted(str(path) for folder in ("firmware", ".ci") for path in (REPO / folder).glob("*.sh"))
    result = subprocess.run(["shellcheck", *scripts], capture_output=True, text=True, timeout=patience(60))
    assert result.returncode == 0, result.stdout
