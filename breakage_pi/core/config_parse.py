"""Validating decoded TOML into :mod:`.settings`' typed sections.

Unknown keys and bad values raise :class:`~.settings.ConfigError` naming the key:

>>> parse_config({"grid": {"int_pin": 40}})
Traceback (most recent call last):
...
breakage_pi.core.settings.ConfigError: grid.int_pin: must be a BCM GPIO number 0-27, got 40
>>> parse_config({"audio": {"period": 128}}).audio.period
128
>>> parse_config({}).audio.period
'auto'
"""

from __future__ import annotations

import dataclasses
import math
from types import MappingProxyType
from typing import Any, Callable, Mapping

from .events import BUTTONS, KNOBS
from .settings import (AUTO_PERIOD, AdcConfig, AudioConfig, ButtonsConfig, Config, ConfigError, GridConfig,
                       InstrumentConfig, KnobConfig, MidiConfig, NetsConfig, SyncConfig, TakesConfig, LEARN_MODES,
                       default_knobs)

KNOB_KINDS = ("pot", "encoder")
_I2C1_PINS = {2: "I2C-1 SDA, the grid's bus", 3: "I2C-1 SCL, the grid's bus"}
_SPI_PINS = {0: {9: "SPI0 MISO", 10: "SPI0 MOSI", 11: "SPI0 SCLK"},
             1: {19: "SPI1 MISO", 20: "SPI1 MOSI", 21: "SPI1 SCLK"}}
_SPI_SELECT = {0: (8, 7), 1: (18, 17, 16)}


Check = Callable[[Any, str], Any]


def _integer(low: int, high: int, what: str = "") -> Check:
    def check(value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"must be {what or 'an integer'} {low}-{high}, got {value!r}", key)
        return value
    return check


