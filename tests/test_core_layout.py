"""``core`` has no import cycle, read from the imports with ast (type-only imports count too).

Importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` first, so
an import also reaches every package above its target that is not already
above the importer: ``leds`` importing ``core.instrument.state`` would reach
``core.instrument``'s ``__init__`` and, through it, the reducer.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "breakage_pi"


def module_name(path: Path, root: Path) -> str:
    """The dotted name of ``path``, a module under the package folder ``root``."""
    while (root.parent / "__init__.py").exists():
        root = root.parent
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each module under ``root`` (a package folder) and the modules under ``root`` its imports run."""
    modules = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1])
                    target = f"{base}.{node.module}" if node.module else base
                else:
                    target = node.module
                targets.add(target)
                targets.update(f"{target}.{alias.name}" for alias in node.names)   # from a package import a module
        reached = set()
        for target in targets:
            parts = target.split(".")
            for end in range(1, len(parts) + 1):
                above = ".".join(parts[:end])
                if above in modules and not (name == above or name.startswith(above + ".")):
                    reached.add(above)
        graph[name] = reached
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as the modules along it (first repeated at the end), or None."""
    done, path = set(), []

    def visit(name: str) -> list[str] | None:
        if name in path:
            return path[path.index(name):] + [name]
        if name in done:
            return None
        path.append(name)
        for target in sorted(graph[name]):
            cycle = visit(target)
            if cycle:
                return cycle
        path.pop()
        done.add(name)
        return None

    for name in sorted(graph):
        cycle = visit(name)
        if cycle:
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle_through_a_package(tmp_path):
    core = tmp_path / "pkg" / "core"
    (core / "machine").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (core / "__init__.py").write_text("")
    (core / "machine" / "__init__.py").write_text("from .reducer import step\n")
    (core / "machine" / "reducer.py").write_text("from ..picture import draw\n")
    (core / "machine" / "state.py").write_text("")
    (core / "picture.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                     "    from .machine.state import State\n")
    assert find_cycle(import_graph(core)) == ["pkg.core.machine", "pkg.core.machine.reducer", "pkg.core.picture",
                                              "pkg.core.machine"]
    (core / "picture.py").write_text("")
    assert find_cycle(import_graph(core)) is None


def test_core_has_no_import_cycle():
    cycle = find_cycle(import_graph(PACKAGE / "core"))
    assert cycle is None, "import cycle in core: " + " -> ".join(cycle)
