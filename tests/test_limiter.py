"""The master limiter: bit-exact under the ceiling, never over it, recovers, the same whatever the block size."""

import numpy as np
import pytest

from breakage_pi.audio.limiter import CEILING, Limiter

RATE = 48000


def _limited(signal: np.ndarray, block: int) -> np.ndarray:
    limiter, out = Limiter(RATE, 256), signal.copy()
    for start in range(0, len(out), block):
        limiter.process(out[start:start + block])
    return out


def _burst() -> np.ndarray:
    """Quiet noise, a burst at 3x full scale for 10 ms, then quiet noise again."""
    signal = np.random.default_rng(0).uniform(-0.3, 0.3, (RATE, 2)).astype(np.float32)
    signal[4800:5280] *= 10.0
    return signal


def test_a_mix_under_the_ceiling_passes_bit_for_bit() -> None:
    quiet = np.random.default_rng(1).uniform(-0.85, 0.85, (RATE // 10, 2)).astype(np.float32)
    assert np.array_equal(_limited(quiet, 64), quiet)


def test_peaks_are_held_at_the_ceiling_and_the_gain_recovers() -> None:
    signal = _burst()
    out = _limited(signal, 64)
    assert np.abs(out).max() == pytest.approx(CEILING, abs=1e-6)
    assert np.abs(out[4800:5280]).max() == pytest.approx(CEILING, abs=1e-6)
    assert np.array_equal(out[:4800], signal[:4800]), "nothing changes before the burst (no look-ahead)"
    gain_after = np.abs(out[5300:5400]).max() / np.abs(signal[5300:5400]).max()
    assert gain_after < 0.5, "right after the burst the gain is still reduced"
    late = slice(RATE // 2, RATE)       # 0.5 s later, six release times
    np.testing.assert_allclose(out[late], signal[late], rtol=0.01)


@pytest.mark.parametrize("block", [1, 63, 256])
def test_limiting_does_not_depend_on_the_block_size(block: int) -> None:
    signal = _burst()
    reference = np.rint(_limited(signal, 64) * 32767)
    assert np.array_equal(np.rint(_limited(signal, block) * 32767), reference)
