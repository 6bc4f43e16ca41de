"""Commands about the machine itself: ``config`` and ``bench``."""

from __future__ import annotations

import argparse
from typing import Any

from .args import input_path


def add_commands(commands: Any) -> None:
    """Register ``config`` and ``bench`` on the ``breakage-pi`` subcommand parser."""
    config = commands.add_parser("config", help="check a config file and print the settings in force")
    config.add_argument("file", nargs="?", type=input_path, metavar="FILE.toml",
                        help="default: $BREAKAGE_PI_CONFIG or /etc/breakage-pi.toml (absent: all defaults)")
    config.set_defaults(handler=_config)

    bench = commands.add_parser("bench", help="run benchmarks and print figures")
    bench.add_argument("sections", nargs="*", metavar="SECTION", help="sections to run (default: all)")
    bench.add_argument("--json", action="store_true", help="print one JSON object of figures")
    bench.set_defaults(handler=_bench)


def _config(args: argparse.Namespace) -> int:
    from .config_file import config_path, format_config, load_config

    config = load_config(args.file)
    where = args.file or config_path()
    absent = args.file is None and not where.exists()      # then load_config gave the defaults
    print(f"# {where}: {'not there; the defaults are in force' if absent else 'valid; the settings in force'}:\n")
    print(format_config(config), end="")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from .. import bench

    return bench.run(args.sections, args.json)
