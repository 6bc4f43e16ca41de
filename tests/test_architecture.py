"""The dependency rules of DESIGN §3, read from the imports with ast: the one architecture checker.

``core`` does no I/O and imports nothing above it; each package (audio, ml,
hw, sync, midi) imports only core, the store, itself, and ``breakage_pi.children``
(how every child process is started, which imports nothing of the project);
the daemon composes them; ``cli`` and ``bench`` sit on top. No import cycle
between modules, no module over :data:`MAX_LINES` lines. Children stay
light: the training child loads no ONNX code.
"""

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "breakage_pi"
IO_MODULES = {"os", "io", "socket", "threading", "multiprocessing", "subprocess", "time", "pathlib", "shutil",
              "tempfile", "serial", "alsaaudio", "gpiozero", "board", "busio", "adafruit_neotrellis",
              "adafruit_seesaw", "onnxruntime", "soundfile", "logging", "asyncio", "sys", "tomllib"}
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


# -- the whole package: layers, cycles, sizes -------------------------------------------------------

LAYERS = {
    "": set(),                                  # breakage_pi/__init__.py: the stop signals held at start-up
    "core": {"core"},
    "store": {"core", "store"},
    "children": {"children"},
    **{package: {"core", "store", "children", package} for package in ("hw", "audio", "ml", "midi", "sync")},
    "daemon": {"", "core", "store", "children", "hw", "audio", "ml", "midi", "sync", "daemon"},
    "cli": {"", "core", "store", "children", "hw", "audio", "ml", "midi", "sync", "daemon", "cli", "bench"},
    "bench": {"", "core", "store", "children", "hw", "audio", "ml", "midi", "sync", "daemon", "bench"},
}
"""What each layer (a subpackage, or a top-level module) may import of the project: DESIGN §3's
``cli, bench -> daemon -> (hw, audio, ml, midi, sync, store) -> core``."""
MAX_LINES = 450


def module_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def all_modules() -> dict[str, Path]:
    return {module_of(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def project_imports(path: Path) -> set[str]:
    """The modules of the project ``path`` imports, anywhere in it: ``from package import module`` names
    the module, ``from module import name`` the module."""
    modules = all_modules()
    module = module_of(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    found.add(f"{base}.{alias.name}")
                elif base in modules:
                    found.add(base)
    return found


def test_the_import_graph_reader_names_modules_not_packages():
    assert "breakage_pi.cli.doctor" in project_imports(PACKAGE / "cli" / "__init__.py")
    assert "breakage_pi.core.errors" in project_imports(PACKAGE / "cli" / "__init__.py")
    assert "breakage_pi" in project_imports(PACKAGE / "daemon" / "stop.py")
    assert layer("breakage_pi.daemon.root") == "daemon" and layer("breakage_pi.store") == "store"


@pytest.mark.parametrize("module", sorted(all_modules()), ids=lambda m: m.removeprefix("breakage_pi."))
def test_each_layer_imports_only_the_layers_below_it(module):
    path = all_modules()[module]
    allowed = LAYERS[layer(module)]
    for imported in sorted(project_imports(path)):
        assert layer(imported) in allowed, (f"{path.relative_to(PACKAGE)} imports {imported}: "
                                            f"the {layer(module) or 'package'} layer may import only "
                                            f"{', '.join(sorted(allowed)) or 'nothing of the project'}")


def import_cycles() -> list[list[str]]:
    """Every strongly connected set of modules that import each other (Tarjan), each as a list."""
    graph = {module: sorted(project_imports(path) - {module}) for module, path in all_modules().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.get(module, ()):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


def test_the_cycle_finder_finds_a_cycle(monkeypatch):
    fake = {"breakage_pi.a": Path("a"), "breakage_pi.b": Path("b"), "breakage_pi.c": Path("c")}
    imports = {"a": {"breakage_pi.b"}, "b": {"breakage_pi.a"}, "c": {"breakage_pi.a"}}
    monkeypatch.setitem(globals(), "all_modules", lambda: fake)
    monkeypatch.setitem(globals(), "project_imports", lambda path: imports[str(path)])
    assert import_cycles() == [["breakage_pi.a", "breakage_pi.b"]]


def test_no_module_imports_itself_back_through_others():
    cycles = import_cycles()
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(cycle) for cycle in cycles)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_longer_than_a_sitting(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines (at most {MAX_LINES})"
