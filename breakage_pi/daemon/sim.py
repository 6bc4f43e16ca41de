"""The emulated panel for the simulator and scripted sessions: the real hardware classes over the emulated bus
and mock pins (only the bus is fake)."""

from __future__ import annotations

import time
from typing import Any, Callable

from ..core.events import InputEvent
from ..core.instrument import Instrument
from ..core.settings import Config
from .errors import AppError


def sim_hardware(config: Config, state: Instrument, sink: Callable[[InputEvent], None],
                 clock: Callable[[], float], frequency: int | None,
                 firmware: Any = None) -> tuple[Any, Any, Callable[[], None]]:
    """The emulated rig for ``config``'s wiring and the real hardware classes over it, and what puts
    gpiozero's pin factory back afterwards; the emulated pots are where ``state.json`` says they were left.
    ``firmware``, a :class:`~breakage_pi.hw.sim.clock.FastForwardClock`, runs the boards' firmware (None:
    real time)."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    from ..hw import Hardware
    from ..hw.sim import SimRig
    from ..hw.sim.pins import SimPinFactory

    previous = Device.pin_factory
    ours = not isinstance(previous, MockFactory)
    if ours:
        Device.pin_factory = SimPinFactory()          # pins that forget old states: the simulator runs for hours

    def restore() -> None:
        if ours:
            Device.pin_factory.reset()
            Device.pin_factory = previous

    if firmware is None:
        rig = SimRig(config, frequency=frequency)
        hardware_clocks: dict[str, Any] = {"clock": clock}
    else:
        rig = SimRig(config, frequency=frequency, clock=firmware)
        hardware_clocks = {"clock": clock, "grid_sleep": firmware.sleep}
    rig.start()
    for name, knob in state.knobs.items():
        if knob.position is not None and rig.knob_position(name) is not None:
            rig.knob(name, knob.position)
    return rig, Hardware(config, sink, bus=rig.bus, **hardware_clocks), restore


def show_now(hardware: Any, state: Instrument) -> None:
    """Give a new grid the frame the state machine already drew (it only sends changes)."""
    if state.frame is not None:
        hardware.show(state.frame)


def bring_up(grid: Any, timeout: float = 10.0) -> None:
    """Step the grid until every board has come up (the library resets each for 0.5 s, in parallel)."""
    deadline = time.monotonic() + timeout
    while not all(grid.online):
        if time.monotonic() > deadline:
            raise AppError("the emulated grid did not come up")
        grid.step()
        time.sleep(0.01)
