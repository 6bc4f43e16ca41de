"""Offline render, proven from the WAV it writes (onsets found in the audio, not asked of the code)."""

import numpy as np
import pytest
from builders import bank_file, impulse_kit, onsets, read_wav, write_kit

from breakage_pi.audio.kit import load_kit
from breakage_pi.audio.player import Player
from breakage_pi.core.playstate import PlayState
from breakage_pi.audio.render import render_pattern
from breakage_pi.cli import main
from breakage_pi.core import Pattern
from breakage_pi.core.pattern import DEFAULT_CHANNEL_NAMES

EVERY_STEP_KICK = Pattern().with_channel(0, [200] * 16)


def render_cli(tmp_path, pattern, bars=1, tempo=120.0, swing=0.5, extra=()):
    bank = bank_file(tmp_path / "bank.json", pattern, tempo, swing)
    out = tmp_path / "out.wav"
    assert main(["render", str(bank), "--slot", "1", "--bars", str(bars), "--kit", str(tmp_path / "kit"),
                 "--out", str(out), *extra]) == 0
    return read_wav(out)


@pytest.mark.parametrize("tempo,swing", [(120.0, 0.5), (97.0, 0.5), (133.3, 0.62), (60.0, 0.75), (300.0, 0.55)])
def test_every_onset_is_at_its_exact_sample(tmp_path, tempo, swing):
    impulse_kit(tmp_path / "kit")
    pcm, rate = render_cli(tmp_path, EVERY_STEP_KICK, bars=2, tempo=tempo, swing=swing)
    assert rate == 48000 and pcm.shape[1] == 2
    per_pair = 48000 * 60 / tempo / 2
    expected = [round((k // 2) * per_pair + (k % 2) * swing * per_pair) for k in range(32)]
    assert onsets(pcm).tolist() == expected
    assert len(pcm) == round(16 * per_pair)


def test_straight_onsets_match_the_formula_and_tempo_override(tmp_path):
    impulse_kit(tmp_path / "kit")
    pcm, _ = render_cli(tmp_path, EVERY_STEP_KICK, tempo=120.0, extra=["--tempo", "111"])
    assert onsets(pcm).tolist() == [round(k * 48000 * 60 / 111 / 4) for k in range(16)]


def test_louder_velocity_is_louder(tmp_path):
    impulse_kit(tmp_path / "kit")
    pattern = Pattern().with_velocity(1, 0, 100).with_velocity(1, 8, 200).with_velocity(1, 12, 255)
    pcm, _ = render_cli(tmp_path, pattern)
    peaks = [abs(int(pcm[at, 0])) for at in onsets(pcm)]
    assert len(peaks) == 3 and 0 < peaks[0] < peaks[1] < peaks[2] <= 32767


def test_empty_pattern_is_silence(tmp_path):
    impulse_kit(tmp_path / "kit")
    pcm, _ = render_cli(tmp_path, Pattern(), bars=2)
    assert len(pcm) == 2 * 16 * 6000 and not pcm.any()


def test_closed_hat_chokes_the_open_hat(tmp_path):
    tone = np.full(48000, 0.5, dtype=np.float32)
    click = np.zeros(16, dtype=np.float32)
    write_kit(tmp_path / "kit", {"kick": click, "snare": click, "open_hat": tone, "closed_hat": click})
    pattern = Pattern().with_velocity(2, 0, 255).with_velocity(3, 4, 255)
    pcm, _ = render_cli(tmp_path, pattern)
    choke_at = 4 * 6000
    assert abs(pcm[choke_at - 1, 0]) > 16000                  # ringing right up to the closed hat
    assert not pcm[choke_at + 48 * 5:, 0].any()               # silent within 5 ms
    assert np.abs(np.diff(pcm[:, 0].astype(int)))[choke_at:].max() < 600   # faded, not cut


def test_loud_hits_are_limited_to_the_ceiling_instead_of_wrapping():
    loud = np.full((2000, 2), 0.9, dtype=np.float32)
    from breakage_pi.audio.kit import Kit
    kit = Kit(DEFAULT_CHANNEL_NAMES, (loud,) * 4)
    pattern = Pattern([[255] + [0] * 15] * 4)
    pcm = render_pattern(kit, pattern, 1, 120.0, block=64)
    ceiling = round(32767 * 10 ** (-1 / 20))                  # -1 dBFS
    assert pcm[:1900, 0].min() > 0 and abs(int(pcm[:, 0].max()) - ceiling) <= 1


@pytest.mark.parametrize("block", [1, 63, 64, 128, 256])
def test_render_does_not_depend_on_block_size(block):
    kit = load_kit()
    pattern = Pattern([[200, 0, 90, 0] * 4, [0, 0, 0, 0, 220] + [0] * 11, [0] * 14 + [150, 0], [80, 120] * 8])
    reference = render_pattern(kit, pattern, 1, 133.0, 0.6, block=256)
    assert np.array_equal(render_pattern(kit, pattern, 1, 133.0, 0.6, block=block), reference)


def test_no_drift_in_the_audio_after_ten_thousand_steps(tmp_path):
    kit = load_kit(impulse_kit(tmp_path / "kit"))
    tempo, swing, block = 293.0, 0.62, 256
    player = Player(kit, PlayState(EVERY_STEP_KICK, tempo, swing), max_block=block)
    per_pair = 48000 * 60 / tempo / 2
    start = lambda k: round((k // 2) * per_pair + (k % 2) * swing * per_pair)  # noqa: E731
    skip = start(10_000) // block * block
    while player.frame < skip:
        player.render(block)
    tail = np.concatenate([player.render(block).copy() for _ in range(200)])
    expected = [start(k) - skip for k in range(9_990, 10_030) if skip <= start(k) < skip + 200 * block]
    assert len(expected) >= 20 and onsets(tail).tolist() == expected


def test_a_render_too_long_or_unwritable_is_refused_and_leaves_nothing(tmp_path, capsys):
    impulse_kit(tmp_path / "kit")
    bank = bank_file(tmp_path / "bank.json", EVERY_STEP_KICK)
    args = ["render", str(bank), "--slot", "1", "--kit", str(tmp_path / "kit")]
    assert main([*args, "--bars", "100000", "--out", str(tmp_path / "long.wav")]) == 2
    assert main([*args, "--bars", "1", "--out", str(tmp_path / "nowhere" / "x.wav")]) == 2
    err = capsys.readouterr().err
    assert "render at most 60 minutes" in err and "x.wav: cannot write" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank.json", "kit"]
