"""Replaying a take (``run --sim --headless --take DIR``): its own files, rendered again in lockstep.

The take's bank, settings and nets go into a fresh data directory of their
own (the player's is never touched; a kit the take played is taken from the
player's ``kits/``), its performance is the script, its rate and period are
the engine's, its MIDI in settings (``take.json``'s ``midi_in``) take its
``note`` lines whatever this machine's ``[midi]`` says, and the session lasts
exactly as many frames as the take's WAV. A take that started with the transport stopped and dropped nothing
(``take.json``: ``"replays_exactly": true``) renders byte for byte as it was
recorded.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from ..core.settings import Config
from . import take_folder
from .take_folder import Take


@dataclasses.dataclass(frozen=True)
class Replay:
    """What a replay runs: the take, the config to run it with, and its own data directory."""

    take: Take
    config: Config
    data_dir: Path
    cleanup: Callable[[], None]

    @property
    def seconds(self) -> float:
        return self.take.info["frames"] / self.take.info["rate"]


def prepare_replay(folder: Path, config: Config, kits_from: Path | None) -> Replay:
    """Read the take in ``folder`` and lay out a data directory for it (removed by ``cleanup``)."""
    take = take_folder.read_take(folder)
    root = Path(tempfile.mkdtemp(prefix="breakage-pi-take-"))
    try:
        shutil.copyfile(folder / take_folder.BANK, root / "bank.json")
        shutil.copyfile(folder / take_folder.STATE, root / "state.json")
        (root / "nets").mkdir()
        for net in take.nets:
            shutil.copyfile(net, root / "nets" / net.name)
        kit = take.settings.get("kit") if isinstance(take.settings, dict) else None
        (root / "kits").mkdir()
        if isinstance(kit, str) and kits_from is not None and (kits_from / "kits" / kit).is_dir():
            (root / "kits" / kit).symlink_to((kits_from / "kits" / kit).resolve())
    except OSError:
        shutil.rmtree(root, ignore_errors=True)
        raise
    info = take.info
    quiet = dataclasses.replace(
        config,
        audio=dataclasses.replace(config.audio, rate=info["rate"], period=info["period"]),
        instrument=dataclasses.replace(config.instrument, autoplay=False, kit=""),
        sync=dataclasses.replace(config.sync, port="none"),
        midi=dataclasses.replace(config.midi, out="none", follow_clock=False, notes_in="none",
                                 input=take.midi_in["input"], channel=take.midi_in["channel"]),
        nets=dataclasses.replace(config.nets, learn=take.learn),
        takes=dataclasses.replace(config.takes, auto=False))
    return Replay(take, quiet, root, lambda: shutil.rmtree(root, ignore_errors=True))


def replay_note(replay: Replay) -> str:
    """One line saying whether the replay can match the take byte for byte, and if not why."""
    info: dict[str, Any] = replay.take.info
    if info.get("replays_exactly"):
        return f"replaying take {replay.take.folder.name}: {replay.seconds:.2f} s, byte for byte"
    why = take_folder.inexact_reason(info)
    return (f"replaying take {replay.take.folder.name}: {replay.seconds:.2f} s; not byte for byte ({why}): "
            "the same performance from the take's start")
