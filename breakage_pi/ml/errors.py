"""Errors of the nets: a bad training set, a bad net file."""

from __future__ import annotations

from ..core.errors import BreakageError, printable


class TrainingError(BreakageError, ValueError):
    """A bank or training set the net cannot be trained on (no slots, no inputs, no outputs...)."""


class NetError(BreakageError, ValueError):
    """A net file is missing, is not ONNX, or does not follow the Breakage Pi net contract.

    ``source`` names the file, so the message a user sees starts with it.
    """

    def __init__(self, message: str, source: str = "") -> None:
        self.message = message
        self.source = source
        super().__init__(f"{printable(source)}: {printable(message)}" if source else printable(message))

    def in_source(self, source: str) -> NetError:
        """The same error, attributed to ``source`` (a file name)."""
        return NetError(self.message, source)
