"""The ``breakage-pi`` command line: thin wiring over the packages, a module per command group."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, NoReturn, Sequence

from .. import STOP_SIGNALS
from ..core.errors import BreakageError, printable
from . import doctor, midi, nets, run, sound, sync, system, take

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse that escapes what it echoes of a bad command line (an argument may hold terminal codes)."""

    def error(self, message: str) -> NoReturn:
        super().error(printable(message))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="breakage-pi", description="A Raspberry Pi groovebox that learns how you play.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (sound, nets, run, midi, sync, take, system, doctor):
        group.add_commands(commands)
    return parser


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP (systemd stopping us, a terminal closing), handled exactly as Ctrl-C is."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def _stop_signals_like_ctrl_c() -> Iterator[None]:
    """While a command runs, SIGTERM and SIGHUP raise :class:`Stopped` where Ctrl-C raises KeyboardInterrupt;
    any of them held back since start-up (see :mod:`breakage_pi`) is let through once that is so."""

    def stop(signum: int, frame: object) -> None:
        raise Stopped(signum)

    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        if getattr(args, "handles_stop_signals", False):
            code = handler(args)        # it installs its own (run saves and stops), then lets them through
        else:
            with _stop_signals_like_ctrl_c():
                code = handler(args)
        sys.stdout.flush()              # inside the try: a closed pipe shows here, not at interpreter exit
        return code
    except BreakageError as error:
        print(f"breakage-pi: error: {printable(error, 1000)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        return 128 + getattr(stop, "signum", signal.SIGINT)
    except BrokenPipeError:
        # our reader went away (`breakage-pi config | head -1`): stop as a pipeline's writer does, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
