"""Hostile MIDI files, crafted byte by byte: each malformed header, chunk or event is one clean error line
(exit 2, nothing written); a huge file is refused early in little memory; export writes any name a bank holds."""

import json
import subprocess
import sys

import mido
import pytest

from breakage_pi.cli import main
from breakage_pi.midi.smf import MAX_DRUM_NOTES
from breakage_pi.store import MAX_INPUT_BYTES, load_bank


def header(midi_format=0, tracks=1, division=480, length=6):
    return b"MThd" + length.to_bytes(4, "big") + b"".join(
        value.to_bytes(2, "big") for value in (midi_format, tracks, division)) + bytes(length - 6)


def chunk(body, kind=b"MTrk", length=None):
    return kind + (len(body) if length is None else length).to_bytes(4, "big") + body


def vlq(value):
    groups = [value & 0x7F]
    while value > 0x7F:
        value >>= 7
        groups.append(0x80 | (value & 0x7F))
    return bytes(reversed(groups))


KICK = b"\x00\x99\x24\x64"                  # delta 0, note-on channel 10, GM kick, velocity 100
END = b"\x00\xff\x2f\x00"


def meta(kind, payload, delta=0):
    return vlq(delta) + bytes([0xFF, kind]) + vlq(len(payload)) + payload


def midi_file(*events, **header_fields):
    return header(**header_fields) + chunk(b"".join(events))


def import_line(tmp_path, capsys, data):
    """Import ``data``; the status and stderr; asserts nothing was written."""
    (tmp_path / "in.mid").write_bytes(data)
    status = main(["import-midi", str(tmp_path / "in.mid"), "--out", str(tmp_path / "b.json")])
    err = capsys.readouterr().err
    if status != 0:
        assert not (tmp_path / "b.json").exists()
    return status, err


def test_a_well_formed_crafted_file_imports(tmp_path, capsys):
    status, _ = import_line(tmp_path, capsys, midi_file(meta(0x51, (500_000).to_bytes(3, "big")), KICK, END))
    assert status == 0
    bank = load_bank(tmp_path / "b.json")
    assert bank.tempo == 120.0 and bank.slot(1).pattern.velocity(0, 0) > 0


