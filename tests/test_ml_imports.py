"""Architecture of the nets' package: ml imports only core, and the training child stays light."""

from __future__ import annotations

import ast
import subprocess
import sys

from ml_builders import REPO

ML = REPO / "breakage_pi" / "ml"


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.add(node.module or "")
            elif node.level == 1:
                names.add(f"breakage_pi.ml.{node.module or ''}")
            else:
                names.add(f"breakage_pi.{node.module or ''}")
    return names


def test_ml_imports_only_core_of_the_project() -> None:
    for path in sorted(ML.glob("*.py")):
        for name in _imports(path):
            if name.startswith("breakage_pi"):
                assert name.startswith(("breakage_pi.core", "breakage_pi.ml")), f"{path.name} imports {name}"


def test_the_training_child_loads_neither_onnx_nor_onnxruntime() -> None:
    code = ("import sys, breakage_pi.ml.process; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('onnx', 'onnxruntime')))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
