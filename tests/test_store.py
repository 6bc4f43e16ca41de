import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from breakage_pi.core import Bank, FormatError, Pattern, Slot, VersionError
from breakage_pi.core.bank import bank_to_data
from breakage_pi.store import (MAX_INPUT_BYTES, StoreError, atomic_write_bytes, atomic_writer, check_output, load_bank,
                               quarantine, read_json, save_bank, sweep_stale_temps)


def test_save_then_load_round_trips(tmp_path):
    bank = Bank(slots=(Slot("one", True, Pattern().with_velocity(0, 0, 9)),), tempo=100.0)
    save_bank(tmp_path / "bank.json", bank)
    assert load_bank(tmp_path / "bank.json") == bank
    assert [p.name for p in tmp_path.iterdir()] == ["bank.json"]


@pytest.mark.parametrize("text,words", [
    ("{not json", "bad JSON at line 1"),
    ("[]", "expected a JSON object"),
    (json.dumps({"format": "breakage-pi/bank", "version": 7}), "newer"),
])
def test_bad_files_name_the_file(tmp_path, text, words):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(FormatError) as caught:
        load_bank(path)
    assert str(path) in str(caught.value) and words in str(caught.value)


def test_velocity_300_names_file_and_field(tmp_path):
    path = tmp_path / "bank.json"
    save_bank(path, Bank())
    data = json.loads(path.read_text())
    data["slots"][0]["steps"][2][5] = 300
    path.write_text(json.dumps(data))
    with pytest.raises(FormatError, match=r"bank\.json: slots\[0\]\.steps\[2\]\[5\]: velocity must be 0-255, got 300"):
        load_bank(path)


def test_missing_and_binary_files_are_clear(tmp_path):
    with pytest.raises(StoreError, match="no such file"):
        load_bank(tmp_path / "absent.json")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FormatError, match="binary.json"):
        load_bank(tmp_path / "binary.json")


def test_crash_between_write_and_rename_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "bank.json"
    old = Bank(slots=(Slot("old"),))
    save_bank(path, old)
    before = path.read_bytes()

    def power_cut(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(StoreError, match="bank.json: cannot write"):
        save_bank(path, Bank(slots=(Slot("new"),)))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["bank.json"]


def test_data_is_fsynced_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    atomic_write_bytes(tmp_path / "f", b"data")
    assert events == ["fsync", "replace", "fsync"]


def test_corrupt_or_newer_file_is_not_overwritten(tmp_path):
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("{oops")
    with pytest.raises(FormatError, match="not overwriting"):
        save_bank(corrupt, Bank())
    assert corrupt.read_text() == "{oops"
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"format": "breakage-pi/bank", "version": 3}))
    with pytest.raises(VersionError, match="not overwriting"):
        save_bank(newer, Bank())
    save_bank(corrupt, Bank(), force=True)
    assert load_bank(corrupt) == Bank()


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(tmp_path, umask):
    path = tmp_path / "bank.json"
    old = os.umask(umask)
    try:
        save_bank(path, Bank())
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    path.chmod(0o640)
    save_bank(path, Bank(slots=(Slot("private"),)))
    assert path.stat().st_mode & 0o777 == 0o640


def _stale_temp(folder, name="bank.json", token="k1ll3d00"):
    temp = folder / f".{name}.{token}.tmp"
    temp.write_bytes(b"half a bank")
    return temp


def test_a_save_sweeps_the_temporaries_a_killed_save_left(tmp_path):
    _stale_temp(tmp_path)
    _stale_temp(tmp_path, token="abcdefgh")
    other = _stale_temp(tmp_path, name="other.json")
    save_bank(tmp_path / "bank.json", Bank())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["bank.json", other.name])


