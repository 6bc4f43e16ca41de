"""The daemon's own error."""

from __future__ import annotations

from ..core.errors import BreakageError


class AppError(BreakageError, RuntimeError):
    """The daemon cannot run (the audio process died, the hardware failed to come up)."""
