"""The project's exception hierarchy.

Every error a user can cause derives from :class:`BreakageError`; each also
inherits the builtin that fits, so callers may catch either (as gpiozero does).
"""


MESSAGE_LIMIT = 300
"""Characters of one message part before it is shortened (a 4000-digit number or name helps nobody)."""


def printable(text: object, limit: int = MESSAGE_LIMIT) -> str:
    r"""``text`` safe to print on a terminal: control characters escaped, the middle of a long text elided.

    Names and values come from files a user (or anyone) wrote; a slot name
    holding an escape sequence must not clear the terminal.

    >>> printable("a\x1b[2Jb")
    'a\\x1b[2Jb'
    """
    shown = "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
                    for char in str(text))
    if len(shown) > limit:
        keep = max(limit // 2 - 2, 1)
        shown = f"{shown[:keep]}…{shown[-keep:]} ({len(shown)} characters)"
    return shown


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
        where = ": ".join(printable(part) for part in (self.source, self.field) if part)
        message = printable(self.message)
        return f"{where}: {message}" if where else message

    def in_source(self, source: str) -> "FormatError":
        """The same error, attributed to ``source`` (a file name)."""
        return type(self)(self.message, self.field, source)


class VersionError(FormatError):
    """A file's format version is unknown or newer than this program understands."""


class StoreError(BreakageError, OSError):
    """A file could not be read or written; the message names it."""
