"""The dependency rules of DESIGN §3, read from the imports with ast."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "breakage_pi"
IO_MODULES = {"os", "io", "socket", "threading", "multiprocessing", "subprocess", "time", "pathlib", "shutil",
              "tempfile", "serial", "alsaaudio", "gpiozero", "board", "busio", "adafruit_neotrellis",
              "adafruit_seesaw", "onnxruntime", "soundfile", "logging", "asyncio", "sys", "tomllib"}
SIBLINGS = {"audio", "ml", "hw", "sync", "midi", "store"}
# sync applies pushes through store's atomic writes (store depends only on core, so the graph stays one-way)
ALSO_ALLOWED = {"sync": {"store"}}


def imports_of(path: Path) -> set[str]:
    """Absolute module names imported by ``path`` (relative imports resolved)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.add(".".join(base + ([node.module] if node.module else [])))
            else:
                names.add(node.module)
    return names


def modules_under(folder: str):
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules_under("core"), ids=lambda p: p.name)
def test_core_does_no_io_and_imports_nothing_else_of_the_project(path):
    for name in imports_of(path):
        assert name.split(".")[0] not in IO_MODULES, f"{path.name} imports {name}"
        if name.startswith("breakage_pi."):
            assert name.startswith("breakage_pi.core"), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", [p for folder in ("audio", "ml", "hw", "sync", "midi") for p in modules_under(folder)]
                         + [PACKAGE / "store.py"], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_packages_depend_only_on_core(path):
    own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    for name in imports_of(path):
        parts = name.split(".")
        if parts[0] == "breakage_pi" and len(parts) > 1:
            allowed = {"core", own} | ALSO_ALLOWED.get(own, set())
            assert parts[1] in allowed, f"{path.relative_to(PACKAGE)} imports {name}"
