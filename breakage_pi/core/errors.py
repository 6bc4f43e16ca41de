"""The project's exception hierarchy.

Every error a user can cause derives from :class:`BreakageError`; each also
inherits the builtin that fits, so callers may catch either (as gpiozero does).
"""


class BreakageError(Exception):
    """Base class of every Breakage Pi error."""


class FormatError(BreakageError, ValueError):
    """A value or file does not have the documented shape.

    ``field`` names the offending field as a dotted path (``slots[2].steps[1]``),
    ``source`` the file (or ``"<data>"``) it came from.
    """

    def __init__(self, message: str, field: str = "", source: str = "") -> None:
        self.message = message
        self.field = field
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        where = ": ".join(part for part in (self.source, self.field) if part)
        return f"{where}: {self.message}" if where else self.message

    def in_source(self, source: str) -> "FormatError":
        """The same error, attributed to ``source`` (a file name)."""
        return type(self)(self.message, self.field, source)


class VersionError(FormatError):
    """A file's format version is unknown or newer than this program understands."""


class StoreError(BreakageError, OSError):
    """A file could not be read or written; the message names it."""
