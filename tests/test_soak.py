"""Long soaks, run by `make soak` (skipped by `make test`): the engine under training and edits."""

import pytest

from breakage_pi.bench.engine import soak


@pytest.mark.soak
@pytest.mark.timeout(900)
def test_ten_minutes_at_64_frames_under_training_and_edits():
    figures = soak(600.0, period=64)
    print(figures)
    assert figures["engine.soak.blocks"] == 600 * 48000 // 64
    assert figures["engine.soak.deadline_misses"] == 0
