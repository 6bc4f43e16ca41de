"""Breakage Pi: a Raspberry Pi groovebox that learns how you play.

Started as the ``breakage-pi`` command (or ``python -m breakage_pi.cli``),
this first module of the project holds back the stop signals (SIGINT,
SIGTERM, SIGHUP) before anything heavy is imported: one arriving while the
command starts up stays pending until the command's own handlers are in
place (:func:`breakage_pi.cli.main`), and is then handled exactly as at any
later moment. Imported as a library it changes nothing.
"""

import os as _os
import signal as _signal
import sys as _sys

STOP_SIGNALS = frozenset({_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP})
"""Ctrl-C, systemd stopping the service, a terminal closing: every command stops the same way on each."""


def _started_as_the_command() -> bool:
    argv = list(getattr(_sys, "orig_argv", ()))
    return argv[1:2] != [] and (_os.path.basename(argv[1]) == "breakage-pi" or argv[1:3] == ["-m", "breakage_pi.cli"])


if _started_as_the_command():
    _signal.pthread_sigmask(_signal.SIG_BLOCK, STOP_SIGNALS)
