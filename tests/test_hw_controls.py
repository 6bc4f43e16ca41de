"""Buttons and knobs over gpiozero's MockFactory: the real Button pins, RotaryEncoder and MCP3008."""

from __future__ import annotations

import time

import pytest

from breakage_pi.cli.config_file import Config, parse_config
from breakage_pi.core.events import ButtonEvent, KnobEvent
from breakage_pi.core.takeover import SoftTakeover
from breakage_pi.hw import Controls, HardwareError
from breakage_pi.hw.sim import EmulatedMCP3008, turn
from emulation import patience

PLAY, SHIFT, MODE = 5, 6, 13


class Clock:
    def __init__(self):
        self.now = 10.0

    def __call__(self):
        return self.now


@pytest.fixture
def adc(factory):
    """The emulated MCP3008 must own the SPI pins before gpiozero opens them."""
    return EmulatedMCP3008()


class Panel:
    def __init__(self, config=None):
        self.clock = Clock()
        self.events = []
        self.controls = Controls(config or Config(), self.events.append, clock=self.clock)

    def buttons(self):
        return [(e.name, e.action, e.time) for e in self.events if isinstance(e, ButtonEvent)]

    def knobs(self, name):
        return [e for e in self.events if isinstance(e, KnobEvent) and e.name == name]

    def at(self, now, *actions):
        self.clock.now = now
        for action in actions:
            action()


@pytest.fixture
def panel(adc):
    panel = Panel()
    yield panel
    panel.controls.close()


def test_a_press_is_reported_at_once_and_chatter_is_ignored(panel, factory):
    pin = factory.pin(PLAY)
    panel.at(10.000, pin.drive_low)
    assert panel.buttons() == [("play", "pressed", 10.000)]
    for t in (10.002, 10.004, 10.006):  # the contact bounces
        panel.at(t, pin.drive_high, pin.drive_low)
    panel.at(10.030, panel.controls.poll)
    panel.at(0.5 + 10, pin.drive_high)
    panel.at(10.501, pin.drive_low, pin.drive_high)
    panel.at(10.530, panel.controls.poll)
    assert panel.buttons() == [("play", "pressed", 10.000), ("play", "released", 10.5)]


def test_a_tap_shorter_than_the_debounce_window_still_releases(panel, factory):
    pin = factory.pin(SHIFT)
    panel.at(10.000, pin.drive_low)
    panel.at(10.008, pin.drive_high)  # inside the 20 ms window: not reported yet
    panel.at(10.010, panel.controls.poll)
    assert panel.buttons() == [("shift", "pressed", 10.000)]
    panel.at(10.025, panel.controls.poll)
    assert panel.buttons() == [("shift", "pressed", 10.000), ("shift", "released", 10.025)]


def test_a_long_press_is_reported_once_then_released(panel, factory):
    pin = factory.pin(MODE)
    panel.at(10.0, pin.drive_low)
    for t in (10.2, 10.5, 10.79):
        panel.at(t, panel.controls.poll)
    assert [action for _, action, _ in panel.buttons()] == ["pressed"]
    for t in (10.8, 10.9, 12.0):
        panel.at(t, panel.controls.poll)
    panel.at(12.1, pin.drive_high)
    assert panel.buttons() == [("mode", "pressed", 10.0), ("mode", "held", 10.8), ("mode", "released", 12.1)]


def test_hold_can_be_switched_off(adc, factory):
    panel = Panel(parse_config({"buttons": {"hold_ms": 0}}))
    try:
        panel.at(10.0, factory.pin(PLAY).drive_low)
        panel.at(20.0, panel.controls.poll)
        assert [action for _, action, _ in panel.buttons()] == ["pressed"]
    finally:
        panel.controls.close()


ENCODERS = {"knobs": {"tempo": {"kind": "encoder", "a": 22, "b": 23, "push": 24},
                      "net": {"kind": "encoder", "a": 25, "b": 26}}}


def test_encoders_report_direction_and_count(adc, factory):
    panel = Panel(parse_config(ENCODERS))
    try:
        a, b = factory.pin(22), factory.pin(23)
        panel.at(11.0, lambda: turn(a, b, 3))
        panel.at(12.0, lambda: turn(a, b, -2, chatter=True))
        panel.at(13.0, lambda: turn(factory.pin(25), factory.pin(26), -1))
        assert [(e.delta, e.time) for e in panel.knobs("tempo")] == [(1, 11.0)] * 3 + [(-1, 12.0)] * 2
        assert all(e.value is None for e in panel.knobs("tempo"))
        assert [e.delta for e in panel.knobs("net")] == [-1]
    finally:
        panel.controls.close()


