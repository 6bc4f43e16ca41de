from pathlib import Path

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
