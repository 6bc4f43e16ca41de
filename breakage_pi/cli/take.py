"""``breakage-pi take``: what a recorded take holds (takes are recorded by the instrument, pulled with ``sync``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_commands(commands: Any) -> None:
    """Register ``take`` on the ``breakage-pi`` subcommand parser."""
    take = commands.add_parser("take", help="look into a recorded take (a folder of takes/)")
    actions = take.add_subparsers(dest="take_command", required=True, metavar="ACTION")
    stats = actions.add_parser("stats", help="a take's length, bars per slot, corrections, the net's changes, "
                                             "hits and xruns")
    stats.add_argument("folder", type=Path, metavar="DIR", help="the take's folder (takes/<name> or a pulled copy)")
    stats.set_defaults(handler=_stats)


def _stats(args: argparse.Namespace) -> int:
    from ..daemon.take_stats import take_stats

    print("\n".join(take_stats(args.folder).lines()))
    return 0
