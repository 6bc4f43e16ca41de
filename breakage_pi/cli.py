"""The ``breakage-pi`` command line: thin wiring over the packages."""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from .core.errors import BreakageError

Handler = Callable[[argparse.Namespace], int]


def _bench(args: argparse.Namespace) -> int:
    from . import bench

    return bench.run(args.sections, args.json)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="breakage-pi", description="A Raspberry Pi groovebox that learns how you play.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    bench = commands.add_parser("bench", help="run benchmarks and print figures")
    bench.add_argument("sections", nargs="*", metavar="SECTION", help="sections to run (default: all)")
    bench.add_argument("--json", action="store_true", help="print one JSON object of figures")
    bench.set_defaults(handler=_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except BreakageError as error:
        print(f"breakage-pi: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
