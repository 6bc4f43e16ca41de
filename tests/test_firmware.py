"""The Pi-side fragments agree with the config defaults and are safe to append to any config.txt."""

import re
from pathlib import Path

from breakage_pi.cli.config_file import Config

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"


def settings(text: str) -> list[str]:
    return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]


def test_config_txt_runs_i2c_at_the_configured_clock_and_ends_unfiltered():
    lines = settings((FIRMWARE / "config.txt").read_text())
    assert f"dtparam=i2c_arm_baudrate={Config().grid.frequency}" in lines
    assert lines[0] == "[all]" and lines[-1] == "[all]"    # nothing after the merged block inherits a filter


def test_dwc2_only_where_there_is_an_otg_port_and_the_pi4_core_clock_is_fixed():
    sections: dict[str, list[str]] = {}
    current = "[all]"
    for line in settings((FIRMWARE / "config.txt").read_text()):
        if re.fullmatch(r"\[\w+\]", line):
            current = line
        else:
            sections.setdefault(current, []).append(line)
    with_gadget = {name for name, lines in sections.items() if any(line.startswith("dtoverlay=dwc2") for line in lines)}
    assert with_gadget == {"[pi4]", "[pi5]", "[pi02]"}
    assert {"core_freq=500", "core_freq_min=500"} <= set(sections["[pi4]"])


def test_every_firmware_file_says_which_models_it_is_for():
    for path in [*FIRMWARE.glob("*.txt"), *FIRMWARE.glob("*.sh"), *FIRMWARE.glob("*.rules"),
                 *FIRMWARE.parent.glob("systemd/*.service")]:
        head = "\n".join(path.read_text().splitlines()[:6])
        assert re.search(r"Pi 4|all (Pi )?models", head, re.IGNORECASE), f"{path.name} does not name the Pi models"
