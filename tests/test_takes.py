"""Takes end to end: a scripted session records one from the take pad; it replays byte for byte from its
own files, its MIDI holds exactly the hits in its WAV, and its stats count what happened."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pytest

from builders import read_wav
from breakage_pi.core import Pattern
from breakage_pi.daemon.take_folder import read_take
from breakage_pi.daemon.take_stats import take_stats
from breakage_pi.midi.gm import CHANNEL_NOTES, midi_velocity
from test_daemon import STEP, bank_of, data_dir, expected_level

RATE = 48_000
TAKE_PAD = "{t} button shift down\n{t2} press 3 11\n{t3} release 3 11\n{t4} button shift up\n"

SESSION = TAKE_PAD.format(t=100, t2=150, t3=200, t4=250) + """
400 button play down
450 button play up
1500 press 0 2
1550 release 0 2
2000 button mode down
2050 button mode up
3000 press 3 5
3050 release 3 5
3500 press 0 10
3550 release 0 10
""" + TAKE_PAD.format(t=5400, t2=5450, t3=5500, t4=5550)


def cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "breakage_pi.cli", *args], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    return done


def record_take(root: Path, config_text: str, script_text: str, seconds: float,
                device: str = "null") -> tuple[Path, subprocess.CompletedProcess]:
    """A scripted session on the data dir ``root`` that records one take: (the take's folder, the run)."""
    config, script = root.parent / "config.toml", root.parent / "session.txt"
    config.write_text(config_text)
    script.write_text(script_text)
    done = cli("run", "--sim", "--headless", "--config", str(config), "--data", str(root), "--script", str(script),
               "--seconds", str(seconds), "--device", device)
    (take,) = (root / "takes").iterdir()
    return take, done


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> tuple[Path, Path, Path]:
    """One scripted session with a take; (the data dir, the session's WAV, the take's folder)."""
    tmp_path = tmp_path_factory.mktemp("takes")
    pattern = Pattern().with_velocity(0, 0, 220).with_velocity(1, 4, 180).with_velocity(0, 8, 120)   # under the limiter
    root = data_dir(tmp_path, bank_of(pattern, pattern))
    wav = tmp_path / "session.wav"
    take, done = record_take(root, '[midi]\nout = "none"\n[sync]\nport = "none"\n', SESSION, 6.5, f"wav:{wav}")
    assert "stopped from the grid" in done.stderr
    return root, wav, take


def test_a_take_replays_byte_for_byte_from_its_own_files(session, tmp_path) -> None:
    root, played, take = session
    info = read_take(take).info
    assert info["replays_exactly"] and info["dropped_frames"] == 0 and info["ended"] == "stopped from the grid"
    recorded = (take / "take.wav").read_bytes()
    assert info["frames"] == (len(recorded) - 44) // 4 > 5 * RATE
    session_pcm, _ = read_wav(played)
    take_pcm, _ = read_wav(take / "take.wav")
    origin = round(0.150 * RATE / 64 + 0.5) * 64       # the first block at or after the take pad's press
    assert np.array_equal(session_pcm[origin:origin + len(take_pcm)], take_pcm) and np.abs(take_pcm).max() > 0
    copy = tmp_path / "moved"                           # a pulled copy plays anywhere, with the kit from --data
    copy.mkdir()
    for path in take.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    replay = tmp_path / "replay.wav"
    cli("run", "--sim", "--headless", "--take", str(copy), "--data", str(root), "--device", f"wav:{replay}")
    assert replay.read_bytes() == recorded


def wav_hits(pcm: np.ndarray) -> list[tuple[int, int, int]]:
    """(step frame, channel, level) of every hit: the offset kit leaves one frame at step + channel; the
    first hit is the kick on step 1, and steps follow every STEP frames (120 BPM, straight)."""
    left = pcm[:, 0].astype(np.int64)
    frames = np.flatnonzero(left)
    first = int(frames[0])
    return [(int(f) - (int(f) - first) % STEP, (int(f) - first) % STEP, int(left[f])) for f in frames]


def test_the_takes_midi_holds_exactly_the_hits_in_its_wav(session) -> None:
    _, _, take = session
    pcm, _ = read_wav(take / "take.wav")
    notes = []
    seconds = 0.0
    for message in mido.MidiFile(take / "take.mid"):
        seconds += message.time
        if message.type == "note_on" and message.velocity:
            notes.append((round(seconds * RATE), CHANNEL_NOTES.index(message.note), message.velocity))
    heard = wav_hits(pcm)
    assert len(notes) == len(heard) > 10
    levels: dict[int, set[int]] = {}                   # MIDI velocity -> the levels its hits can have
    for velocity in range(1, 256):
        levels.setdefault(midi_velocity(velocity), set()).add(expected_level(velocity))
    closed_hats = {step_frame for step_frame, channel, _ in heard if channel == 3}
    for (at, channel, velocity), (step_frame, heard_channel, level) in zip(sorted(notes), heard):
        assert abs(at - step_frame) <= 13              # a tick at 120 BPM is 25 frames: rounded to the nearest
        assert channel == heard_channel
        if channel == 2 and step_frame in closed_hats:  # a closed hat on the same step chokes the open one
            assert 0 < level <= max(levels[velocity])
        else:
            assert level in levels[velocity]


def test_take_stats_count_what_the_player_and_the_net_did(session) -> None:
    _, _, take = session
    stats = take_stats(take)
    assert stats.corrections == {"made": 1, "removed": 0, "undone": 0, "at_start": 0, "at_end": 1}
    lines = "\n".join(stats.lines())
    info = stats.info
    assert info["bars"] == {"1": 3} and info["nets"] == ["medium"]     # PLAY at 0.25 s, 5.3 s at 120 BPM
    assert info["hits"]["net"] > 0 and info["hits"]["player"] > 0 and info["xruns"] == 0
    assert "corrections  1 made, 0 removed, 0 undone; the bank holds 1 (0 when the take started)" in lines
    assert "replays      exactly: yes" in lines
    assert cli("take", "stats", str(take)).stdout.splitlines() == stats.lines()


CORRECTING = """
0 button play down
50 button play up
100 button mode down
150 button mode up
300 press 3 5
350 release 3 5
""" + TAKE_PAD.format(t=600, t2=650, t3=700, t4=750) + """
# the same bar again: the correction is amended (one made, still one kept)
1000 press 3 5
1050 release 3 5
# other inputs, then a correction of them: a second one kept
1300 press 0 10
1350 release 0 10
1600 press 3 7
1650 release 3 7
# the SHIFT page: list the corrections, remove the first, undo that
1900 button shift down
2000 press 3 8
2050 release 3 8
2200 press 0 0
2250 release 0 0
2400 press 3 9
2450 release 3 9
2600 button shift up
# EDIT: a press on the hats' row is an edit, not a correction
2800 button mode down
2850 button mode up
3000 press 3 5
3050 release 3 5
""" + TAKE_PAD.format(t=3300, t2=3350, t3=3400, t4=3450)


def test_take_stats_count_the_changes_to_the_banks_corrections_not_the_presses(tmp_path) -> None:
    """Made, removed and undone as the bank's corrections changed during the take, with how many it held at
    each end: a correction before the take is not the take's, an amendment is one made, the list's removal
    and UNDO count, an edit in EDIT does not."""
    from breakage_pi.store import load_bank

    pattern = Pattern().with_velocity(0, 0, 220).with_velocity(1, 4, 180)
    root = data_dir(tmp_path, bank_of(pattern))
    take, done = record_take(root, '[midi]\nout = "none"\n[sync]\nport = "none"\n[nets]\nlearn = "on-train"\n',
                             CORRECTING, 3.8)
    assert "undo: 2 correction(s) in the bank" in done.stderr
    stats = take_stats(take)
    assert stats.corrections == {"made": 2, "removed": 1, "undone": 1, "at_start": 1, "at_end": 2}
    assert len(load_bank(root / "bank.json").corrections) == 2
    assert "corrections  2 made, 1 removed, 1 undone; the bank holds 2 (1 when the take started)" in stats.lines()


def _with_info(take: Path, folder: Path, **changes) -> Path:
    """A copy of ``take`` whose ``take.json`` has ``changes`` (None: the key left out)."""
    import json
    import shutil

    shutil.copytree(take, folder)
    info = json.loads((folder / "take.json").read_text())
    info.update(changes)
    (folder / "take.json").write_text(json.dumps({k: v for k, v in info.items() if v is not None}))
    return folder


def test_a_take_from_before_corrections_were_counted_says_so_and_bad_counts_name_their_field(session,
                                                                                           tmp_path) -> None:
    from breakage_pi.daemon.take_folder import TakeError

    _, _, take = session
    older = take_stats(_with_info(take, tmp_path / "older", corrections=None))
    assert older.corrections is None
    assert "corrections  not counted (the take was recorded before takes counted them)" in older.lines()
    counts = {"made": 1, "removed": 0, "undone": 0, "at_start": 0, "at_end": 1}
    for number, (bad, field) in enumerate((({**counts, "made": -1}, "corrections.made"), ({"made": 1}, "corrections"),
                                           ({**counts, "undone": True}, "corrections.undone"), ([1], "corrections"))):
        with pytest.raises(TakeError, match=field.replace(".", r"\.")):
            read_take(_with_info(take, tmp_path / f"bad{number}", corrections=bad))
