"""The instrument's pure model: patterns, banks, the step clock. No I/O, no threads."""

from .bank import Bank, Slot, bank_from_data, bank_to_data
from .clock import SAMPLE_RATE, StepClock
from .errors import BreakageError, FormatError, VersionError
from .pattern import CHANNELS, STEPS, Pattern

__all__ = [
    "Bank", "Slot", "bank_from_data", "bank_to_data", "SAMPLE_RATE", "StepClock",
    "BreakageError", "FormatError", "VersionError", "CHANNELS", "STEPS", "Pattern",
]
