"""The demo's performance kept as a take by ``[takes] auto``: it trains the nets on the grid and makes a
correction the nets learn in the background (``[nets] learn = "auto"``), and the take still replays byte for
byte, also where the replaying machine's config says ``learn = "on-train"`` (the take keeps its own)."""

from __future__ import annotations

from pathlib import Path

from breakage_pi.daemon.take_folder import read_take
from test_takes import cli

DEMO = Path(__file__).resolve().parent.parent / "breakage_pi" / "data" / "demo_performance.txt"


def test_the_demo_kept_as_a_take_replays_byte_for_byte_whatever_the_replaying_config_learns(tmp_path) -> None:
    recording = tmp_path / "auto.toml"
    recording.write_text('[takes]\nauto = true\nfloor_mb = 1\n[nets]\nlearn = "auto"\n[sync]\nport = "none"\n')
    data = tmp_path / "data"
    cli("run", "--config", str(recording), "--sim", "--headless", "--script", str(DEMO), "--seconds", "14",
        "--data", str(data), "--device", "null")
    (folder,) = (data / "takes").iterdir()
    take = read_take(folder)
    assert take.info["replays_exactly"] and take.learn == "auto" and take.corrections["made"] >= 1
    replaying = tmp_path / "on-train.toml"
    replaying.write_text('[nets]\nlearn = "on-train"\n')
    again = tmp_path / "again.wav"
    cli("run", "--config", str(replaying), "--sim", "--headless", "--take", str(folder), "--data", str(data),
        "--device", f"file:FILE={again},FORMAT=wav")
    assert again.read_bytes() == (folder / "take.wav").read_bytes()
