"""The instrument's one TOML config file: where it lives, reading it, printing it.

The settings themselves (frozen dataclasses with documented defaults, and
their validation) are :mod:`breakage_pi.core.settings`, re-exported here.
The file is ``$BREAKAGE_PI_CONFIG`` or ``/etc/breakage-pi.toml``;
``firmware/breakage-pi.toml`` is the commented example. A missing file at
the default location means "all defaults":

>>> parse_config({"audio": {"period": 128}}).audio.period
128
>>> Config().audio.period
'auto'
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

from ..core.errors import FormatError, StoreError
from ..core.settings import (AdcConfig, AudioConfig, ButtonsConfig, Config, ConfigError, GridConfig,
                            InstrumentConfig, KnobConfig, parse_config)
from ..store import read_text

__all__ = ["AdcConfig", "AudioConfig", "ButtonsConfig", "Config", "ConfigError", "DEFAULT_CONFIG_PATH",
           "GridConfig", "InstrumentConfig", "KnobConfig", "config_path", "format_config", "load_config",
           "parse_config"]

DEFAULT_CONFIG_PATH = Path("/etc/breakage-pi.toml")


def config_path() -> Path:
    """Where the config lives: ``$BREAKAGE_PI_CONFIG`` or ``/etc/breakage-pi.toml``.

    ``BREAKAGE_PI_CONFIG=`` (set but empty) is refused rather than read as
    the current folder or silently ignored.
    """
    named = os.environ.get("BREAKAGE_PI_CONFIG")
    if named is None:
        return DEFAULT_CONFIG_PATH
    if not named.strip():
        raise ConfigError("is set but empty: unset it for the default (/etc/breakage-pi.toml) or name a file",
                          source="BREAKAGE_PI_CONFIG")
    return Path(named)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the config at ``path`` (default :func:`config_path`).

    A missing file at the default location means "all defaults"; a missing
    file that was asked for by name is an error.
    """
    explicit = path is not None or "BREAKAGE_PI_CONFIG" in os.environ
    target = Path(path) if path is not None else config_path()
    source = str(target)
    if not explicit and not target.exists():
        return Config()
    try:
        text = read_text(target)
    except FormatError as error:
        raise ConfigError(error.message, source=source) from None
    except StoreError as error:           # its message starts with the file's name
        raise ConfigError(str(error)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"bad TOML: {error}", source=source) from None
    except RecursionError:
        raise ConfigError("bad TOML: nested too deeply", source=source) from None
    except ValueError as error:           # e.g. an integer of more than 4300 digits
        raise ConfigError(f"bad TOML: {error}", source=source) from None
    return parse_config(data, source)


def format_config(config: Config) -> str:
    """``config`` as TOML that :func:`parse_config` reads back to an equal Config (for ``breakage-pi config``)."""
    lines: list[str] = []

    def table(name: str, values: Mapping[str, Any]) -> None:
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml(key, value)}" for key, value in values.items()
                     if value is not None or key == "int_pin")
        lines.append("")

    for name in ("grid", "buttons", "adc"):
        table(name, dataclasses.asdict(getattr(config, name)))
    table("knobs", {"poll_ms": config.knob_poll_ms})
    for name, knob in config.knobs.items():
        values = dataclasses.asdict(knob)
        for unused in (("a", "b", "push") if knob.kind == "pot" else ("channel", "smoothing_ms", "dead_band")):
            values.pop(unused)
        table(f"knobs.{name}", values)
    table("audio", dataclasses.asdict(config.audio))
    table("instrument", dataclasses.asdict(config.instrument))
    table("sync", dataclasses.asdict(config.sync))
    table("midi", dataclasses.asdict(config.midi))
    return "\n".join(lines)


def _toml(key: str, value: Any) -> str:
    if key == "int_pin" and value is None:
        return "false"
    if key == "addresses":
        return "[" + ", ".join(f"0x{address:02X}" for address in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
