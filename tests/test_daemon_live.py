"""The live daemon (`run_live`: the engine in its own process, real time) driven through its UI hook."""

from __future__ import annotations

import logging
import shutil

from breakage_pi.daemon import RunOptions, run_live
from breakage_pi.audio.kit import default_kit_dir
from breakage_pi.cli.config_file import Config
from breakage_pi.store import load_bank


class Hands:
    """A stand-in for the terminal UI: plays the simulated panel step by step, each step once what the
    instrument shows allows it (never on a timetable: a slow machine only takes longer), then quits."""

    def __init__(self, rig, state, quit, steps):
        self.rig, self.state, self.quit = rig, state, quit
        self.steps = list(steps)
        self.polls = 0
        self.seen = []

    def poll(self, now):
        self.polls += 1
        if self.steps and self.steps[0][0](self):
            self.steps.pop(0)[1](self)
        self.seen.append(self.state().summary())
        return []

    def close(self):
        pass


def test_the_live_daemon_plays_edits_and_restarts_the_engine_with_a_chosen_kit(tmp_path, caplog):
    data = tmp_path / "data"
    shutil.copytree(default_kit_dir(), data / "kits" / "synth")
    hands: list[Hands] = []
    chosen_at = []
    ready = lambda: any(record.getMessage().startswith("sound: none") for record in caplog.records)  # engine up
    # and the grid drawn (its boards up: a press during their bring-up is lost, as on the real chips)
    actions = [
        (lambda h: ready() and h.rig.pixels().any(), lambda h: (h.rig.button("play", True), h.rig.button("play", False))),
        (lambda h: h.state().playing, lambda h: h.rig.press(0, 1)),
        (lambda h: h.state().pattern.velocity(0, 1), lambda h: h.rig.release(0, 1)),
        (lambda h: True, lambda h: h.rig.button("shift", True)),
        (lambda h: h.state().shift, lambda h: h.rig.press(2, 8)),
        (lambda h: h.state().kit == "synth", lambda h: (h.rig.release(2, 8), chosen_at.append(h.polls))),
        (lambda h: True, lambda h: h.rig.button("shift", False)),
        (lambda h: not h.state().shift and h.polls > chosen_at[0] + 50, lambda h: h.quit()),
    ]
    options = RunOptions(config=Config(), data_dir=data, sim=True, device="none", pace=True,
                         ui=lambda rig, state, quit: hands.append(Hands(rig, state, quit, actions)) or hands[0])
    with caplog.at_level(logging.INFO, logger="breakage_pi"):
        assert run_live(options) == 0
    messages = [record.getMessage() for record in caplog.records]
    assert "slot 1 kick step 2: velocity 200" in messages
    assert "kit synth: restarting the audio engine with it" in messages
    assert sum(message.startswith("sound: none") for message in messages) == 1, messages   # READY once
    assert any("PLAYING" in line for line in hands[0].seen)
    assert load_bank(data / "bank.json").slots[0].pattern.velocity(0, 1) == 200
    assert '"kit": "synth"' in (data / "state.json").read_text()
