import numpy as np
import pytest
import soundfile
from builders import write_kit

from breakage_pi.audio.kit import load_kit, load_sample
from breakage_pi.cli import main
from breakage_pi.core import FormatError
from breakage_pi.core.pattern import DEFAULT_CHANNEL_NAMES


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT"])
@pytest.mark.parametrize("channels", [1, 2])
def test_reads_int_and_float_mono_and_stereo(tmp_path, subtype, channels):
    data = np.zeros((480, channels), dtype=np.float32)
    data[0] = 0.5
    write_kit(tmp_path, {"kick": data}, subtype=subtype)
    sample = load_sample(tmp_path / "kick.wav")
    assert sample.shape == (480, 2) and sample.dtype == np.float32 and sample.flags.c_contiguous
    assert abs(sample[0, 0] - 0.5) < 1e-4 and abs(sample[0, 1] - 0.5) < 1e-4


def test_resamples_to_48k(tmp_path):
    tone = np.sin(2 * np.pi * 1000 * np.arange(44100) / 44100).astype(np.float32)
    write_kit(tmp_path, {"kick": tone}, rate=44100)
    sample = load_sample(tmp_path / "kick.wav")
    assert abs(len(sample) - 48000) <= 1
    spectrum = np.abs(np.fft.rfft(sample[:48000, 0]))
    assert abs(np.argmax(spectrum) - 1000) <= 1


def test_default_kit_loads():
    kit = load_kit()
    assert kit.names == DEFAULT_CHANNEL_NAMES and all(len(s) > 1000 for s in kit.samples)


@pytest.mark.parametrize("make,words", [
    (lambda p: p.write_bytes(b"RIFF....WAVEgarbage"), "not a readable audio file"),
    (lambda p: p.write_bytes(b""), "not a readable audio file"),
    (lambda p: soundfile.write(str(p), np.zeros((10, 3)), 48000), "3 channels"),
    (lambda p: soundfile.write(str(p), np.zeros((0, 1)), 48000), "no audio frames"),
    (lambda p: soundfile.write(str(p), np.full(10, np.nan), 48000, subtype="FLOAT"), "NaN"),
    (lambda p: soundfile.write(str(p), np.zeros(8000 * 11), 8000), "longer than"),
])
def test_bad_files_get_a_clear_error_naming_them(tmp_path, make, words):
    path = tmp_path / "snare.wav"
    make(path)
    with pytest.raises(FormatError) as caught:
        load_sample(path)
    assert str(path) in str(caught.value) and words in str(caught.value)


def test_missing_sample_and_folder(tmp_path):
    write_kit(tmp_path, {"kick": np.zeros(10)})
    with pytest.raises(FormatError, match="snare.wav: missing sample file"):
        load_kit(tmp_path)
    with pytest.raises(FormatError, match="kit folder not found"):
        load_kit(tmp_path / "nowhere")


def test_cli_reports_a_bad_kit_without_a_traceback(tmp_path, capsys):
    from builders import bank_file
    from breakage_pi.core import Pattern
    bank = bank_file(tmp_path / "bank.json", Pattern())
    (tmp_path / "kit").mkdir()
    assert main(["render", str(bank), "--slot", "1", "--bars", "1", "--kit", str(tmp_path / "kit"),
                 "--out", str(tmp_path / "o.wav")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("breakage-pi: error:") and "kick.wav: missing sample file" in err
    assert not (tmp_path / "o.wav").exists()


def _truncated(path):
    soundfile.write(str(path), np.random.default_rng(0).uniform(-0.5, 0.5, 4800), 48000, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[:3000])


@pytest.mark.parametrize("make,words", [
    (_truncated, "truncated: the header promises 9600 bytes of audio, the file holds"),
    (lambda p: soundfile.write(str(p), np.zeros(500), 100), "sample rate 100 Hz is too low"),
    (lambda p: soundfile.write(str(p), np.full(500, 40.0), 48000, subtype="FLOAT"), "peaks at 40 times full scale"),
    (lambda p: p.mkdir(), "is a folder"),
])
def test_technically_valid_but_wrong_samples_are_refused_with_the_reason(tmp_path, make, words):
    path = tmp_path / "snare.wav"
    make(path)
    with pytest.raises(FormatError) as caught:
        load_sample(path)
    assert str(path) in str(caught.value) and words in str(caught.value)


def test_a_hot_but_sane_float_sample_still_loads(tmp_path):
    write_kit(tmp_path, {"kick": np.full(100, 1.5, dtype=np.float32)})
    assert load_sample(tmp_path / "kick.wav").max() == pytest.approx(1.5)


@pytest.mark.parametrize("name", ["../kick", "a/b", "..", ".hidden", "bell\x07", "/etc/passwd"])
def test_channel_names_are_checked_before_they_become_paths(tmp_path, name):
    write_kit(tmp_path, {"kick": np.zeros(10)})
    with pytest.raises(FormatError, match="cannot name a sample file"):
        load_kit(tmp_path, [name, "snare", "open_hat", "closed_hat"])