def test_an_encoder_push_is_a_debounced_button(adc, factory):
    panel = Panel(parse_config(ENCODERS))
    try:
        push = factory.pin(24)
        panel.at(10.0, push.drive_low, push.drive_high, push.drive_low)
        panel.at(10.3, push.drive_high)
        assert panel.buttons() == [("tempo.push", "pressed", 10.0), ("tempo.push", "released", 10.3)]
    finally:
        panel.controls.close()


def poll_for(panel, seconds, step=0.005):
    for _ in range(round(seconds / step)):
        panel.clock.now += step
        panel.controls.poll()


def test_a_resting_pot_does_not_jitter(panel, adc):
    adc.positions[0] = 0.3
    poll_for(panel, 0.2)
    settled = len(panel.knobs("velocity"))
    assert panel.knobs("velocity")[-1].value == pytest.approx(0.3, abs=0.005)
    for index in range(200):  # +-1 LSB of ADC noise
        adc.positions[0] = 0.3 + (1 if index % 2 else -1) / 1023
        poll_for(panel, 0.005)
    assert len(panel.knobs("velocity")) == settled


def test_a_turned_pot_is_smoothed_and_reaches_its_ends(panel, adc):
    poll_for(panel, 0.05)
    adc.positions[0] = 0.5
    poll_for(panel, 0.3)
    values = [e.value for e in panel.knobs("velocity")]
    assert values == sorted(values) and values[0] < 0.5  # approaches, no overshoot
    assert values[-1] == pytest.approx(0.5, abs=0.005)
    adc.positions[0] = 0.0  # gpiozero reads raw 0 as 0.0005
    poll_for(panel, 0.3)
    assert panel.knobs("velocity")[-1].value == 0.0
    adc.positions[0] = 1.0
    poll_for(panel, 0.3)
    assert panel.knobs("velocity")[-1].value == 1.0
    assert all(isinstance(e.value, float) and e.delta == 0 for e in panel.knobs("velocity"))


def test_each_pot_reports_under_its_own_name(panel, adc):
    for channel, position in enumerate((0.1, 0.2, 0.3, 0.4, 0.9)):
        adc.positions[channel] = position
    poll_for(panel, 0.3)
    for name, position in zip(("velocity", "tempo", "swing", "volume", "net"), (0.1, 0.2, 0.3, 0.4, 0.9)):
        assert panel.knobs(name)[-1].value == pytest.approx(position, abs=0.005)


def test_soft_takeover_picks_a_value_up_when_the_pot_passes_it(panel, adc):
    adc.positions[0] = 0.3
    poll_for(panel, 0.2)
    takeover = SoftTakeover()
    takeover.retarget(0.8)  # e.g. a held step whose velocity is 0.8
    applied = []
    for position in (0.4, 0.5, 0.6, 0.7, 0.85, 0.9, 0.6):
        adc.positions[0] = position
        start = len(panel.knobs("velocity"))
        poll_for(panel, 0.2)
        for event in panel.knobs("velocity")[start:]:
            value = takeover.feed(event.value)
            if value is not None:
                applied.append(value)
    assert applied[0] >= 0.8 - takeover.catch  # nothing applied before the knob reached 0.8
    assert applied[-1] == pytest.approx(0.6, abs=0.005)  # and it follows down again


def test_the_controls_thread_polls_until_closed(adc, factory):
    events = []
    controls = Controls(Config(), events.append)
    controls.start()
    adc.positions[4] = 0.7
    deadline = time.monotonic() + patience(10)
    while not any(isinstance(e, KnobEvent) and e.name == "net" and abs(e.value - 0.7) < 0.01 for e in events):
        assert time.monotonic() < deadline
        time.sleep(0.005)
    controls.close()


def test_a_pin_in_use_names_the_key(adc, factory):
    factory.pin(PLAY)
    blocker = Controls(Config(), print)
    try:
        with pytest.raises(HardwareError, match="buttons.play"):
            Controls(Config(), print)
    finally:
        blocker.close()
