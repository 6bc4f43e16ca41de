"""The core's input events, LED frames and soft take-over: pure data and logic."""

from __future__ import annotations

import numpy as np
import pytest

from breakage_pi.core.errors import FormatError
from breakage_pi.core.events import (ButtonEvent, KnobEvent, PadEvent, blank_frame, checked_frame)
from breakage_pi.core.takeover import SoftTakeover


def test_events_are_values():
    assert PadEvent(3, 15, True, 1.5) == PadEvent(3, 15, True, 1.5)
    assert KnobEvent("net", 2.0, value=1.0).delta == 0
    assert KnobEvent("tempo", 2.0, delta=-3).value is None
    with pytest.raises(AttributeError):
        PadEvent(0, 0, True, 0.0).row = 1


@pytest.mark.parametrize("make, message", [
    (lambda: PadEvent(4, 0, True, 0.0), "row 0-3"),
    (lambda: PadEvent(0, 16, True, 0.0), "column 0-15"),
    (lambda: ButtonEvent("play", "tapped", 0.0), "action"),
    (lambda: KnobEvent("velocity", 0.0), "value 0-1 or a non-zero delta"),
    (lambda: KnobEvent("velocity", 0.0, value=0.5, delta=1), "not both"),
    (lambda: KnobEvent("velocity", 0.0, value=1.5), "0-1"),
    (lambda: KnobEvent("velocity", 0.0, value=float("nan")), "0-1"),
])
def test_bad_events_say_what_is_wrong(make, message):
    with pytest.raises(FormatError, match=message):
        make()


def test_frames_are_checked():
    frame = blank_frame()
    assert frame.shape == (4, 16, 3) and frame.dtype == np.uint8 and not frame.any()
    assert checked_frame(frame) is frame
    with pytest.raises(FormatError, match="numpy array"):
        checked_frame([[0] * 16] * 4)
    with pytest.raises(FormatError, match="shape"):
        checked_frame(np.zeros((4, 16, 4), dtype=np.uint8))
    with pytest.raises(FormatError, match="uint8"):
        checked_frame(np.zeros((4, 16, 3), dtype=np.int16))


def test_takeover_waits_for_the_knob_to_cross_from_either_side():
    takeover = SoftTakeover(catch=0.01)
    assert takeover.feed(0.9) == 0.9 and takeover.engaged
    takeover.retarget(0.5)
    assert not takeover.engaged
    assert [takeover.feed(p) for p in (0.8, 0.7, 0.55, 0.45, 0.3)] == [None, None, None, 0.45, 0.3]
    takeover.retarget(0.5)
    assert takeover.feed(0.505) == 0.505  # within the catch window


def test_takeover_picks_up_a_jump_across_the_target():
    takeover = SoftTakeover(catch=0.0)
    takeover.feed(0.1)
    takeover.retarget(0.5)
    assert takeover.feed(0.9) == 0.9  # the knob went from 0.1 to 0.9: it passed 0.5