def test_the_start_up_sweep_clears_a_whole_data_folder_but_spares_a_live_writer(tmp_path):
    import fcntl

    (tmp_path / "nets").mkdir()
    stale = [_stale_temp(tmp_path), _stale_temp(tmp_path / "nets", "net-medium.onnx")]
    live = _stale_temp(tmp_path, "live.json", "l1vewr1t")
    keep = [tmp_path / ".hidden.tmp", tmp_path / "notes.json.tmp"]
    for path in keep:
        path.write_text("mine")
    with open(live, "rb") as writer:
        fcntl.flock(writer, fcntl.LOCK_EX)             # as atomic_writer holds its temporary
        assert sorted(sweep_stale_temps(tmp_path, recursive=True)) == sorted(stale)
    assert live.exists() and all(path.exists() for path in keep)
    assert sweep_stale_temps(tmp_path, recursive=True) == [live]


def test_saving_through_a_symlink_updates_the_file_it_points_to(tmp_path):
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "bank.json"
    save_bank(real, Bank())
    link = tmp_path / "link.json"
    link.symlink_to(real)
    save_bank(link, Bank(tempo=99.0))
    assert link.is_symlink() and load_bank(real).tempo == 99.0


def test_unknown_keys_of_a_hand_edited_bank_survive_a_load_and_a_save(tmp_path):
    path = tmp_path / "bank.json"
    save_bank(path, Bank(slots=(Slot("a"), Slot("b"))))
    data = json.loads(path.read_text())
    data["comment"] = "my best groove"
    data["future"] = {"nested": [1, 2.5, None]}
    data["slots"][1]["color"] = "#ff8800"
    path.write_text(json.dumps(data))
    bank = load_bank(path)
    save_bank(path, bank.with_changes(tempo=90.0).with_slot(1, Slot("renamed")))
    saved = json.loads(path.read_text())
    assert saved["comment"] == "my best groove" and saved["future"] == {"nested": [1, 2.5, None]}
    assert saved["slots"][1]["color"] == "#ff8800" and saved["tempo"] == 90.0
    assert "color" not in saved["slots"][0]
    assert list(saved)[:2] == ["format", "version"]    # known keys first; a kept key never shadows one
    assert load_bank(path).extra == {"comment": "my best groove", "future": {"nested": [1, 2.5, None]}}


def test_a_streamed_write_is_fsynced_renamed_then_the_folder_fsynced(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    with atomic_writer(tmp_path / "take.wav") as out:
        out.write(b"RIFF")
        assert [p.name for p in tmp_path.iterdir()] != ["take.wav"]     # nothing at the name until the end
    assert events == ["fsync", "replace", "fsync"] and (tmp_path / "take.wav").read_bytes() == b"RIFF"


def test_an_error_inside_a_streamed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    (tmp_path / "take.wav").write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_writer(tmp_path / "take.wav") as out:
            out.write(b"half")
            raise RuntimeError("disk gone")
    assert [p.name for p in tmp_path.iterdir()] == ["take.wav"] and (tmp_path / "take.wav").read_bytes() == b"old"


@pytest.mark.parametrize("source,words", [
    ("/dev/zero", "not a regular file"),
    ("/dev/null", "not a regular file"),
])
def test_special_files_are_refused_at_once(source, words):
    with pytest.raises(StoreError, match=words):
        load_bank(source)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "bank.json"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match="bank.json: not a regular file"):
        load_bank(fifo)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.json"
    with open(big, "wb") as handle:
        handle.truncate(100 * 1024 * 1024)            # sparse: 100 MB that cost no disk
    with pytest.raises(StoreError, match=f"big.json: 104857600 bytes is too big \\(at most {MAX_INPUT_BYTES}\\)"):
        load_bank(big)


