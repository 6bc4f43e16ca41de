from pathlib import Path

import numpy as np

from builders import read_wav

from breakage_pi.cli import main
from breakage_pi.core.clock import StepClock

MODELS = Path(__file__).resolve().parent.parent / "models"


def test_demo_prints_every_slot_and_renders_them_with_the_net(tmp_path, capsys):
    out = tmp_path / "demo.wav"
    assert main(["demo", "--bars", "1", "--out", str(out), "--net", str(MODELS / "net-medium.onnx")]) == 0
    text = capsys.readouterr().out
    assert text.count("then the net writes the open_hat and closed_hat") == 6
    assert "slot 6: four on the floor (not trained on)" in text and str(out.resolve()) in text
    pcm, rate = read_wav(out)
    one_bar = StepClock(112.0, 0.56).step_start(16)
    assert rate == 48000 and len(pcm) == 12 * one_bar and pcm.any()


def test_the_demo_never_reaches_full_scale_and_peaks_where_a_listener_expects(tmp_path):
    """Kick and snare land together in 'four on the floor': the master limiter keeps them under -1 dBFS."""
    out = tmp_path / "demo.wav"
    assert main(["demo", "--bars", "2", "--out", str(out), "--net", str(MODELS / "net-medium.onnx")]) == 0
    pcm, _ = read_wav(out)
    peak = int(np.abs(pcm.astype(int)).max())
    assert peak < 32767
    assert -3.0 <= 20 * np.log10(peak / 32768) <= -0.99
