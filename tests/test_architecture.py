"""The dependency rules of DESIGN §3, read from the imports with ast: the one architecture checker.

``core`` does no I/O and imports nothing above it; each package (audio, ml,
hw, sync, store) imports only core, itself, and ``breakage_pi.children``
(how every child process is started, which imports nothing of the project).
Children stay light: the training child loads no ONNX code.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "breakage_pi"
IO_MODULES = {"os", "io", "socket", "threading", "multiprocessing", "subprocess", "time", "pathlib", "shutil",
              "tempfile", "serial", "alsaaudio", "gpiozero", "board", "busio", "adafruit_neotrellis",
              "adafruit_seesaw", "onnxruntime", "soundfile", "logging", "asyncio", "sys", "tomllib"}
SIBLINGS = {"audio", "ml", "hw", "sync", "midi", "store"}
# sync applies pushes through store's atomic writes (store depends only on core, so the graph stays one-way)
ALSO_ALLOWED = {"sync": {"store"}}
SHARED_LEAVES = {"children"}


def imports_of(path: Path) -> set[str]:
    """Absolute module names imported by ``path`` anywhere in it (relative imports resolved)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                names.add(".".join(base + ([node.module] if node.module else [])))
            else:
                names.add(node.module)
    return names


def modules_under(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def test_the_import_reader_resolves_relative_imports():
    assert "breakage_pi.core.settings" in imports_of(PACKAGE / "hw" / "grid.py")
    assert "breakage_pi.core.errors" in imports_of(PACKAGE / "hw" / "errors.py")
    assert "breakage_pi.hw.sim.seesaw" in imports_of(PACKAGE / "hw" / "sim" / "bus.py")
    assert "breakage_pi.children" in imports_of(PACKAGE / "audio" / "process.py")


@pytest.mark.parametrize("path", modules_under("core"), ids=lambda p: p.name)
def test_core_does_no_io_and_imports_nothing_else_of_the_project(path):
    for name in imports_of(path):
        top = name.split(".")[0]
        assert top not in IO_MODULES and not top.startswith("adafruit"), f"{path.name} imports {name}"
        if top == "breakage_pi":
            assert name.startswith("breakage_pi.core"), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", [p for folder in ("audio", "ml", "hw", "sync", "midi") for p in modules_under(folder)]
                         + [PACKAGE / "store.py"], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_packages_depend_only_on_core(path):
    own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    for name in imports_of(path):
        parts = name.split(".")
        if parts[0] == "breakage_pi" and len(parts) > 1:
            allowed = {"core", own} | ALSO_ALLOWED.get(own, set()) | SHARED_LEAVES
            assert parts[1] in allowed, f"{path.relative_to(PACKAGE)} imports {name}"



@pytest.mark.parametrize("leaf", sorted(SHARED_LEAVES))
def test_shared_leaves_import_nothing_of_the_project(leaf):
    assert not [name for name in imports_of(PACKAGE / f"{leaf}.py") if name.startswith("breakage_pi")]


def test_the_training_child_loads_neither_onnx_nor_onnxruntime():
    code = ("import sys, breakage_pi.ml.process; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('onnx', 'onnxruntime')))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def third_party_modules_loaded_by(imports: str) -> set[str]:
    """Top-level modules outside the standard library that a fresh interpreter (this one) has loaded
    after ``import sys`` and ``imports``, private ones (``_cffi_backend``) left out."""
    code = (f"import sys{', ' if imports else ''}{imports}; "
            "print(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {name for name in ast.literal_eval(output) if not name.startswith("_")}


def test_the_entry_module_and_the_audio_process_import_nothing_heavy():
    """A spawned child re-runs the parent's entry module: the CLI's must stay light, and the audio
    process loads only what it plays with (numpy, and soundfile and soxr for the kit).

    What the interpreter loads before any of our code (Debian's python3 imports its own
    ``sitecustomize``) is measured with a bare interpreter and not counted against us."""
    interpreter = third_party_modules_loaded_by("")
    assert not {name for name in interpreter if name.startswith("breakage_pi")}, interpreter
    loaded = third_party_modules_loaded_by("breakage_pi.cli, breakage_pi.audio.process, breakage_pi.audio.kit")
    assert loaded - interpreter <= {"breakage_pi", "numpy", "soundfile", "soxr", "cffi", "typing_extensions"}, \
        (loaded - interpreter, interpreter)
