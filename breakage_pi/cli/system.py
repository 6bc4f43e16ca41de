"""Commands about the machine itself: ``config``, ``bench`` and ``overlay``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .args import input_path


def add_commands(commands: Any) -> None:
    """Register ``config``, ``bench`` and ``overlay`` on the ``breakage-pi`` subcommand parser."""
    config = commands.add_parser("config", help="check a config file and print the settings in force")
    config.add_argument("file", nargs="?", type=input_path, metavar="FILE.toml",
                        help="default: $BREAKAGE_PI_CONFIG or /etc/breakage-pi.toml (absent: all defaults)")
    config.set_defaults(handler=_config)

    bench = commands.add_parser("bench", help="run benchmarks and print figures")
    bench.add_argument("sections", nargs="*", metavar="SECTION", help="sections to run (default: all)")
    bench.add_argument("--json", action="store_true", help="print one JSON object of figures")
    bench.set_defaults(handler=_bench)

    overlay = commands.add_parser("overlay", help="write pictures of the panel and the SHIFT page (SVG, real size)")
    overlay.add_argument("folder", type=Path, metavar="DIR", help="where panel.svg and shift-page.svg go")
    overlay.set_defaults(handler=_overlay)


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


def _overlay(args: argparse.Namespace) -> int:
    from ..core.overlay import panel_svg, shift_page_svg
    from ..store import atomic_write_bytes

    for name, svg in (("panel.svg", panel_svg()), ("shift-page.svg", shift_page_svg())):
        atomic_write_bytes(args.folder / name, svg.encode())
        print(f"wrote {args.folder / name}")
    return 0
