"""The suite under emulation: `make test-arm64` sets ``BREAKAGE_PI_EMULATION`` (qemu-user runs it ~12x slower).

There, real-time assertions (marker ``realtime``) are skipped and named (see conftest), and every
limit on how long to wait for a process, a thread or a server is :func:`patience` times longer.
"""

from __future__ import annotations

import os

EMULATION = os.environ.get("BREAKAGE_PI_EMULATION", "")
SLOWDOWN = 4 if EMULATION else 1


def patience(seconds: float) -> float:
    """The limit for a wait that takes at most ``seconds`` on real hardware: a hang still ends, later."""
    return seconds * SLOWDOWN
