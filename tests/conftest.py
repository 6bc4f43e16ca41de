"""Shared pytest set-up: the test builders importable, gpiozero's mock pins as a fixture."""

import gc
import sys
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def factory():
    """gpiozero's MockFactory as the pin factory for one test (x86 has no real one)."""
    saved = Device.pin_factory
    Device.pin_factory = MockFactory()
    yield Device.pin_factory
    Device.pin_factory.reset()
    Device.pin_factory = saved
    gc.collect()  # finalise closed gpiozero shared SPI objects before the next test reuses their pins
