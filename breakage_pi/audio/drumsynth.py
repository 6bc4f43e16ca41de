"""The default kit: four analog-style drums synthesised in numpy, bit-for-bit reproducible.

Run ``python -m breakage_pi.audio.drumsynth [DIR]`` to (re)write ``kick.wav``,
``snare.wav``, ``open_hat.wav`` and ``closed_hat.wav`` (48 kHz, mono, 16-bit)
into DIR, by default the kit shipped in the package.

Why the odd maths: the same bytes must come out on every machine (x86 or a
Pi, any numpy, any libm). Elementwise ``+ - * /``, ``floor``, ``ldexp`` and
comparisons are exact under IEEE 754 everywhere, while ``np.sin``/``np.exp``
use SIMD or libm code that may differ in the last bit between platforms.
So sine and exponential are small polynomials here, filters are plain
sequential loops, noise is ``Generator.random`` (no ziggurat tails calling
``log``), no reductions that depend on summation order, and float to int16
rounding is done here rather than left to the installed libsndfile.

Example::

    >>> kit = synthesize_kit(48000)
    >>> sorted(kit), kit["kick"].dtype
    (['closed_hat', 'kick', 'open_hat', 'snare'], dtype('float64'))
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import numpy as np
import soundfile

RATE = 48000
NAMES = ("kick", "snare", "open_hat", "closed_hat")
PEAK = 0.8912509381337456  # -1 dBFS, written out so no pow() is involved
_TWO_PI = 6.283185307179586
_LN2 = 0.6931471805599453
_INV_LN2 = 1.4426950408889634
# Roland TR-808 hi-hat/cymbal square-wave oscillators (Hz): inharmonic, hence "metallic".
_HAT_OSCILLATORS = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)


# --- exact-everywhere building blocks ------------------------------------------------

def _sin_cycles(cycles: np.ndarray | float) -> np.ndarray:
    """sin(2*pi*cycles) by range reduction and a degree-15 Taylor polynomial (error < 1e-11)."""
    c = np.asarray(cycles, dtype=np.float64)
    u = c - np.floor(c + 0.5)                 # [-0.5, 0.5) cycles
    u = np.where(u > 0.25, 0.5 - u, u)         # fold onto [-0.25, 0.25] by symmetry
    u = np.where(u < -0.25, -0.5 - u, u)
    x = u * _TWO_PI
    x2 = x * x
    p = np.full_like(x, 1.0 / float(math.factorial(15)))
    for k in (13, 11, 9, 7, 5, 3):
        p = p * x2 * (-1.0)
        p = p + 1.0 / float(math.factorial(k))
    p = p * x2 * (-1.0)
    return (p + 1.0) * x


def _exp(x: np.ndarray | float) -> np.ndarray:
    """e**x via x = k*ln2 + r, |r| <= ln2/2, a degree-13 Taylor polynomial and an exact ldexp."""
    x = np.clip(np.asarray(x, dtype=np.float64), -700.0, 700.0)
    k = np.floor(x * _INV_LN2 + 0.5)
    r = x - k * _LN2
    p = np.full_like(r, 1.0)
    for n in range(13, 0, -1):
        p = p * r / float(n) + 1.0
    return np.ldexp(p, k.astype(np.intc))


def _decay(t: np.ndarray, tau: float) -> np.ndarray:
    """Exponential envelope e**(-t/tau): the discharge of an analog drum's envelope capacitor."""
    return _exp(t * (-1.0 / tau))


def _time(seconds: float, rate: int) -> np.ndarray:
    """Sample times in seconds for a sound lasting ``seconds``."""
    return np.arange(int(round(seconds * rate)), dtype=np.float64) / float(rate)


def _noise(n: int, seed: int) -> np.ndarray:
    """White noise in [-1, 1) from a fixed seed: uniform doubles are a stable, exact stream."""
    return np.random.default_rng(seed).random(n) * 2.0 - 1.0


def _biquad(x: np.ndarray, b: tuple[float, float, float], a: tuple[float, float]) -> np.ndarray:
    """Direct-form I biquad, sample by sample in Python floats (order of operations fixed)."""
    b0, b1, b2 = b
    a1, a2 = a
    x1 = x2 = y1 = y2 = 0.0
    out = []
    for xi in x.tolist():
        yi = b0 * xi + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        x2, x1, y2, y1 = x1, xi, y1, yi
        out.append(yi)
    return np.array(out, dtype=np.float64)


