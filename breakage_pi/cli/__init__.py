"""The ``breakage-pi`` command line: thin wiring over the packages, a module per command group."""

from __future__ import annotations

import argparse
import sys
from typing import Callable, NoReturn, Sequence

from ..core.errors import BreakageError, printable
from . import doctor, midi, nets, run, sound, sync, system

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse that escapes what it echoes of a bad command line (an argument may hold terminal codes)."""

    def error(self, message: str) -> NoReturn:
        super().error(printable(message))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="breakage-pi", description="A Raspberry Pi groovebox that learns how you play.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (sound, nets, run, midi, sync, system, doctor):
        group.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except BreakageError as error:
        print(f"breakage-pi: error: {printable(error, 1000)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