MALFORMED = {
    "empty": (b"", "it ends too soon"),
    "not MIDI": (b"RIFF\0\0\0\0WAVEfmt ", "does not start with 'MThd'"),
    "division 0": (midi_file(KICK, END, division=0), "0 ticks per quarter note"),
    "SMPTE division": (midi_file(KICK, END, division=0xE728), "SMPTE (25 frames a second, 40 ticks a frame)"),
    "format 3": (midi_file(KICK, END, midi_format=3), "unknown format 3"),
    "format 2": (midi_file(KICK, END, midi_format=2), "type 2 (asynchronous) MIDI files are not supported"),
    "short header chunk": (header(length=6)[:4] + (4).to_bytes(4, "big") + b"\0\0\0\1" + chunk(KICK + END),
                           "header chunk is 4 bytes long"),
    "header cut": (header()[:11], "ends inside its header"),
    "tempo 0": (midi_file(meta(0x51, b"\0\0\0"), KICK, END), "a tempo of 0 microseconds per quarter note"),
    "tempo of 2 bytes": (midi_file(meta(0x51, b"\x07\xa1"), KICK, END), "meta event 'set tempo' of 2 byte(s) (3 expected)"),
    "time signature of 3 bytes": (midi_file(meta(0x58, b"\4\2\x18"), KICK, END),
                                  "meta event 'time signature' of 3 byte(s) (4 expected)"),
    "key signature of 1 byte": (midi_file(meta(0x59, b"\0"), KICK, END), "meta event 'key signature' of 1 byte(s)"),
    "end of track with data": (midi_file(KICK, meta(0x2F, b"x")), "meta event 'end of track' of 1 byte(s)"),
    "meta longer than its track": (midi_file(KICK, b"\x00\xff\x06\x7f" + b"abc"),
                                   "an event of 127 bytes, only 3 left in the track"),
    "track cut": (header() + chunk(KICK + END, length=1000), "a 'MTrk' chunk of 1000 bytes, only 8 left"),
    "absurd track length": (header() + chunk(KICK + END, length=0xFFFFFFFF), "chunk of 4294967295 bytes"),
    "missing tracks": (midi_file(KICK, END, midi_format=1, tracks=3), "announces 3 track(s), the file ends after 1"),
    "absurd alien chunk": (header() + chunk(b"junk", kind=b"XFIH", length=1 << 30) + chunk(KICK + END),
                           "'XFIH' chunk of 1073741824 bytes"),
    "running status first": (midi_file(b"\x00\x24\x64", END), "running status with no status before it"),
    "data byte with its top bit set": (midi_file(b"\x00\x99\x24\xe4", END), "a data byte of 0x80 or more"),
    "system message": (midi_file(b"\x00\xf2\x00\x00", END), "status byte 0xf2"),
    "five-byte delta": (midi_file(b"\x81\x81\x81\x81\x01\x99\x24\x64", END), "longer than 4 bytes"),
    "delta cut": (header() + chunk(b"\x81\x81"), "ends inside a variable-length number"),
    "note cut": (header() + chunk(b"\x00\x99\x24"), "ends inside a channel message"),
    "event cut after delta": (header() + chunk(b"\x00"), "ends inside an event"),
    "sysex longer than its track": (midi_file(b"\x00\xf0\x7f\x01\x02"), "an event of 127 bytes"),
    "swing out of range in our tag": (midi_file(meta(0x01, b"breakage-pi swing=nan"), KICK, END),
                                      "swing: must be 0.5-0.75"),
    "tempo too slow": (midi_file(meta(0x51, (10_000_000).to_bytes(3, "big")), KICK, END), "tempo: must be 30-300"),
    "a drum note past bar 16": (midi_file(KICK, vlq(480 * 4 * 16) + b"\x99\x24\x64", END),
                                "drum notes past bar 16 (one in bar 17)"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_each_malformed_file_is_one_clean_line_with_status_2(tmp_path, capsys, case):
    data, expected = MALFORMED[case]
    status, err = import_line(tmp_path, capsys, data)
    assert status == 2
    assert err.startswith(f"breakage-pi: error: {tmp_path / 'in.mid'}: ") and err.count("\n") == 1, err
    assert expected in err and "Traceback" not in err


def test_lenient_where_every_reader_is(tmp_path, capsys):
    """Alien chunks and unknown meta events are skipped, running status survives a meta event, a track may end
    without end-of-track, and bytes after the last track are ignored."""
    data = (header(tracks=1) + chunk(b"\xde\xad", kind=b"XFIH")
            + chunk(KICK + meta(0x7E, b"??") + b"\x78\x26\x50") + b"trailing junk")
    status, _ = import_line(tmp_path, capsys, data)
    assert status == 0
    pattern = load_bank(tmp_path / "b.json").slot(1).pattern
    assert pattern.velocity(0, 0) > 0 and pattern.velocity(1, 1) > 0   # 120 ticks later: the snare, step 1


def test_too_many_drum_notes_fail_after_the_cap_not_at_the_end(tmp_path, capsys):
    kicks = b"\x00\x99" + b"\x24\x64\x00" * (MAX_DRUM_NOTES + 1) + b"\x24\x64" + END
    status, err = import_line(tmp_path, capsys, header() + chunk(kicks))
    assert status == 2 and f"more than {MAX_DRUM_NOTES} drum notes" in err


def test_notes_elsewhere_past_bar_16_do_not_matter_when_channel_10_has_the_drums(tmp_path, capsys):
    """A song: a bass line on channel 2 (notes 36, 38 are bass notes too) runs for 40 bars; drums on 10 for one."""
    bass = b"".join(vlq(480 * 4 if index else 0) + b"\x91\x24\x50" for index in range(40))
    data = header(midi_format=1, tracks=2) + chunk(bass + END) + chunk(KICK + END)
    status, err = import_line(tmp_path, capsys, data)
    assert status == 0, err
    assert len(load_bank(tmp_path / "b.json").slots) == 1


def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path, capsys):
    (tmp_path / "in.mid").write_bytes(header() + chunk(b"\x00\x99" + b"\x24\x64\x00" * 1_800_000))
    assert main(["import-midi", str(tmp_path / "in.mid"), "--out", str(tmp_path / "b.json")]) == 2
    assert f"is too big (at most {MAX_INPUT_BYTES})" in capsys.readouterr().err


PEAK_MEMORY = """
import resource, sys
from breakage_pi.cli import main
status = main(["import-midi", sys.argv[1], "--out", sys.argv[2]])
print(status, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


@pytest.mark.parametrize("note", [0x24, 0x3C], ids=["drum notes", "notes outside the drum map"])
def test_a_4_mb_file_of_1_3_million_notes_costs_little_memory(tmp_path, note):
    """Under the 4 MB cap, 1.3 M note-ons by running status: refused (too many drum notes) or read to the end
    (none in the drum map), either way without building 1.3 M of anything."""
    count = (MAX_INPUT_BYTES - 100) // 3
    body = b"\x00\x99" + bytes([note, 0x64, 0x00]) * count + bytes([note, 0x64]) + END
    (tmp_path / "in.mid").write_bytes(header() + chunk(body))
    baseline = subprocess.run([sys.executable, "-c", PEAK_MEMORY.replace("main([", "0 and main(["), "x", "y"],
                              capture_output=True, text=True, check=True)
    result = subprocess.run([sys.executable, "-c", PEAK_MEMORY, str(tmp_path / "in.mid"), str(tmp_path / "b.json")],
                            capture_output=True, text=True, check=True)
    status, peak_mb = map(int, result.stdout.split())
    base_mb = int(baseline.stdout.split()[1])
    assert status == 2 and len(result.stderr.strip().splitlines()) == 1
    assert ("drum notes" if note == 0x24 else "no drum notes found") in result.stderr
    assert peak_mb - base_mb < 40, (peak_mb, base_mb)       # the file itself is 4 MB; 1.3 M tuples would be ~150 MB


@pytest.mark.parametrize("name", ["\ud800 lone surrogate", "鼓 kick", "Café", "\x1b[2J", ""])
def test_export_writes_any_name_a_bank_may_hold(tmp_path, capsys, name):
    bank = {"format": "breakage-pi/bank", "version": 1, "tempo": 120, "swing": 0.5,
            "channels": ["kick", "snare", "open_hat", "closed_hat"], "roles": ["in", "in", "out", "out"],
            "slots": [{"name": name, "train": False, "steps": [[255] + [0] * 15] + [[0] * 16] * 3}]}
    (tmp_path / "b.json").write_text(json.dumps(bank))                  # json.dumps escapes the lone surrogate
    assert main(["export-midi", str(tmp_path / "b.json"), "--out", str(tmp_path / "out.mid")]) == 0, \
        capsys.readouterr().err
    markers = [message for message in mido.MidiFile(tmp_path / "out.mid").tracks[0] if message.type == "marker"]
    expected = (name or "slot 1").encode("utf-8", "replace")
    assert [marker.text.encode("latin-1") for marker in markers] == [expected]
    assert main(["import-midi", str(tmp_path / "out.mid"), "--out", str(tmp_path / "back.json")]) == 0
    assert load_bank(tmp_path / "back.json").slot(1).name == expected.decode("utf-8")


def test_a_latin_1_marker_from_another_tool_still_names_its_slot(tmp_path, capsys):
    status, _ = import_line(tmp_path, capsys, midi_file(meta(0x06, "Café".encode("latin-1")), KICK, END))
    assert status == 0 and load_bank(tmp_path / "b.json").slot(1).name == "Café"