def _rbj(kind: str, freq: float, q: float, rate: int) -> tuple[tuple[float, float, float], tuple[float, float]]:
    """Audio-EQ-cookbook coefficients (normalised by a0) for "lowpass", "highpass" or "bandpass"."""
    w = freq / rate
    sin_w = float(_sin_cycles(w))
    cos_w = float(_sin_cycles(w + 0.25))
    alpha = sin_w / (2.0 * q)
    a0 = 1.0 + alpha
    if kind == "lowpass":
        b = ((1.0 - cos_w) / 2.0, 1.0 - cos_w, (1.0 - cos_w) / 2.0)
    elif kind == "highpass":
        b = ((1.0 + cos_w) / 2.0, -(1.0 + cos_w), (1.0 + cos_w) / 2.0)
    elif kind == "bandpass":  # constant 0 dB peak gain
        b = (alpha, 0.0, -alpha)
    else:
        raise ValueError(f"unknown filter kind {kind!r}")
    return (b[0] / a0, b[1] / a0, b[2] / a0), (-2.0 * cos_w / a0, (1.0 - alpha) / a0)


def _filter(x: np.ndarray, kind: str, freq: float, rate: int, q: float = 0.7071067811865476) -> np.ndarray:
    """Second-order low/high/band-pass of ``x`` at ``freq`` Hz."""
    b, a = _rbj(kind, freq, q, rate)
    return _biquad(x, b, a)


def _square(freq: float, n: int, rate: int) -> np.ndarray:
    """Band-limited (PolyBLEP) square wave in [-1, 1]: the 808's oscillators without aliasing hash."""
    dt = freq / rate
    phase = np.arange(n, dtype=np.float64) * dt
    phase = phase - np.floor(phase)

    def blep(p: np.ndarray) -> np.ndarray:
        rise = p / dt
        fall = (p - 1.0) / dt
        return np.where(p < dt, rise + rise - rise * rise - 1.0,
                        np.where(p > 1.0 - dt, fall * fall + fall + fall + 1.0, 0.0))

    half = phase + 0.5
    half = half - np.floor(half)
    return np.where(phase < 0.5, 1.0, -1.0) + blep(phase) - blep(half)


def _soft_clip(x: np.ndarray) -> np.ndarray:
    """tanh-like saturation (Pade approximant, exactly +-1 beyond +-3): analog drive, rounder tops."""
    x = np.clip(x, -3.0, 3.0)
    x2 = x * x
    return x * (27.0 + x2) / (27.0 + 9.0 * x2)


def _finish(x: np.ndarray, rate: int, attack: int, fade_seconds: float) -> np.ndarray:
    """Ramp in over ``attack`` samples, smoothstep out to exactly 0, then peak-normalise to -1 dBFS.

    The ramp is a few samples at most, so the onset stays sample-accurate; the
    fade removes the click an abruptly truncated tail would make.
    """
    x = x.copy()
    if attack > 0:
        x[:attack] *= np.arange(1, attack + 1, dtype=np.float64) / float(attack + 1)
    m = int(round(fade_seconds * rate))
    s = np.arange(m - 1, -1, -1, dtype=np.float64) / float(m - 1)  # 1 -> 0
    x[-m:] *= s * s * (3.0 - 2.0 * s)
    x[-1] = 0.0
    x = x * (PEAK / float(np.max(np.abs(x))))
    return np.clip(x, -1.0, 1.0)


# --- the four drums -------------------------------------------------------------------

def kick(rate: int = RATE) -> np.ndarray:
    """Kick: a driven sine falling 150 -> 50 Hz in ~30 ms, a noise click on top, ~0.5 s long.

    The quick pitch drop is the "punch", the low settle gives weight on a PA,
    the saturation fattens the first cycles, and a 1 ms click lets it cut
    through on small speakers. The body starts at phase 0; the click supplies
    the sample-0 transient.
    """
    t = _time(0.5, rate)
    tau_pitch = 0.03
    cycles = 50.0 * t + 100.0 * tau_pitch * (1.0 - _decay(t, tau_pitch))
    body = _soft_clip(_sin_cycles(cycles) * _decay(t, 0.09) * 2.0)
    click = _filter(_noise(t.size, 1), "highpass", 1800.0, rate) * _decay(t, 0.0009)
    thump = _sin_cycles(t * 1400.0 + 0.25) * _decay(t, 0.0012)  # starts at +1: the beater
    return _finish(body + 0.45 * click + 0.25 * thump, rate, attack=0, fade_seconds=0.06)


