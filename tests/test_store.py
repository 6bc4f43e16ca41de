import json
import os

import pytest

from breakage_pi.core import Bank, FormatError, Pattern, Slot, VersionError
from breakage_pi.store import StoreError, atomic_write_bytes, load_bank, save_bank


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
    newer.write_text(json.dumps({"format": "breakage-pi/bank", "version": 2}))
    with pytest.raises(VersionError, match="not overwriting"):
        save_bank(newer, Bank())
    save_bank(corrupt, Bank(), force=True)
    assert load_bank(corrupt) == Bank()


def test_new_files_are_shareable_and_replaced_files_keep_their_mode(tmp_path):
    path = tmp_path / "bank.json"
    save_bank(path, Bank())
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o600)
    save_bank(path, Bank(slots=(Slot("private"),)))
    assert path.stat().st_mode & 0o777 == 0o600
