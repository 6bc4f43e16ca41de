"""The ``breakage-pi`` command line: thin wiring over the packages, a module per command group."""

from __future__ import annotations

import argparse
import signal
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

from ..core.errors import BreakageError
from . import nets, sound, system

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="breakage-pi", description="A Raspberry Pi groovebox that learns how you play.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (sound, nets, system):
        group.add_commands(commands)
    return parser


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP (systemd stopping us, a terminal closing), handled exactly as Ctrl-C is."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def _stop_signals_like_ctrl_c() -> Iterator[None]:
    """While a command runs, SIGTERM and SIGHUP raise :class:`Stopped` where Ctrl-C raises KeyboardInterrupt."""

    def stop(signum: int, frame: object) -> None:
        raise Stopped(signum)

    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        with _stop_signals_like_ctrl_c():
            return handler(args)
    except BreakageError as error:
        print(f"breakage-pi: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        return 128 + getattr(stop, "signum", signal.SIGINT)


if __name__ == "__main__":
    sys.exit(main())