def snare(rate: int = RATE) -> np.ndarray:
    """Snare: two drum-head partials (~180/330 Hz) plus band-passed snare-wire noise, ~0.25 s.

    The partials drop a few percent as they ring (a struck head), the lower
    one rings longer; the noise is band-passed around 4 kHz (bright, not
    hissy) and outlasts the body, which is the snap of an 808/909 snare.
    """
    t = _time(0.25, rate)
    bend = 1.0 + 0.06 * _decay(t, 0.012)
    tone = (0.8 * _sin_cycles(180.0 * t * bend) * _decay(t, 0.055)
            + 0.5 * _sin_cycles(330.0 * t * bend) * _decay(t, 0.035))
    wires = _filter(_noise(t.size, 2), "bandpass", 4200.0, rate, q=0.55)
    wires = _filter(wires, "highpass", 1200.0, rate)
    wires = _filter(wires, "lowpass", 10000.0, rate)
    wires = wires * _decay(t, 0.06)
    return _finish(tone + 1.6 * wires, rate, attack=2, fade_seconds=0.03)


def _hat(rate: int, seconds: float, tau: float, fade_seconds: float, seed: int) -> np.ndarray:
    """808-style hat: six detuned squares through a high band-pass and a high-pass, plus air noise."""
    t = _time(seconds, rate)
    metal = np.zeros_like(t)
    for freq in _HAT_OSCILLATORS:
        metal = metal + _square(freq, t.size, rate)
    source = metal * (1.0 / 6.0) + 0.1 * _noise(t.size, seed)
    tone = _filter(source, "bandpass", 8000.0, rate, q=1.2)
    tone = _filter(tone, "highpass", 6500.0, rate)
    return _finish(tone * _decay(t, tau), rate, attack=2, fade_seconds=fade_seconds)


def closed_hat(rate: int = RATE) -> np.ndarray:
    """Closed hat: the metallic hat voice with a tight ~15 ms decay (-40 dB by ~60 ms), 0.1 s."""
    return _hat(rate, 0.1, 0.015, 0.02, seed=3)


def open_hat(rate: int = RATE) -> np.ndarray:
    """Open hat: the same metallic voice left ringing (~0.11 s decay constant), 0.65 s."""
    return _hat(rate, 0.65, 0.11, 0.12, seed=4)


# --- the kit --------------------------------------------------------------------------

def synthesize_kit(rate: int = RATE) -> dict[str, np.ndarray]:
    """All four drums as float64 mono arrays in [-1, 1], keyed by channel name."""
    makers = {"kick": kick, "snare": snare, "open_hat": open_hat, "closed_hat": closed_hat}
    return {name: makers[name](rate) for name in NAMES}


def to_pcm16(x: np.ndarray) -> np.ndarray:
    """Float in [-1, 1] to int16, round half to even: our rounding, not libsndfile's."""
    return np.rint(np.clip(x, -1.0, 1.0) * 32767.0).astype(np.int16)


def write_kit(directory: str | os.PathLike[str], rate: int = RATE) -> list[Path]:
    """Write ``<name>.wav`` (mono, PCM_16) for each drum into ``directory``; return the paths."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, samples in synthesize_kit(rate).items():
        path = folder / f"{name}.wav"
        soundfile.write(str(path), to_pcm16(samples), rate, subtype="PCM_16", format="WAV")
        paths.append(path)
    return paths


def default_directory() -> Path:
    """Where the shipped kit lives: ``breakage_pi/data/kit``."""
    return Path(__file__).resolve().parent.parent / "data" / "kit"


def main(argv: list[str] | None = None) -> int:
    """Command line: write the kit into DIR (default: the package's data/kit)."""
    parser = argparse.ArgumentParser(prog="python -m breakage_pi.audio.drumsynth",
                                     description="Synthesise the default Breakage Pi drum kit.")
    parser.add_argument("directory", nargs="?", type=Path, default=default_directory(),
                        help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    for path in write_kit(args.directory):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