def _number(low: float, high: float, unit: str = "") -> Check:
    def check(value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or (isinstance(value, float) and not math.isfinite(value)) or not low <= value <= high:
            raise ConfigError(f"must be a number {low:g}-{high:g}{unit}, got {value!r}", key)
        return float(value)
    return check


_pin = _integer(0, 27, "a BCM GPIO number")


def _optional_pin(value: Any, key: str) -> int | None:
    if value is False:
        return None
    return _pin(value, key)


def _address(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0x08 <= value <= 0x77:
        shown = f"0x{value:02X}" if isinstance(value, int) and not isinstance(value, bool) else repr(value)
        raise ConfigError(f"must be a 7-bit I2C address 0x08-0x77, got {shown}", key)
    return value


def _addresses(value: Any, key: str) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) != 4:
        raise ConfigError(f"must list the 4 boards' addresses, left to right, got {value!r}", key)
    addresses = tuple(_address(item, f"{key}[{index}]") for index, item in enumerate(value))
    if len(set(addresses)) != len(addresses):
        raise ConfigError(f"addresses must be distinct, got {[f'0x{a:02X}' for a in addresses]}", key)
    return addresses


def _device(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"must be an ALSA device name such as 'hw:CARD=Headphones,DEV=0', got {value!r}", key)
    if value == "default" or "dmix" in value:
        raise ConfigError(f"{value!r} goes through ALSA's plug/dmix layer, which imposes its own period; "
                          "name the card, e.g. 'hw:CARD=Headphones,DEV=0' (see `aplay -L`)", key)
    return value


def _sim_device(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"must be an ALSA device name such as 'default' or 'hw:CARD=PCH,DEV=0', got {value!r}", key)
    return value


def _kind(value: Any, key: str) -> str:
    if value not in KNOB_KINDS:
        raise ConfigError(f"must be \"pot\" or \"encoder\", got {value!r}", key)
    return value


_GRID: dict[str, Check] = {
    "i2c_bus": _integer(0, 255, "an I2C bus number"),
    "frequency": _integer(10_000, 400_000, "a bus clock in Hz,"),
    "addresses": _addresses,
    "int_pin": _optional_pin,
    "brightness": _number(0.0, 1.0),
    "count_delay_ms": _number(0.0, 20.0, " ms"),
    "fifo_delay_ms": _number(0.0, 20.0, " ms"),
    "post_count_ms": _number(0.0, 20.0, " ms"),
    "safety_scan_ms": _number(20.0, 5000.0, " ms"),
    "poll_ms": _number(1.0, 100.0, " ms"),
    "retries": _integer(0, 10),
    "offline_after": _integer(1, 100),
    "reconnect_s": _number(0.05, 60.0, " s"),
    "max_fps": _number(1.0, 60.0, " frames/s"),
}
_BUTTONS: dict[str, Check] = {
    **{name: _pin for name in BUTTONS},
    "debounce_ms": _number(0.0, 200.0, " ms"),
    "hold_ms": _number(0.0, 10_000.0, " ms (0 = no hold events)"),
}
_ADC: dict[str, Check] = {"spi_port": _integer(0, 1, "an SPI port"), "spi_device": _integer(0, 2, "a chip select")}
_KNOB: dict[str, Check] = {
    "kind": _kind,
    "channel": _integer(0, 7, "an MCP3008 channel"),
    "a": _pin,
    "b": _pin,
    "push": _optional_pin,
    "smoothing_ms": _number(0.0, 1000.0, " ms"),
    "dead_band": _number(0.0, 0.2),
}
def _period(value: Any, key: str) -> int | str:
    if value == AUTO_PERIOD:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not 16 <= value <= 4096:
        raise ConfigError(f"must be \"auto\" or a period in frames, 16-4096, got {value!r}", key)
    return value


_AUDIO: dict[str, Check] = {
    "device": _device,
    "sim_device": _sim_device,
    "rate": _integer(8_000, 192_000, "a sample rate in Hz,"),
    "period": _period,
    "periods": _integer(2, 4, "a period count"),
}
def _boolean(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"must be true or false, got {value!r}", key)
    return value


def _folder(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"must be a folder path, got {value!r}", key)
    return value


def _kit_name(value: Any, key: str) -> str:
    if not isinstance(value, str) or "/" in value or value in (".", ".."):
        raise ConfigError(f"must be the name of a folder in kits/ (\"\" for the built-in kit), got {value!r}", key)
    return value


def _node(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"must be \"auto\", \"none\" or a device path such as '/dev/snd/midiC1D0', got {value!r}",
                          key)
    return value


NOTE_INPUTS = ("record", "play", "off")


def _note_mode(value: Any, key: str) -> str:
    if value not in NOTE_INPUTS:
        raise ConfigError(f"must be \"record\", \"play\" or \"off\", got {value!r}", key)
    return value


def _port(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"must be a serial device path such as '/dev/ttyGS0' or \"none\", got {value!r}", key)
    return value


def _learn(value: Any, key: str) -> str:
    if value not in LEARN_MODES:
        raise ConfigError(f"must be \"auto\" or \"on-train\", got {value!r}", key)
    return value


_INSTRUMENT: dict[str, Check] = {"data_dir": _folder, "autoplay": _boolean, "kit": _kit_name}
_SYNC: dict[str, Check] = {"port": _port}
_MIDI: dict[str, Check] = {"out": _node, "follow_clock": _boolean, "clock_in": _node, "input": _note_mode,
                           "channel": _integer(1, 16, "a MIDI channel"), "notes_in": _node}
_NETS: dict[str, Check] = {"learn": _learn}
_TAKES: dict[str, Check] = {"auto": _boolean, "floor_mb": _number(0, 1_000_000, " MB")}
_TOP = ("grid", "buttons", "adc", "knobs", "audio", "instrument", "sync", "midi", "nets", "takes")


def _table(data: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError(f"must be a table ([{key}]), got {type(data).__name__}", key)
    return data


def _section(data: Any, key: str, checks: Mapping[str, Check], default: Any,
             extra: Mapping[str, Any] | None = None) -> Any:
    table = _table(data, key)
    values = dict(extra or {})
    for name, value in table.items():
        if name not in checks:
            raise ConfigError(f"unknown key (known: {', '.join(checks)})", f"{key}.{name}")
        values[name] = checks[name](value, f"{key}.{name}")
    return dataclasses.replace(default, **values)


def _knob(data: Any, key: str, default: KnobConfig) -> KnobConfig:
    table = _table(data, key)
    kind = _kind(table.get("kind", default.kind), f"{key}.kind")
    if kind == "encoder":
        for pin in ("a", "b"):
            if pin not in table:
                raise ConfigError("an encoder needs pins a and b", f"{key}.{pin}")
        if "channel" in table:
            raise ConfigError("an encoder has no MCP3008 channel; remove it or set kind = \"pot\"", f"{key}.channel")
        return _section(table, key, _KNOB, default, {"channel": None})
    for pin in ("a", "b", "push"):
        if pin in table:
            raise ConfigError("a pot has no encoder pins; remove it or set kind = \"encoder\"", f"{key}.{pin}")
    return _section(table, key, _KNOB, default)


def _knobs(data: Any) -> tuple[Mapping[str, KnobConfig], float]:
    table = _table(data, "knobs")
    knobs = dict(default_knobs())
    poll_ms = Config.knob_poll_ms
    for name, value in table.items():
        if name == "poll_ms":
            poll_ms = _number(1.0, 100.0, " ms")(value, "knobs.poll_ms")
        elif name in knobs:
            knobs[name] = _knob(value, f"knobs.{name}", knobs[name])
        else:
            raise ConfigError(f"unknown key (knobs: {', '.join(KNOBS)}; setting: poll_ms)", f"knobs.{name}")
    return MappingProxyType(knobs), poll_ms


def parse_config(data: Mapping[str, Any], source: str = "") -> Config:
    """Validate decoded TOML into a :class:`Config`; errors name the key (and ``source``)."""
    try:
        for name in data:
            if name not in _TOP:
                raise ConfigError(f"unknown section (known: {', '.join(_TOP)})", name)
        knobs, knob_poll_ms = _knobs(data.get("knobs", {}))
        config = Config(
            grid=_section(data.get("grid", {}), "grid", _GRID, GridConfig()),
            buttons=_section(data.get("buttons", {}), "buttons", _BUTTONS, ButtonsConfig()),
            adc=_section(data.get("adc", {}), "adc", _ADC, AdcConfig()),
            knobs=knobs,
            knob_poll_ms=knob_poll_ms,
            audio=_section(data.get("audio", {}), "audio", _AUDIO, AudioConfig()),
            instrument=_section(data.get("instrument", {}), "instrument", _INSTRUMENT, InstrumentConfig()),
            sync=_section(data.get("sync", {}), "sync", _SYNC, SyncConfig()),
            midi=_section(data.get("midi", {}), "midi", _MIDI, MidiConfig()),
            nets=_section(data.get("nets", {}), "nets", _NETS, NetsConfig()),
            takes=_section(data.get("takes", {}), "takes", _TAKES, TakesConfig()),
        )
        _check_pins(config)
        _check_channels(config)
    except ConfigError as error:
        raise error.in_source(source) if source else error
    return config


def _check_pins(config: Config) -> None:
    """Each GPIO is used once, and not one the I2C bus or the ADC's SPI port needs."""
    reserved: dict[int, str] = {}
    if config.grid.i2c_bus == 1:
        reserved.update(_I2C1_PINS)
    if any(knob.kind == "pot" for knob in config.knobs.values()):
        port, device = config.adc.spi_port, config.adc.spi_device
        if device >= len(_SPI_SELECT[port]):
            raise ConfigError(f"SPI port {port} has chip selects 0-{len(_SPI_SELECT[port]) - 1}", "adc.spi_device")
        reserved.update({pin: f"{use}, the ADC's bus" for pin, use in _SPI_PINS[port].items()})
        reserved[_SPI_SELECT[port][device]] = f"SPI{port} CE{device}, the ADC's chip select"
    used: dict[int, str] = {}
    pins = [("grid.int_pin", config.grid.int_pin)]
    pins += [(f"buttons.{name}", getattr(config.buttons, name)) for name in BUTTONS]
    for name, knob in config.knobs.items():
        pins += [(f"knobs.{name}.{pin}", getattr(knob, pin)) for pin in ("a", "b", "push")]
    for key, pin in pins:
        if pin is None:
            continue
        if pin in reserved:
            raise ConfigError(f"GPIO{pin} is {reserved[pin]}", key)
        if pin in used:
            raise ConfigError(f"GPIO{pin} is already used by {used[pin]}", key)
        used[pin] = key


def _check_channels(config: Config) -> None:
    used: dict[int, str] = {}
    for name, knob in config.knobs.items():
        if knob.kind == "pot":
            if knob.channel in used:
                raise ConfigError(f"MCP3008 channel {knob.channel} is already used by {used[knob.channel]}",
                                  f"knobs.{name}.channel")
            used[knob.channel] = f"knobs.{name}"
