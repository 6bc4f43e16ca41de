"""Talking to systemd: readiness, status lines and a watchdog heartbeat that proves progress.

The sd_notify protocol is one datagram of ``KEY=VALUE`` lines to the
AF_UNIX socket named by ``$NOTIFY_SOCKET`` (a leading ``@`` means Linux's
abstract namespace); with the variable unset (not started by systemd) every
call is a no-op. The ``sdnotify`` package has been unmaintained since 2017
and the protocol is this small, so it lives here.

A heartbeat from a free-running thread proves nothing, so :class:`Heartbeat`
sends ``WATCHDOG=1`` only when every progress counter it watches (the audio
side's block counter, the control loop's iterations) has moved since its
previous check:

>>> blocks = iter(range(10**9))
>>> heartbeat = Heartbeat({"audio blocks": lambda: next(blocks), "control loop": lambda: 7})
>>> heartbeat.beat(), heartbeat.beat()   # baseline, then the control loop is stuck: no ping
(False, False)
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Callable, Mapping

log = logging.getLogger(__name__)

Progress = Callable[[], int]


def notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``message`` (``"READY=1"``, ``"STATUS=..."``, newline-separated lines) to systemd.

    Returns True when sent, False when not under systemd or the socket
    refused it (logged: a daemon must not die because its supervisor is
    unreachable; the watchdog will notice if that matters).
    """
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode("utf-8"))
    except OSError as error:
        log.warning("cannot notify systemd at %s: %s", address.lstrip("\0"), error)
        return False
    return True


def notify_ready(status: str = "", environ: Mapping[str, str] | None = None) -> bool:
    """Tell systemd start-up is done (send only once the PCM is open and primed), with a status line."""
    return notify("READY=1" + (f"\nSTATUS={status}" if status else ""), environ)


def notify_status(status: str, environ: Mapping[str, str] | None = None) -> bool:
    """A one-line diagnostic shown by ``systemctl status breakage-pi``."""
    return notify(f"STATUS={status}", environ)


def notify_stopping(environ: Mapping[str, str] | None = None) -> bool:
    """Tell systemd the daemon is shutting down (on SIGTERM), so a slow stop is not a hang."""
    return notify("STOPPING=1", environ)


def watchdog_interval_s(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between heartbeats: half of ``$WATCHDOG_USEC``; None when no watchdog is asked of this process."""
    env = os.environ if environ is None else environ
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2e6 if usec > 0 else None


class Heartbeat:
    """Pings the systemd watchdog only while every named progress counter advances.

    ``progress`` maps a name (said in the STATUS line when it sticks) to a
    callable returning a counter that grows while that part works, e.g.
    ``{"audio blocks": status.blocks, "control loop": lambda: loop.iterations}``.
    :meth:`beat` checks once; :meth:`start` checks every ``interval_s``
    (default: half of ``$WATCHDOG_USEC``) on a daemon thread. Each watched
    part must advance at least once per interval.
    """

    def __init__(self, progress: Mapping[str, Progress], interval_s: float | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self._progress = dict(progress)
        self._environ = environ
        self.interval_s = interval_s if interval_s is not None else watchdog_interval_s(environ)
        self._last: dict[str, int] | None = None
        self._stuck: tuple[str, ...] = ()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> bool:
        """Read the counters; send ``WATCHDOG=1`` if all moved since the previous check. True when sent."""
        now = {name: read() for name, read in self._progress.items()}
        previous, self._last = self._last, now
        if previous is None:
            return False
        stuck = tuple(name for name in now if now[name] == previous[name])
        if stuck != self._stuck:
            self._stuck = stuck
            message = f"STATUS=stalled: {', '.join(stuck)} not advancing" if stuck else "STATUS=playing"
            notify(message, self._environ)
            if stuck:
                log.error("%s not advancing: withholding the watchdog heartbeat", ", ".join(stuck))
        return not stuck and notify("WATCHDOG=1", self._environ)

    def start(self) -> bool:
        """Check on a daemon thread every ``interval_s``; False (nothing started) when no watchdog is set."""
        if self.interval_s is None or self._thread is not None:
            return False
        self._thread = threading.Thread(target=self._run, name="watchdog-heartbeat", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        """Stop checking (before STOPPING=1) and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.beat()
