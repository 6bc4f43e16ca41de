"""Long soaks, run by `make soak` (skipped by `make test`): the engine under training and edits.

Robustness is asserted, and that every deadline miss is explained (engine or
machine); timing (how many misses, block latency) is measured and printed,
as in `breakage-pi bench engine`, never asserted.
"""

import pytest

from breakage_pi.audio.engine import MISS_HISTORY
from breakage_pi.bench.engine import soak


@pytest.mark.soak
@pytest.mark.timeout(900)
def test_ten_minutes_at_64_frames_under_training_and_edits():
    figures = soak(600.0, period=64)
    print(figures)
    assert figures["engine.soak.blocks"] == 600 * 48000 // 64       # the engine never stopped or skipped
    assert figures["engine.soak.edits"] >= 600 * 45                  # the control side kept sending
    assert figures["engine.soak.training_epochs"] > 100_000          # and training kept running beside it
    explained = figures["engine.soak.misses_engine"] + figures["engine.soak.misses_machine"]
    assert explained == min(figures["engine.soak.deadline_misses"], MISS_HISTORY)   # every miss has a cause
