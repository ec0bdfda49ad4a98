"""The module graph is the architecture (CONTRIBUTING.md, "Layers"): an ``ast`` walk of the package finds every
import of a photosynth module and fails on one that goes up a layer, closes a cycle, or hides inside a function
although the module it imports is light (lazy imports are for modules that pull in a heavy package at import)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "photosynth"
#: Layers from the bottom (0) up; a module may import from its own layer or below. First matching prefix wins.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("photosynth", "photosynth.runtime", "photosynth.atomic", "photosynth.frames", "photosynth.imageio",
     "photosynth.jobs", "photosynth.environment", "photosynth.lockfile", "photosynth.design", "photosynth.weights",
     "photosynth.fetch"),
    ("photosynth.datasets", "photosynth.toyworld", "photosynth.metrics"),
    ("photosynth.translate", "photosynth.detect"),
    ("photosynth.study",),
    ("photosynth.report",),
    ("photosynth.commands", "photosynth.cli"),
)  # fmt: skip
#: Third-party packages slow enough to import (≥ ~0.3 s) that a light module may only import them inside functions;
#: a photosynth module importing one of them at its top is heavy too, and may be imported lazily.
HEAVY = frozenset({"torch", "torchvision", "torchmetrics", "torch_fidelity", "tensorflow", "keras", "ultralytics",
                   "matplotlib", "seaborn", "scipy", "cv2", "albumentations", "papermill", "playwright"})


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    late: bool  # inside a function


def layer(module: str) -> int:
    """The layer of ``module`` (:data:`LAYERS`); an unlisted module is an error."""
    best = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or (prefix != "photosynth" and module.startswith(prefix + "."))) and (
                    best is None or len(prefix) > len(best[1])):
                best = (index, prefix)
    if best is None:
        raise KeyError(f"{module} belongs to no layer: add it to LAYERS here and in CONTRIBUTING.md")
    return best[0]


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` under the package folder ``root``."""
    base = root.parent
    return {".".join(p.relative_to(base).with_suffix("").parts).removesuffix(".__init__"): p
            for p in sorted(root.rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def edges(root: Path) -> tuple[list[Edge], dict[str, set[str]]]:
    """Every import of one package module by another (with line and place), and the heavy third-party packages
    each module imports at its top."""
    known = modules(root)
    package = root.name
    found, third = [], {}
    for mod, path in known.items():
        tree = ast.parse(path.read_text())
        inside = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                  for n in ast.walk(f)}
        third[mod] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                names = [f"{base}.{a.name}" for a in node.names]
                if not any(_resolve(n, known) not in (None, _resolve(base, known)) for n in names):
                    names.append(base)  # names of the module itself, not submodules of a package
            else:
                continue
            late = id(node) in inside
            for name in names:
                top = name.split(".")[0]
                if top in HEAVY and not late:
                    third[mod].add(top)
                if top != package:
                    continue
                target = _resolve(name, known)
                if target and target != mod and not (name == target == mod.rpartition(".")[0]):
                    found.append(Edge(mod, target, node.lineno, late))
    return list(dict.fromkeys(found)), third


def heavy_modules(found: list[Edge], third: dict[str, set[str]]) -> set[str]:
    """Modules that import a :data:`HEAVY` package at their top, themselves or through their top-level imports."""
    heavy = {m for m, packages in third.items() if packages}
    changed = True
    while changed:
        changed = False
        for e in found:
            if not e.late and e.target in heavy and e.source not in heavy:
                heavy.add(e.source)
                changed = True
    return heavy


def cycles(found: list[Edge]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for e in found:
        graph.setdefault(e.source, set()).add(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def violations(root: Path) -> list[str]:
    """Upward imports, cycles and needless lazy imports of package ``root``, one line each."""
    found, third = edges(root)
    heavy = heavy_modules(found, third)
    problems = []
    for e in found:
        where = f"{e.source} (line {e.line}) imports {e.target}"
        if layer(e.target) > layer(e.source):
            problems.append(f"{where}: up from layer {layer(e.source)} to {layer(e.target)}")
        if e.late and e.target not in heavy:
            problems.append(f"{where} inside a function, but {e.target} is light: import it at the top")
    problems += [f"import cycle: {' -> '.join(c)}" for c in cycles(found)]
    return problems


def test_the_package_follows_its_layers() -> None:
    assert violations(PACKAGE) == []


def test_every_module_has_a_layer() -> None:
    for module in modules(PACKAGE):
        layer(module)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "photosynth"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(("files", "expected"), [
    ({"__init__.py": "", "runtime.py": "from photosynth.study import mixes\n", "study/__init__.py": "",
      "study/mixes.py": ""}, "photosynth.runtime (line 1) imports photosynth.study.mixes: up from layer 0 to 3"),
    ({"__init__.py": "", "metrics/__init__.py": "", "metrics/a.py": "from photosynth.metrics import b\n",
      "metrics/b.py": "from photosynth.metrics import a\n"}, "import cycle: photosynth.metrics.a -> photosynth.metrics.b"),
    ({"__init__.py": "", "design.py": "", "study/__init__.py": "",
      "study/mixes.py": "def f():\n    from photosynth.design import SOURCES\n    return SOURCES\n"},
     "photosynth.study.mixes (line 2) imports photosynth.design inside a function, but photosynth.design is light"),
])  # fmt: skip
def test_the_check_finds_an_upward_import_a_cycle_and_a_needless_lazy_import(tmp_path: Path, files: dict[str, str],
                                                                              expected: str) -> None:
    found = violations(_package(tmp_path, files))
    assert any(v.startswith(expected) for v in found), found


def test_a_lazy_import_of_a_heavy_module_is_allowed(tmp_path: Path) -> None:
    root = _package(tmp_path, {"__init__.py": "", "translate/__init__.py": "", "translate/net.py": "import torch\n",
                               "study/__init__.py": "",
                               "study/run.py": "def f():\n    from photosynth.translate import net\n    return net\n"})
    assert violations(root) == []


def test_every_module_is_on_the_api_page() -> None:
    """The book's API reference (book/api.md) documents every module but the command line's."""
    page = (PACKAGE.parent / "book" / "api.md").read_text()
    documented = set(re.findall(r"^\.\. automodule:: ([\w.]+)$", page, re.M))
    wanted = {m for m in modules(PACKAGE) if m not in ("photosynth", "photosynth.cli")
              and not m.startswith("photosynth.commands")}
    assert sorted(wanted - documented) == [] and sorted(documented - wanted) == []
