"""Errors of the hardware layer."""

from ..core.errors import BreakageError


class HardwareError(BreakageError, OSError):
    """A bus or pin the config names cannot be opened; the message says which and why."""


class DriverFault(BreakageError, OSError):
    """A vendor driver raised something other than an I2C error; the grid counts it against that board."""
