"""Errors of the hardware layer."""

from ..core.errors import BreakageError


class HardwareError(BreakageError, OSError):
    """A bus or pin the config names cannot be opened; the message says which and why."""
