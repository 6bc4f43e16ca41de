"""The panel: PLAY, SHIFT, MODE buttons and the five knobs, over gpiozero.

Buttons are wired to ground with the Pi's pull-ups and debounced here
(:class:`~.debounce.Debouncer`; gpiozero's own ``bounce_time`` is not
emulated by its mock pins). Each knob is a pot on an MCP3008 channel,
smoothed and dead-banded (:class:`~.pot_filter.PotFilter`), or a rotary
encoder (gpiozero ``RotaryEncoder``, whose quadrature state machine already
rejects contact chatter) with an optional push button named
``<knob>.push``.

Buttons and encoders report from gpiozero's edge callbacks, which run on a
gpiozero thread on a Pi; pots are polled every ``knob_poll_ms`` by
:meth:`Controls.poll` (on the controls thread after :meth:`Controls.start`),
which also settles debounce windows and fires long presses. Events go to
``sink`` as :class:`~breakage_pi.core.events.ButtonEvent` and
:class:`~breakage_pi.core.events.KnobEvent` (pot: ``value`` 0-1; encoder:
``delta`` +1 clockwise, -1 counter-clockwise). Soft take-over of a pot that
edits many values is the core's (:class:`breakage_pi.core.takeover.SoftTakeover`):
only it knows which value the knob edits now.

>>> from gpiozero import Device
>>> from gpiozero.pins.mock import MockFactory
>>> from breakage_pi.core.settings import Config
>>> Device.pin_factory = MockFactory()
>>> events = []
>>> controls = Controls(Config(), events.append, clock=lambda: 1.0)
>>> Device.pin_factory.pin(5).drive_low()   # PLAY pressed
>>> events
[ButtonEvent(name='play', action='pressed', time=1.0)]
>>> controls.close()
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from functools import partial
from typing import Any, Callable

from gpiozero import MCP3008, DigitalInputDevice, GPIOZeroError, RotaryEncoder

from ..core.settings import Config
from ..core.events import BUTTONS, EventSink, KnobEvent
from .debounce import Debouncer
from .errors import HardwareError
from .pot_filter import PotFilter

log = logging.getLogger(__name__)


class Controls:
    """The buttons and knobs of ``config``; ``clock`` stamps events (s), ``pin_factory`` is gpiozero's."""

    def __init__(self, config: Config, sink: EventSink, *, pin_factory: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sink = sink
        self._clock = clock
        self._period = config.knob_poll_ms / 1000
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._devices: list[Any] = []
        self._buttons: list[tuple[DigitalInputDevice, Debouncer]] = []
        self._pots: list[tuple[str, MCP3008, PotFilter]] = []
        debounce, hold = config.buttons.debounce_ms / 1000, config.buttons.hold_ms / 1000
        try:
            for name in BUTTONS:
                self._add_button(name, f"buttons.{name}", getattr(config.buttons, name), debounce, hold,
                                 pin_factory)
            for name, knob in config.knobs.items():
                if knob.kind == "pot":
                    adc = self._open(f"knobs.{name}", MCP3008, channel=knob.channel, port=config.adc.spi_port,
                                     device=config.adc.spi_device, pin_factory=pin_factory)
                    self._pots.append((name, adc, PotFilter(knob.smoothing_ms / 1000, knob.dead_band)))
                    continue
                encoder = self._open(f"knobs.{name}", RotaryEncoder, knob.a, knob.b, max_steps=0,
                                     pin_factory=pin_factory)
                encoder.when_rotated_clockwise = partial(self._turned, name, 1)
                encoder.when_rotated_counter_clockwise = partial(self._turned, name, -1)
                if knob.push is not None:
                    self._add_button(f"{name}.push", f"knobs.{name}.push", knob.push, debounce, hold,
                                     pin_factory)
        except HardwareError:
            self.close()
            raise

    def _open(self, key: str, kind: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            device = kind(*args, **kwargs)
        except GPIOZeroError as error:
            raise HardwareError(f"{key}: cannot open {kind.__name__}: {error}") from error
        self._devices.append(device)
        return device

    def _add_button(self, name: str, key: str, pin: int, debounce: float, hold: float, pin_factory: Any) -> None:
        device = self._open(key, DigitalInputDevice, pin, pull_up=True, pin_factory=pin_factory)
        debouncer = Debouncer(name, debounce, hold)
        device.when_activated = partial(self._edge, debouncer, True)
        device.when_deactivated = partial(self._edge, debouncer, False)
        self._buttons.append((device, debouncer))

    def _edge(self, debouncer: Debouncer, pressed: bool) -> None:
        with self._lock:
            for event in debouncer.edge(pressed, self._clock()):
                self._sink(event)

    def _turned(self, name: str, delta: int) -> None:
        self._sink(KnobEvent(name, self._clock(), delta=delta))

    def poll(self) -> None:
        """Read the pots and settle the buttons once; the controls thread calls this every ``knob_poll_ms``."""
        with self._lock:
            now = self._clock()
            for device, debouncer in self._buttons:
                for event in debouncer.tick(bool(device.is_active), now):
                    self._sink(event)
        for name, adc, smoothing in self._pots:
            try:
                raw = adc.value
            except OSError as error:
                log.warning("knob %s: ADC read failed: %s", name, error)
                continue
            now = self._clock()
            value = smoothing.feed(raw, now)
            if value is not None:
                self._sink(KnobEvent(name, now, value=value))

    def start(self) -> None:
        """Poll on the controls thread until :meth:`close`; returns at once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="controls", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self._period):
            try:
                self.poll()
            except Exception:  # the controls thread must outlive any surprise: log it and carry on
                log.exception("controls: unexpected error; carrying on")

    def close(self) -> None:
        """Stop polling and release every pin."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        for device in reversed(self._devices):
            device.close()
        self._devices.clear()
        # gpiozero's shared SPI interface sits in a reference cycle; if the cyclic GC
        # finalises it after a new one was opened on the same pins, its second close
        # unregisters the new one. Finalise it now, while nothing shares its key.
        gc.collect()
