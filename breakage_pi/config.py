"""The instrument's one TOML config file: where it lives, reading it, printing it.

The settings themselves (frozen dataclasses with documented defaults, and
their validation) are :mod:`breakage_pi.core.settings`, re-exported here.
The file is ``$BREAKAGE_PI_CONFIG`` or ``/etc/breakage-pi.toml``;
``firmware/breakage-pi.toml`` is the commented example. A missing file at
the default location means "all defaults":

>>> parse_config({"audio": {"period": 128}}).audio.period
128
>>> Config().audio.period
64
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

from .core.settings import (AdcConfig, AudioConfig, ButtonsConfig, Config, ConfigError, GridConfig,
                            InstrumentConfig, KnobConfig, parse_config)

__all__ = ["AdcConfig", "AudioConfig", "ButtonsConfig", "Config", "ConfigError", "DEFAULT_CONFIG_PATH",
           "GridConfig", "InstrumentConfig", "KnobConfig", "config_path", "format_config", "load_config", "parse_config"]

DEFAULT_CONFIG_PATH = Path("/etc/breakage-pi.toml")


def config_path() -> Path:
    """Where the config lives: ``$BREAKAGE_PI_CONFIG`` or ``/etc/breakage-pi.toml``."""
    return Path(os.environ.get("BREAKAGE_PI_CONFIG", DEFAULT_CONFIG_PATH))


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the config at ``path`` (default :func:`config_path`).

    A missing file at the default location means "all defaults"; a missing
    file that was asked for by name is an error.
    """
    explicit = path is not None or "BREAKAGE_PI_CONFIG" in os.environ
    target = Path(path) if path is not None else config_path()
    source = str(target)
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        if not explicit:
            return Config()
        raise ConfigError("no such file", source=source) from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read: {error}", source=source) from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"bad TOML: {error}", source=source) from error
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
