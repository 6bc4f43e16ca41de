"""A take in the live daemon (the engine in its own process): the take pad starts and stops it, and it
carries on whole across a new audio process (choosing a kit restarts the engine)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from breakage_pi.daemon import RunOptions, run_live
from breakage_pi.audio.kit import default_kit_dir
from breakage_pi.core.settings import Config
from breakage_pi.core.pages import ROW_SYSTEM, TAKE_COLUMN
from breakage_pi.daemon.take_folder import read_take
from breakage_pi.daemon.take_stats import take_stats

from builders import read_wav
from test_daemon_live import Hands


def takes_in(data: Path) -> list[Path]:
    return sorted((data / "takes").iterdir()) if (data / "takes").is_dir() else []


def shift_page(h: Hands) -> bool:
    """SHIFT is held as far as the instrument knows, and its page shows the take pad."""
    red, green, _ = h.rig.pixels()[ROW_SYSTEM, TAKE_COLUMN]
    return h.state().shift and red > 0 and green == 0


def written(data: Path) -> int:
    """Frames the take's writer has put in its WAV so far (a counter on disk)."""
    wav = takes_in(data)[0] / "take.wav"
    return (wav.stat().st_size - 44) // 4 if wav.exists() else 0


def test_the_take_pad_records_a_live_take_across_an_engine_restart(tmp_path, caplog) -> None:
    data = tmp_path / "data"
    shutil.copytree(default_kit_dir(), data / "kits" / "synth")
    marks: dict[str, int] = {}

    def mark(name):
        return lambda h: marks.__setitem__(name, h.polls)

    def after(name, polls):
        return lambda h: h.polls >= marks[name] + polls

    lit = lambda h: h.rig.pixels().any()                                # the grid is up and drawn
    steps = [
        (lit, lambda h: h.rig.button("shift", True)),
        (shift_page, lambda h: h.rig.press(ROW_SYSTEM, TAKE_COLUMN)),
        (lambda h: takes_in(data), lambda h: h.rig.release(ROW_SYSTEM, TAKE_COLUMN)),
        (lambda h: True, lambda h: h.rig.button("shift", False)),
        (lambda h: True, lambda h: h.rig.button("play", True)),
        (lambda h: h.state().playing, lambda h: h.rig.button("play", False)),
        (lambda h: True, lambda h: h.rig.button("shift", True)),
        (shift_page, lambda h: (h.rig.press(2, 8), mark("kit")(h))),            # kit synth: a new audio process
        (after("kit", 20), lambda h: h.rig.release(2, 8)),
        (lambda h: written(data) > 1.5 * 48_000, lambda h: h.rig.press(ROW_SYSTEM, TAKE_COLUMN)),
        (lambda h: (takes_in(data)[0] / "take.mid").exists(), lambda h: h.rig.release(ROW_SYSTEM, TAKE_COLUMN)),
        (lambda h: True, lambda h: h.rig.button("shift", False)),
        (lambda h: not h.state().shift, lambda h: h.quit()),
    ]
    hands: list[Hands] = []
    options = RunOptions(config=Config(), data_dir=data, sim=True, device="none", pace=True,
                         ui=lambda rig, state, quit: hands.append(Hands(rig, state, quit, steps)) or hands[0])
    with caplog.at_level(logging.INFO, logger="breakage_pi"):
        assert run_live(options) == 0
    messages = [record.getMessage() for record in caplog.records]
    assert "kit synth: restarting the audio engine with it" in messages
    (folder,) = takes_in(data)
    take = read_take(folder)
    assert take.info["ended"] == "stopped from the grid" and take.info["dropped_frames"] == 0
    pcm, rate = read_wav(folder / "take.wav")
    assert len(pcm) == take.info["frames"] > 1.5 * rate and abs(pcm).max() > 0     # both processes' audio
    lines = (folder / "performance.txt").read_text()
    assert "button play down" in lines and "press 2 8" in lines
    assert take.settings["kit"] is None and take.script[0].name == "shift"   # it started from the built-in kit
    # a live take replays the same performance, but says it cannot promise every byte (and why)
    assert take.info["session"] == "live" and not take.info["replays_exactly"]
    assert "played live" in take_stats(folder).lines()[-1]
