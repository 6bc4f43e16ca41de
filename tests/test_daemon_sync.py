"""USB sync served by the live daemon: the sync client on the host end of a pty pushes a bank while the
daemon plays; the daemon plays the new pattern at the new tempo (proven from the captured WAV), and its live
MIDI out follows (the same notes, 24 clocks a quarter note)."""

from __future__ import annotations

import logging
import os
import threading
import tty

import numpy as np
from builders import read_wav
from test_daemon import bank_of, data_dir, expected_level
from test_daemon_live import Hands

from breakage_pi.daemon import RunOptions, run_live
from breakage_pi.core import Pattern
from breakage_pi.core.settings import Config, MidiConfig, SyncConfig
from breakage_pi.store import load_bank, save_bank
from breakage_pi.sync import FdTransport, SyncClient
from emulation import patience


class Serving(logging.Handler):
    """Set once the daemon's sync server has opened its port (pyserial drops what arrived before) and the
    audio is running (the first bank has played)."""

    def __init__(self) -> None:
        super().__init__()
        self.serving, self.playing = threading.Event(), threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("sync: serving"):
            self.serving.set()
        elif message.startswith("sound: "):
            self.playing.set()


def test_a_bank_pushed_while_playing_plays_at_once(tmp_path, caplog):
    kicks = Pattern().with_channel(0, [200, 0, 0, 0] * 4)
    snares = Pattern().with_channel(1, [0, 0, 180, 0] * 4)
    root = data_dir(tmp_path, bank_of(kicks))
    pushed = tmp_path / "pushed.json"
    save_bank(pushed, bank_of(snares, tempo=100.0))
    master, slave = os.openpty()
    tty.setraw(slave)
    serving = Serving()
    logging.getLogger("breakage_pi").addHandler(serving)
    errors: list[BaseException] = []

    def push() -> None:
        try:
            assert serving.serving.wait(patience(20)) and serving.playing.wait(patience(20))
            client = SyncClient(FdTransport(master), timeout_s=10.0)
            client.hello()
            client.push("bank", "bank", {"bank.json": pushed.read_bytes()})
        except BaseException as error:      # reported by the test below
            errors.append(error)

    pusher = threading.Thread(target=push)
    seen_new: list[float] = []

    def watch(hands: Hands) -> None:
        line = hands.state().summary()
        if "PLAYING" in line and not pusher.is_alive() and not pusher.ident:
            pusher.start()
        if "100 BPM" in line and not seen_new:
            seen_new.append(len(hands.seen))
        if errors or (seen_new and len(hands.seen) > seen_new[0] + 600):   # ~3 s more: several snares
            hands.quit()

    class Player(Hands):
        started = None

        def poll(self, now):
            if self.started is None:
                self.started = now
                self.rig.button("play", True)
                self.rig.button("play", False)
            self.seen.append(self.state().summary())
            watch(self)
            if now - self.started > 30:
                self.quit()                 # a failure: stop rather than hang
            return []

    wav = tmp_path / "live.wav"
    midi = tmp_path / "midi-out"
    midi.touch()
    config = Config(sync=SyncConfig(port=os.ttyname(slave)), midi=MidiConfig(out=str(midi)))
    options = RunOptions(config=config, data_dir=root, sim=True, device=f"file:FILE={wav},FORMAT=wav", pace=True,
                         ui=lambda rig, state, quit: Player(rig, state, quit, []))
    try:
        with caplog.at_level(logging.INFO, logger="breakage_pi"):
            assert run_live(options) == 0
    finally:
        logging.getLogger("breakage_pi").removeHandler(serving)
        if pusher.ident:
            pusher.join(10)
        os.close(master)
        os.close(slave)
    assert not errors, errors
    assert seen_new, "the pushed bank never reached the state machine"
    messages = [record.getMessage() for record in caplog.records]
    assert "bank reloaded: 1 slot(s), 100 BPM" in messages
    assert load_bank(root / "bank.json").tempo == 100.0
    left = read_wav(wav)[0][:, 0]
    hits = np.flatnonzero(left)
    # the offset kit: a kick (200) is one frame at its step, a snare (180) one frame just after its step
    kinds = ["kick" if left[at] == expected_level(200) else "snare" if left[at] == expected_level(180) else "?"
             for at in hits]
    switch = kinds.index("snare")
    assert switch > 0 and set(kinds[:switch]) == {"kick"} and set(kinds[switch:]) == {"snare"}, kinds
    snares = hits[switch:]
    assert len(snares) >= 3 and set(np.diff(snares)) == {28_800}     # a quarter note apart at 100 BPM
    kicks = hits[:switch]
    assert set(np.diff(kicks)) <= {24_000}                              # at 120 BPM before
    notes, clocks, pulses = [], [], 0
    messages = _parse(midi.read_bytes())
    for message in messages:
        pulses += message.type == "clock"
        if message.type == "note_on":
            notes.append({36: "kick", 38: "snare"}[message.note])
            clocks.append(pulses)
    assert notes == kinds and messages[-1].type == "stop"
    assert set(np.diff(clocks[switch:])) == {24} and set(np.diff(clocks[:switch])) <= {24}   # a quarter apart


def _parse(data: bytes) -> list:
    import mido

    parser = mido.Parser()
    parser.feed(data)
    return list(parser)
