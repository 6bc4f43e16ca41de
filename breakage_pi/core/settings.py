"""The instrument's settings: wiring, scan timing, knobs and the audio device, as pure data.

Frozen dataclasses with documented defaults, one per section of the config
file, so each part of the program is handed the section it needs;
:mod:`.config_parse` validates decoded TOML into them, and reading the file is
:mod:`breakage_pi.cli.config_file`'s job (``core`` does no I/O, so ``hw`` and
``audio`` can take these types without depending on file handling). Every
key has a default, so an empty table is a valid config.

Pins are BCM GPIO numbers; times are in the unit their key names
(``_ms``, ``_s``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from .errors import FormatError
from .events import KNOBS



AUTO_PERIOD = "auto"


class ConfigError(FormatError):
    """The config is unreadable, or a key is unknown or has a bad value; the message names the key."""


@dataclass(frozen=True)
class GridConfig:
    """The 4x16 NeoTrellis grid: four boards left to right on one I2C bus.

    ``int_pin`` is the GPIO wired to the boards' shared INT line, or None
    (``false`` in TOML) to poll every ``poll_ms``. The ``*_delay_ms`` are the
    waits between addressing a seesaw register and reading it (Adafruit's
    Arduino driver: 0.5 ms for the key count, 1 ms for the FIFO).
    """

    i2c_bus: int = 1
    frequency: int = 100_000
    addresses: tuple[int, ...] = (0x2E, 0x2F, 0x30, 0x31)
    int_pin: int | None = 17
    brightness: float = 0.5
    count_delay_ms: float = 0.5
    fifo_delay_ms: float = 1.0
    post_count_ms: float = 0.0
    safety_scan_ms: float = 250.0
    poll_ms: float = 5.0
    retries: int = 2
    offline_after: int = 3
    reconnect_s: float = 1.0
    max_fps: float = 30.0


@dataclass(frozen=True)
class ButtonsConfig:
    """PLAY, SHIFT and MODE: pins to ground with the Pi's pull-ups; debounce and hold times."""

    play: int = 5
    shift: int = 6
    mode: int = 13
    debounce_ms: float = 20.0
    hold_ms: float = 800.0


@dataclass(frozen=True)
class AdcConfig:
    """The MCP3008 that reads the pots: SPI port and chip select (``/dev/spidev<port>.<device>``)."""

    spi_port: int = 0
    spi_device: int = 0


@dataclass(frozen=True)
class KnobConfig:
    """One knob: ``kind = "pot"`` on MCP3008 ``channel``, or ``"encoder"`` on pins ``a``/``b`` (+ ``push``).

    Pots are smoothed (one-pole, time constant ``smoothing_ms``) and only
    report moves larger than ``dead_band`` (a fraction of full travel).
    """

    kind: str = "pot"
    channel: int | None = 0
    a: int | None = None
    b: int | None = None
    push: int | None = None
    smoothing_ms: float = 20.0
    dead_band: float = 0.0025


def default_knobs() -> Mapping[str, KnobConfig]:
    """One pot per knob, on ADC channels 0-4 in the order of ``KNOBS``."""
    return MappingProxyType({name: KnobConfig(channel=index) for index, name in enumerate(KNOBS)})


@dataclass(frozen=True)
class AudioConfig:
    """The ALSA output: a ``hw:`` device (never ``default``/dmix), rate in Hz, period in frames.

    ``sim_device`` is what ``run --sim`` plays through on a computer: ALSA's
    ``default`` (PipeWire or PulseAudio on a desktop) unless set; the
    instrument itself always plays through ``device``.

    ``period`` is a number of frames, which pins it, or ``"auto"``: the
    engine measures its own block cost at start and takes the smallest
    period that leaves at least half of each block free, and steps it up if
    its own blocks keep missing their deadlines.
    """

    device: str = "hw:CARD=Headphones,DEV=0"
    sim_device: str = "default"
    rate: int = 48_000
    period: int | str = AUTO_PERIOD
    periods: int = 3


@dataclass(frozen=True)
class InstrumentConfig:
    """The daemon: where the player's files live, whether the transport starts playing, and the kit
    (a folder of ``kits/`` in the data directory; "" = the built-in one) until one is chosen on the grid."""

    data_dir: str = "/var/lib/breakage-pi"
    autoplay: bool = False
    kit: str = ""


@dataclass(frozen=True)
class SyncConfig:
    """USB sync served by the daemon: the serial port (the gadget's ``/dev/ttyGS0``; served only while it
    exists, so a Pi without the gadget just plays), or ``"none"`` to serve nothing."""

    port: str = "/dev/ttyGS0"


@dataclass(frozen=True)
class MidiConfig:
    """Live MIDI: ``out`` is ``"auto"`` (the USB gadget's rawmidi node when there is one), a path (a
    rawmidi node, a FIFO, a file) or ``"none"``; with ``follow_clock`` the tempo and Start/Stop come from
    the MIDI clock arriving on ``clock_in`` (``"auto"``: the gadget's node, or a path).

    Drum notes arriving on ``notes_in`` (as ``clock_in``; one reader when both name the same node) on MIDI
    ``channel`` 1-16 (General MIDI's drum channel 10 by default) play the input rows: ``input`` is
    ``"record"`` (heard at once and written at the nearest step, so the net answers them), ``"play"``
    (heard, not written) or ``"off"`` (ignored)."""

    out: str = "auto"
    follow_clock: bool = False
    clock_in: str = "auto"
    input: str = "record"
    channel: int = 10
    notes_in: str = "auto"


LEARN_MODES = ("auto", "on-train")


@dataclass(frozen=True)
class NetsConfig:
    """How the nets learn from the player's corrections in PERFORM: ``learn = "auto"`` retrains them in the
    background about two seconds after the last correction; ``"on-train"`` keeps the corrections in the bank
    until TRAIN is held."""

    learn: str = "auto"


@dataclass(frozen=True)
class TakesConfig:
    """Takes (``takes/`` in the data directory): with ``auto`` every session is recorded from its first
    PLAY; a take ends, with a message, when the data directory's free space falls below ``floor_mb``
    megabytes (and none starts below it).

    >>> TakesConfig().floor_mb
    200.0
    """

    auto: bool = False
    floor_mb: float = 200.0


@dataclass(frozen=True)
class Config:
    """The whole instrument's config; ``Config()`` is the documented default.

    ``knob_poll_ms`` is how often the pots are read and button holds checked.
    """

    grid: GridConfig = field(default_factory=GridConfig)
    buttons: ButtonsConfig = field(default_factory=ButtonsConfig)
    adc: AdcConfig = field(default_factory=AdcConfig)
    knobs: Mapping[str, KnobConfig] = field(default_factory=default_knobs)
    knob_poll_ms: float = 10.0
    audio: AudioConfig = field(default_factory=AudioConfig)
    instrument: InstrumentConfig = field(default_factory=InstrumentConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    midi: MidiConfig = field(default_factory=MidiConfig)
    nets: NetsConfig = field(default_factory=NetsConfig)
    takes: TakesConfig = field(default_factory=TakesConfig)
