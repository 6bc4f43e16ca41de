"""The live daemon (`run_live`: the engine in its own process, real time) driven through its UI hook."""

from __future__ import annotations

import logging
import shutil

from breakage_pi.daemon import RunOptions, run_live
from breakage_pi.audio.kit import default_kit_dir
from breakage_pi.cli.config_file import Config
from breakage_pi.store import load_bank


class Hands:
    """A stand-in for the terminal UI: plays the simulated panel on a timetable, then quits."""

    def __init__(self, rig, describe, quit, actions):
        self.rig, self.describe, self.quit = rig, describe, quit
        self.actions = list(actions)
        self.started = None
        self.seen = []

    def poll(self, now):
        if self.started is None:
            self.started = now
        while self.actions and now - self.started >= self.actions[0][0]:
            _, action = self.actions.pop(0)
            action(self)
        self.seen.append(self.describe())
        return []

    def close(self):
        pass


def test_the_live_daemon_plays_edits_and_restarts_the_engine_with_a_chosen_kit(tmp_path, caplog):
    data = tmp_path / "data"
    shutil.copytree(default_kit_dir(), data / "kits" / "synth")
    hands: list[Hands] = []
    actions = [
        (0.6, lambda h: (h.rig.button("play", True), h.rig.button("play", False))),
        (0.8, lambda h: h.rig.press(0, 1)),
        (0.9, lambda h: h.rig.release(0, 1)),
        (1.0, lambda h: h.rig.button("shift", True)),
        (1.1, lambda h: h.rig.press(2, 8)),
        (1.2, lambda h: h.rig.release(2, 8)),
        (1.3, lambda h: h.rig.button("shift", False)),
        (2.8, lambda h: h.quit()),
    ]
    options = RunOptions(config=Config(), data_dir=data, sim=True, device="none", pace=True,
                         ui=lambda rig, describe, quit: hands.append(Hands(rig, describe, quit, actions)) or hands[0])
    with caplog.at_level(logging.INFO, logger="breakage_pi"):
        assert run_live(options) == 0
    messages = [record.getMessage() for record in caplog.records]
    assert "slot 1 kick step 2: 200" in messages
    assert "kit synth: restarting the audio engine with it" in messages
    assert sum(message.startswith("audio running on none") for message in messages) == 1   # READY once
    assert any("PLAYING" in line for line in hands[0].seen)
    assert load_bank(data / "bank.json").slots[0].pattern.velocity(0, 1) == 200
    assert '"kit": "synth"' in (data / "state.json").read_text()
