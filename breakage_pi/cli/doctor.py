"""``breakage-pi doctor``: check the machine is ready to be the instrument, with a fix for each problem."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_commands(commands: Any) -> None:
    """Register ``doctor`` on the ``breakage-pi`` subcommand parser."""
    doctor = commands.add_parser("doctor", help="check I2C, the grid, SPI, audio, limits, groups, data dir, USB")
    doctor.add_argument("--config", type=Path, metavar="FILE.toml",
                        help="default: $BREAKAGE_PI_CONFIG or /etc/breakage-pi.toml (absent: all defaults)")
    doctor.add_argument("--data", type=Path, default=Path("/var/lib/breakage-pi"), metavar="DIR",
                        help="the data directory (default: %(default)s)")
    doctor.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from .doctor_checks import PROBLEM, Machine, diagnose, report

    findings = diagnose(Machine(data_dir=args.data), args.config)
    print(report(findings))
    return 1 if any(finding.status == PROBLEM for finding in findings) else 0
