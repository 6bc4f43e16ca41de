"""The shipped default kit: reproducible from its script, well-formed, and each drum where it belongs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from breakage_pi.audio import drumsynth

NAMES = ("kick", "snare", "open_hat", "closed_hat")
SHIPPED = Path(drumsynth.__file__).resolve().parent.parent / "data" / "kit"


@pytest.fixture(scope="module")
def kit() -> dict[str, np.ndarray]:
    """The shipped WAVs as float64, 1.0 = int16 full scale (as every reader sees them)."""
    return {name: soundfile.read(str(SHIPPED / f"{name}.wav"), dtype="float64")[0] for name in NAMES}


def _time_to(x: np.ndarray, db: float, rate: int = 48000) -> float:
    """Seconds until the last sample louder than ``db`` relative to the peak."""
    peak = np.abs(x).max()
    return float(np.nonzero(np.abs(x) >= peak * 10.0 ** (db / 20.0))[0][-1]) / rate


def _centroid(x: np.ndarray, rate: int = 48000) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    return float((power * np.fft.rfftfreq(x.size, 1.0 / rate)).sum() / power.sum())


def test_regenerating_gives_the_shipped_bytes(tmp_path: Path) -> None:
    written = drumsynth.write_kit(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{n}.wav" for n in NAMES)
    for name in NAMES:
        assert (tmp_path / f"{name}.wav").read_bytes() == (SHIPPED / f"{name}.wav").read_bytes(), name


def test_synthesis_returns_float64_mono_in_range() -> None:
    kit = drumsynth.synthesize_kit(48000)
    assert tuple(kit) == NAMES
    for name, x in kit.items():
        assert x.dtype == np.float64 and x.ndim == 1, name
        assert np.abs(x).max() <= 1.0, name
        assert np.array_equal(drumsynth.to_pcm16(x), (soundfile.read(str(SHIPPED / f"{name}.wav"),
                                                                     dtype="int16")[0])), name


@pytest.mark.parametrize("name", NAMES)
def test_file_format(name: str) -> None:
    info = soundfile.info(str(SHIPPED / f"{name}.wav"))
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", "PCM_16", 48000, 1)


@pytest.mark.parametrize("name", NAMES)
def test_peak_onset_and_clean_end(kit: dict[str, np.ndarray], name: str) -> None:
    x = kit[name]
    peak = np.abs(x).max()
    assert -1.5 <= 20.0 * np.log10(peak) <= -0.5
    assert x[-1] == 0.0  # faded out to exactly zero: no click when the voice ends
    assert np.all(np.abs(x[-8:]) < 1e-3)  # ...and smoothly, not by a final jump
    # Sample-accurate onset: audible within the first 3 samples, full strength within 1 ms.
    assert np.nonzero(np.abs(x) > 0.05 * peak)[0][0] <= 2
    assert np.abs(x[:48]).max() >= 0.5 * peak


def test_durations(kit: dict[str, np.ndarray]) -> None:
    seconds = {name: kit[name].size / 48000 for name in NAMES}
    assert 0.4 <= seconds["kick"] <= 0.7
    assert 0.2 <= seconds["snare"] <= 0.35
    assert 0.5 <= seconds["open_hat"] <= 0.8
    assert 0.06 <= seconds["closed_hat"] <= 0.12


def test_each_drum_has_its_energy_where_it_belongs(kit: dict[str, np.ndarray]) -> None:
    centroid = {name: _centroid(kit[name]) for name in NAMES}
    assert centroid["kick"] < 200.0  # the 50-150 Hz body dominates the click
    assert centroid["kick"] * 5 < centroid["snare"] < 0.5 * min(centroid["open_hat"], centroid["closed_hat"])
    assert min(centroid["open_hat"], centroid["closed_hat"]) > 5000.0
    # The kick's strongest frequency is low; the snare's body partials are present.
    spectrum = np.abs(np.fft.rfft(kit["kick"]))
    assert 40.0 <= np.fft.rfftfreq(kit["kick"].size, 1 / 48000)[spectrum.argmax()] <= 120.0
    snare = np.abs(np.fft.rfft(kit["snare"]))
    freqs = np.fft.rfftfreq(kit["snare"].size, 1 / 48000)
    low = snare[(freqs > 100) & (freqs < 500)]
    assert freqs[(freqs > 100) & (freqs < 500)][low.argmax()] == pytest.approx(180.0, abs=15.0)


def test_closed_hat_is_much_shorter_than_open_hat(kit: dict[str, np.ndarray]) -> None:
    closed, opened = _time_to(kit["closed_hat"], -40.0), _time_to(kit["open_hat"], -40.0)
    assert closed <= 0.1
    assert opened >= 0.3
    assert opened > 4 * closed
