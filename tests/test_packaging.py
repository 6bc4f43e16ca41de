"""An installed (not editable) package carries what the daemon seeds a new data directory with."""

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_default_nets_are_installed_with_the_package():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["data-files"]["share/breakage-pi/models"]
    shipped = {path.name for pattern in patterns for path in REPO.glob(pattern)}
    assert shipped == {path.name for path in (REPO / "models").glob("*.onnx")} and len(shipped) == 3


def test_the_license_is_an_spdx_string_with_a_setuptools_that_reads_it():
    """A TOML-table license makes setuptools print a deprecation banner on every install (issue 19)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    assert "setuptools>=77" in project["build-system"]["requires"]      # the first to read SPDX strings
