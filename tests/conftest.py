"""Shared pytest set-up: the test builders importable, gpiozero's mock pins as a fixture, and the
suite under emulation (``BREAKAGE_PI_EMULATION``, set by `make test-arm64`): real-time assertions
(marker ``realtime``) skipped and listed, every other test given more time."""

import gc
import sys
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

sys.path.insert(0, str(Path(__file__).parent))

from emulation import EMULATION, SLOWDOWN  # noqa: E402 (importable once the path is set)


@pytest.fixture
def factory():
    """gpiozero's MockFactory as the pin factory for one test (x86 has no real one)."""
    saved = Device.pin_factory
    Device.pin_factory = MockFactory()
    yield Device.pin_factory
    Device.pin_factory.reset()
    Device.pin_factory = saved
    gc.collect()  # finalise closed gpiozero shared SPI objects before the next test reuses their pins


def pytest_collection_modifyitems(config, items):
    """Under emulation a real-time assertion measures the emulator, not this code: skip it, by name.

    The other tests run as they are, with pytest-timeout's limits scaled by :data:`emulation.SLOWDOWN`."""
    if not EMULATION:
        return
    skip = pytest.mark.skip(reason=f"realtime: a real-time assertion, skipped under emulation ({EMULATION})")
    default = config.getini("timeout")
    for item in items:
        if item.get_closest_marker("realtime"):
            item.add_marker(skip)
            continue
        marker = item.get_closest_marker("timeout")
        seconds = float(marker.args[0]) if marker and marker.args else float(default or 0)
        if seconds:
            item.add_marker(pytest.mark.timeout(seconds * SLOWDOWN), append=False)


def pytest_terminal_summary(terminalreporter):
    """Name and count the real-time assertions emulation skipped."""
    if not EMULATION:
        return
    skipped = [report.nodeid for report in terminalreporter.stats.get("skipped", [])
               if "realtime:" in str(report.longrepr)]
    terminalreporter.write_sep("-", f"emulation ({EMULATION}): {len(skipped)} real-time assertion(s) skipped, "
                                    f"timeouts x{SLOWDOWN}")
    for nodeid in skipped:
        terminalreporter.write_line(f"skipped (realtime): {nodeid}")
