"""MIDI files: export then import gives the bank back within 7-bit velocity; the file holds the expected notes."""

import io

import mido
import numpy as np
import pytest

from breakage_pi.cli import main
from breakage_pi.core import Bank, Pattern, Slot
from breakage_pi.midi import bank_from_midi, midi_velocity, velocity_from_midi
from breakage_pi.midi.smf import TICKS_PER_STEP
from breakage_pi.store import load_bank, save_bank


def random_bank(seed, slots=5, swing=0.5, tempo=104.5):
    rng = np.random.default_rng(seed)
    grids = rng.integers(1, 256, (slots, 4, 16)) * (rng.random((slots, 4, 16)) < 0.4)
    return Bank(slots=tuple(Slot(f"slot-{i}", False, Pattern(grid.astype(np.uint8))) for i, grid in enumerate(grids)),
                tempo=tempo, swing=swing, roles=("in", "out", "out", "in"))


def midi_bytes(midi):
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def test_velocity_scale_is_monotonic_and_round_trips_within_one_step():
    assert [midi_velocity(v) for v in (1, 2, 128, 253, 255)] == [1, 1, 64, 126, 127]
    for velocity in range(1, 256):
        assert abs(velocity_from_midi(midi_velocity(velocity)) - velocity) <= 1
    assert all(midi_velocity(velocity_from_midi(m)) == m for m in range(1, 128))


@pytest.mark.parametrize("swing", [0.5, 0.62, 0.75])
def test_export_then_import_gives_the_same_velocities_within_7_bits(tmp_path, swing):
    bank = random_bank(1, swing=swing)
    save_bank(tmp_path / "bank.json", bank)
    assert main(["export-midi", str(tmp_path / "bank.json"), "--out", str(tmp_path / "out.mid")]) == 0
    assert main(["import-midi", str(tmp_path / "out.mid"), "--out", str(tmp_path / "back.json")]) == 0
    back = load_bank(tmp_path / "back.json")
    assert (back.tempo, back.swing, back.roles) == (bank.tempo, bank.swing, bank.roles)
    assert [s.name for s in back.slots] == [s.name for s in bank.slots]
    for original, returned in zip(bank.slots, back.slots):
        a, b = original.pattern.velocities.astype(int), returned.pattern.velocities.astype(int)
        assert np.array_equal(a > 0, b > 0)
        assert np.abs(a - b).max() <= 1


def test_exported_file_has_the_notes_at_the_expected_ticks(tmp_path):
    pattern = (Pattern().with_velocity(0, 0, 255).with_velocity(1, 4, 128).with_velocity(2, 3, 2)
               .with_velocity(3, 15, 60))
    bank = Bank(slots=(Slot("a", False, Pattern()), Slot("b", False, pattern)), tempo=90.0, swing=0.6)
    save_bank(tmp_path / "bank.json", bank)
    assert main(["export-midi", str(tmp_path / "bank.json"), "--slot", "2", "--out", str(tmp_path / "b.mid")]) == 0
    midi = mido.MidiFile(tmp_path / "b.mid")
    assert midi.ticks_per_beat == 480
    tick, notes, tempo = 0, [], None
    for message in midi.tracks[0]:
        tick += message.time
        if message.type == "note_on":
            notes.append((tick, message.channel, message.note, message.velocity))
        elif message.type == "set_tempo":
            tempo = mido.tempo2bpm(message.tempo)
    odd_delay = round(2 * TICKS_PER_STEP * 0.6)  # 144: the swung 16th
    assert notes == [(0, 9, 36, 127), (2 * TICKS_PER_STEP + odd_delay, 9, 46, 1), (4 * TICKS_PER_STEP, 9, 38, 64),
                     (14 * TICKS_PER_STEP + odd_delay, 9, 42, 30)]
    assert tempo == pytest.approx(90.0, abs=1e-3)
    assert tick == 16 * TICKS_PER_STEP


def test_import_of_a_foreign_file_quantises_and_guesses_swing():
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(100))])
    events = [(0, 36, 100), (61, 42, 50), (118, 42, 70), (245, 38, 127), (960, 35, 90), (100, 49, 80)]
    now = 0
    for tick, note, velocity in sorted(events):
        track.append(mido.Message("note_on", channel=9, note=note, velocity=velocity, time=tick - now))
        now = tick
    imported = bank_from_midi(midi_bytes(mido.MidiFile(ticks_per_beat=240, tracks=[track])))
    bank = imported.bank
    assert imported.ignored_notes == 1 and bank.tempo == 100.0 and len(bank.slots) == 2
    assert bank.swing == pytest.approx(61 / 120, abs=0.001)  # the one off-beat hat, a tick late
    first = bank.slot(1).pattern
    assert first.velocity(0, 0) == velocity_from_midi(100)
    assert first.velocity(3, 1) == velocity_from_midi(50) and first.velocity(3, 2) == velocity_from_midi(70)
    assert first.velocity(1, 4) == velocity_from_midi(127)
    assert bank.slot(2).pattern.velocity(0, 0) == velocity_from_midi(90)


def test_bad_midi_input_gives_one_clear_line(tmp_path, capsys):
    (tmp_path / "x.mid").write_bytes(b"MThd garbage")
    assert main(["import-midi", str(tmp_path / "x.mid"), "--out", str(tmp_path / "b.json")]) == 2
    assert capsys.readouterr().err.startswith(f"breakage-pi: error: {tmp_path / 'x.mid'}: not a readable MIDI file")
    empty = mido.MidiFile(tracks=[mido.MidiTrack([mido.Message("note_on", channel=0, note=60, velocity=9)])])
    empty.save(tmp_path / "piano.mid")
    assert main(["import-midi", str(tmp_path / "piano.mid"), "--out", str(tmp_path / "b.json")]) == 2
    assert "no drum notes found" in capsys.readouterr().err
    assert not (tmp_path / "b.json").exists()


@pytest.mark.parametrize("content", [b"", b"MThd"])
def test_an_empty_or_cut_midi_file_says_why_not_empty_parentheses(tmp_path, capsys, content):
    (tmp_path / "cut.mid").write_bytes(content)
    assert main(["import-midi", str(tmp_path / "cut.mid"), "--out", str(tmp_path / "b.json")]) == 2
    line = capsys.readouterr().err.strip()
    assert "not a readable MIDI file" in line and "()" not in line and "\n" not in line
    assert not (tmp_path / "b.json").exists()


def test_export_never_writes_over_its_own_bank_nor_a_file_that_is_not_midi(tmp_path, capsys):
    bank = tmp_path / "b.json"
    save_bank(bank, random_bank(1, swing=0.5))
    before = bank.read_bytes()
    assert main(["export-midi", str(bank), "--out", str(bank)]) == 2
    assert "is also an input" in capsys.readouterr().err and bank.read_bytes() == before
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    assert main(["export-midi", str(bank), "--out", str(notes)]) == 2
    assert "not a MIDI file; use --force" in capsys.readouterr().err and notes.read_text() == "my notes"
    assert main(["export-midi", str(bank), "--out", str(notes), "--force"]) == 0
    assert main(["export-midi", str(bank), "--out", str(notes)]) == 0     # a MIDI file is replaced freely
    assert notes.read_bytes().startswith(b"MThd")
