"""Corrections end to end (issue 20): a scripted session corrects the net's hats in PERFORM, the nets learn
it in the background and the tight net plays it in that context, also after a restart; undo forgets it;
``breakage-pi train`` learns from the bank's corrections too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from test_daemon import data_dir, expected_level, hits_in_bar, run

from breakage_pi.core.gate import gated
from breakage_pi.ml.netbank import NetBank
from breakage_pi.ml.netfile import read_net
from breakage_pi.store import load_bank

DEMO = Path(__file__).resolve().parent.parent / "models" / "demo_bank.json"
ON, OFF = 4, 8
"""Slot 1 (sparse) as the default nets play it: closed hats on steps 1 and 9. The correction adds one on step
5 (column 4) and takes the one on step 9 (column 8) away."""

CORRECT = f"""
0 button play down
20 button play up
100 button mode down
120 button mode up
# the NET knob: picked up at medium, turned to tight
200 knob net 0.5
400 knob net 1.0
1000 press 3 {ON}
1040 release 3 {ON}
1200 press 3 {OFF}
1240 release 3 {OFF}
"""


def tight_hats(root: Path) -> np.ndarray:
    """The closed hats the tight net in ``root`` plays for slot 1's inputs."""
    nets = NetBank([read_net(path) for path in sorted((root / "nets").glob("*.onnx"))])
    bank = load_bank(root / "bank.json")
    return gated(nets.outputs_at(bank.slots[0].pattern, 1.0), bank.gate, knee=bank.knee)[1]


def test_a_correction_is_learnt_in_the_background_and_survives_a_restart_and_undo_forgets_it(tmp_path):
    root = data_dir(tmp_path, load_bank(DEMO).with_changes(tempo=120.0, swing=0.5))
    before = tight_hats(root)
    assert before[OFF] > 0 and before[ON] == 0
    pcm, done = run(tmp_path, root, CORRECT, 8.5)
    bank = load_bank(root / "bank.json")
    assert len(bank.corrections) == 1 and bank.slots[0].pattern == load_bank(DEMO).slots[0].pattern
    corrected = bank.corrections[0].pattern
    assert corrected.velocity(3, ON) == 200 and corrected.velocity(3, OFF) == 0
    assert (corrected.velocities[:2] == bank.slots[0].pattern.velocities[:2]).all()
    assert "learning 1 correction(s) in the background" in done.stderr and "now playing them" in done.stderr
    after = tight_hats(root)
    assert after[ON] >= 48 and after[OFF] == 0                   # the tight net plays it in that context
    heights = hits_in_bar(pcm, 3)                                 # bar 4: the new nets, at tight
    assert heights[3, ON] == expected_level(int(after[ON])) and heights[3, OFF] == 0
    assert heights[3, 0] == expected_level(int(after[0]))

    pcm, done = run(tmp_path, root, "0 button play down\n20 button play up\n", 2.5, name="restart")
    heights = hits_in_bar(pcm, 0)                                 # after a restart: PERFORM, tight, learnt
    assert heights[3, ON] == expected_level(int(after[ON])) and heights[3, OFF] == 0

    undo = "0 button shift down\n100 press 3 9\n140 release 3 9\n200 button shift up\n"
    pcm, done = run(tmp_path, root, undo, 4.5, name="undo")
    assert load_bank(root / "bank.json").corrections == ()
    forgotten = tight_hats(root)
    assert forgotten[OFF] > 0 and forgotten[ON] == 0              # the nets relearnt the slot as written


def test_train_learns_from_a_banks_corrections(tmp_path):
    root = data_dir(tmp_path, load_bank(DEMO).with_changes(tempo=120.0, swing=0.5))
    run(tmp_path, root, CORRECT, 1.5)                             # no time to learn: the bank keeps it
    bank_path = root / "bank.json"
    assert json.loads(bank_path.read_text())["version"] == 2
    out = tmp_path / "nets"
    done = subprocess.run([sys.executable, "-m", "breakage_pi.cli", "train", str(bank_path), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 correction(s)" in (out / "summary.txt").read_text()
    predicted = subprocess.run([sys.executable, "-m", "breakage_pi.cli", "predict", "--nets", str(out),
                                "--position", "1", str(bank_path), "--slot", "1", "--json"],
                               capture_output=True, text=True, timeout=120)
    assert predicted.returncode == 0, predicted.stderr
    hats = json.loads(predicted.stdout)["steps"][3]
    assert hats[ON] >= 48 and hats[OFF] == 0
