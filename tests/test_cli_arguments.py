import pytest

from breakage_pi.cli import main
from emulation import patience


@pytest.mark.parametrize("argv,words", [
    (["render", "b.json", "--slot", "1", "--bars", "x", "--out", "o.wav"], "expected a whole number, got 'x'"),
    (["render", "b.json", "--slot", "1", "--bars", "0", "--out", "o.wav"], "must be at least 1"),
    (["play", "b.json", "--slot", "1", "--seconds", "inf"], "finite number more than 0, got inf"),
    (["play", "b.json", "--slot", "1", "--seconds", "nan"], "finite number more than 0, got nan"),
    (["play", "b.json", "--slot", "1", "--period", "-64"], "must be at least 1"),
])
def test_bad_arguments_are_refused_with_a_usage_error(argv, words, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2 and words in capsys.readouterr().err


def test_output_into_a_closed_pipe_stops_quietly(tmp_path):
    """`breakage-pi config | head -1`: the reader has gone; no BrokenPipeError traceback."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "breakage_pi.cli", "config"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=patience(60))
    finally:
        os.close(write_end)
    assert done.returncode == 141 and done.stderr == ""
