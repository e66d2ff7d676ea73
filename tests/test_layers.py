"""Data flows one way: no module imports a layer above its own (README, "Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "equilibrio"
# io -> store -> nlp -> metrics / network -> insights -> report -> api -> demo / app -> cli
LAYER = {
    **dict.fromkeys(("errors", "schema", "_version", "data", "models"), 0),
    "io": 1,
    "store": 2,
    "nlp": 3,
    "metrics": 4,
    "network": 4,
    "insights": 5,
    "report": 6,
    "api": 7,
    "demo": 8,
    "app": 8,
    "cli": 9,
    **dict.fromkeys(("__init__", "__main__"), 10),
}


def _imported_layers(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # imports inside functions too
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module] if node.module != "equilibrio" else [f"equilibrio.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        found |= {m.split(".")[1] for m in modules if m.startswith("equilibrio.")}
    return found


def test_no_module_imports_a_higher_layer() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        assert layer in LAYER, f"{path}: which layer is {layer!r}? add it to LAYER"
        upward += [
            f"{path.relative_to(PACKAGE)} imports {name}"
            for name in _imported_layers(path)
            if LAYER[name] > LAYER[layer]
        ]
    assert upward == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "store_module.py"
    module.write_text("def f():\n    from equilibrio.report.balance_report import render_report\n", encoding="utf-8")
    assert _imported_layers(module) == {"report"}
