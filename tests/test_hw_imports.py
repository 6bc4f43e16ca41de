"""Architecture: hw depends only on core (and the vendor libraries); core does no I/O, threads or hardware."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "breakage_pi"
NO_IO = {"os", "io", "pathlib", "shutil", "tempfile", "socket", "subprocess", "threading", "multiprocessing",
         "asyncio", "time", "tomllib", "logging", "sys", "gpiozero", "busio", "board", "alsaaudio", "serial",
         "soundfile", "onnxruntime"}


def imports(path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            names.add(".".join(base + ([node.module] if node.module else [])))
    return names


def test_hw_imports_only_core_of_the_project():
    for path in sorted((PACKAGE / "hw").rglob("*.py")):
        for name in imports(path):
            if name.startswith("breakage_pi"):
                assert name.startswith(("breakage_pi.core", "breakage_pi.hw")), f"{path.name} imports {name}"


def test_core_does_no_io_and_imports_nothing_above_it():
    for path in sorted((PACKAGE / "core").glob("*.py")):
        for name in imports(path):
            top = name.split(".")[0]
            assert top not in NO_IO and not top.startswith("adafruit"), f"core/{path.name} imports {name}"
            if top == "breakage_pi":
                assert name.startswith("breakage_pi.core"), f"core/{path.name} imports {name}"


def test_the_import_reader_resolves_relative_imports():
    assert "breakage_pi.core.settings" in imports(PACKAGE / "hw" / "grid.py")
    assert "breakage_pi.core.errors" in imports(PACKAGE / "hw" / "errors.py")
    assert "breakage_pi.hw.sim.seesaw" in imports(PACKAGE / "hw" / "sim" / "bus.py")