def test_a_folder_where_a_file_is_expected_says_so(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        load_bank(tmp_path)
    with pytest.raises(StoreError, match="is a folder"):
        atomic_write_bytes(tmp_path, b"x")


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bank.json"
    save_bank(path, Bank(tempo=101.0))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_bank(path).tempo == 101.0


def test_json_nested_100000_deep_is_a_clear_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(FormatError, match="deep.json: nested more than 64 levels deep"):
        read_json(path)
    path.write_text('{"a":' * 70 + "1" + "}" * 70)    # within the parser's limit, beyond any bank's need
    with pytest.raises(FormatError, match="nested more than 64"):
        read_json(path)


@pytest.mark.parametrize("where", ["tempo", "version", "velocity"])
@pytest.mark.parametrize("digits", [400, 4000, 5000])
def test_numbers_with_thousands_of_digits_are_clear_short_errors(tmp_path, where, digits):
    path = tmp_path / "bank.json"
    save_bank(path, Bank())
    huge = "9" * digits
    text = path.read_text()
    text = {"tempo": lambda: text.replace('"tempo": 120.0', f'"tempo": {huge}'),
            "version": lambda: text.replace('"version": 1', f'"version": {huge}'),
            "velocity": lambda: text.replace("[0, 0", f"[{huge}, 0", 1)}[where]()
    path.write_text(text)
    with pytest.raises(FormatError) as caught:
        load_bank(path)
    assert str(path) in str(caught.value) and len(str(caught.value)) < 500


def test_a_corrupt_file_is_moved_aside_never_over_another(tmp_path):
    path = tmp_path / "bank.json"
    path.write_text("{oops")
    first, message = quarantine(path, "bad JSON")
    assert not path.exists() and first.read_text() == "{oops" and first.name.startswith("bank.json.corrupt-")
    assert "bank.json: unreadable (bad JSON); moved aside to bank.json.corrupt-" in message
    path.write_text("{again")
    second, _ = quarantine(path)
    assert second != first and first.read_text() == "{oops" and second.read_text() == "{again"


def test_check_output_refuses_folders_inputs_and_foreign_files(tmp_path):
    (tmp_path / "in.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="is a folder"):
        check_output(tmp_path)
    with pytest.raises(StoreError, match="is also an input"):
        check_output(tmp_path / "." / "in.json", inputs=[tmp_path / "in.json"], force=True)
    with pytest.raises(StoreError, match="notes.txt: not overwriting a file that is not a WAV file; use --force"):
        check_output(tmp_path / "notes.txt", what="a WAV file", hint="use --force")
    assert check_output(tmp_path / "notes.txt", force=True) == tmp_path / "notes.txt"
    assert check_output(tmp_path / "notes.txt", is_ours=lambda path: True) == tmp_path / "notes.txt"
    assert check_output(tmp_path / "new.wav") == tmp_path / "new.wav"


def test_a_special_file_is_never_replaced_even_when_forced(tmp_path):
    fifo = tmp_path / "take.wav"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match="take.wav: not a regular file"):
        check_output(fifo, force=True)
    with pytest.raises(StoreError, match="not a regular file"):
        atomic_write_bytes(fifo, b"x")
    assert fifo.is_fifo() and [p.name for p in tmp_path.iterdir()] == ["take.wav"]


def test_names_that_look_like_number_lists_are_written_exactly(tmp_path):
    """The old writer edited the JSON text: "x[1..2]" crashed the save and "[1,2]" came back as "[1, 2]"."""
    bank = Bank(slots=(Slot("x[1..2]"), Slot("[1,2]")), extra={"comment": "[3,4]"})
    save_bank(tmp_path / "bank.json", bank)
    assert load_bank(tmp_path / "bank.json") == bank


_json_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_json_scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _json_text
_kept = st.dictionaries(_json_text.filter(lambda key: key not in ("name", "train", "steps")),
                        st.recursive(_json_scalar, lambda inner: st.lists(inner, max_size=4)
                                     | st.dictionaries(_json_text, inner, max_size=3), max_leaves=8), max_size=3)


@settings(max_examples=100, deadline=None, database=None, derandomize=True)
@given(names=st.lists(_json_text, min_size=1, max_size=16), kept=_kept,
       velocities=st.lists(st.integers(0, 255), min_size=64, max_size=64))
def test_any_bank_saved_loads_back_equal_with_its_kept_keys(names, kept, velocities):
    slots = tuple(Slot(name, index % 2 == 0, Pattern([velocities[i * 16:(i + 1) * 16] for i in range(4)]), kept)
                  for index, name in enumerate(names))
    bank = Bank(slots=slots, extra={key: value for key, value in kept.items() if key not in bank_to_data(Bank())})
    with tempfile.TemporaryDirectory() as folder:
        save_bank(Path(folder) / "bank.json", bank)
        assert load_bank(Path(folder) / "bank.json") == bank
