"""libasound's own error lines go to the project's log at debug level, never straight to the terminal.

libasound prints ``ALSA lib confmisc.c:165:(snd_config_get_card) Cannot get
card index for …`` on stderr before it returns an error code (a missing card
printed 48 such lines), and the project then says the same in one line of its
own. ``snd_lib_error_set_handler`` replaces that printer for the process.

The C handler is variadic, ``void (*)(const char *file, int line, const char
*function, int err, const char *fmt, ...)``; ctypes cannot make a variadic
callback, so the handler takes the five fixed arguments and ignores the rest,
which is sound where variadic and fixed arguments are passed alike (x86-64,
AArch64 and 32-bit ARM on Linux, as every caller of this trick relies on).
The message is logged as its format string, unexpanded.

>>> route_libasound_errors() is not None     # libasound is installed here
True
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os

log = logging.getLogger(__name__)

_ERROR_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)


def _log_libasound_error(file: bytes | None, line: int, function: bytes | None, err: int, fmt: bytes | None) -> None:
    """Called by libasound in the thread that called it; must never raise (ctypes would print a traceback)."""
    if log.isEnabledFor(logging.DEBUG):
        reason = f": {os.strerror(abs(err))}" if err else ""
        log.debug("libasound %s:%d (%s) %s%s", _text(file), line, _text(function), _text(fmt).strip(), reason)


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8", "replace")


@functools.cache
def route_libasound_errors() -> object | None:
    """Install the handler once per process, before any PCM is opened; None where libasound is missing.

    The returned callback is kept alive by the cache: libasound holds only a
    raw pointer to it, and a collected callback would crash the next error.
    """
    try:
        library = ctypes.CDLL("libasound.so.2")
    except OSError:
        return None
    handler = _ERROR_HANDLER(_log_libasound_error)
    library.snd_lib_error_set_handler.argtypes = [_ERROR_HANDLER]
    library.snd_lib_error_set_handler.restype = ctypes.c_int
    library.snd_lib_error_set_handler(handler)
    return handler
