"""The package's own imports run one way: no cycles, lower layers never import higher ones.

Read from the source with ``ast``, so imports inside functions count too (they hid the
io ↔ roadmap and compare ↔ runner cycles). The layers are documented in
docs/architecture.md ("Layers"); a new module must be placed in one here.
"""

from __future__ import annotations

import ast
import functools
import graphlib
from pathlib import Path

import dxanalysis

PACKAGE = "dxanalysis"
ROOT = Path(dxanalysis.__file__).parent

#: Bottom to top. A module may import modules of its own layer or of lower layers.
#: ``x.*`` stands for every module of the sub-package ``x`` (and ``x`` itself).
LAYERS: list[tuple[str, list[str]]] = [
    ("foundations", ["validate", "textnorm", "fsutil", "runlock", "kernel", "i18n", ""]),  # "" = dxanalysis/__init__.py (__version__)
    ("config", ["config", "cache"]),  # cache: the content-addressed store of a report folder (fsutil + the package hash)
    ("inputs", ["io_roadmap", "io"]),
    ("privacy", ["privacy"]),
    ("statistics", ["stats.*"]),
    ("steps", ["survey", "segments", "training", "roadmap", "freetext", "waves", "compare"]),
    ("views", ["views.*"]),  # statistics' results and codes → words (i18n); steps never import views
    ("drafting", ["codebook_draft", "questionnaire", "sample"]),
    ("plots", ["plots.*"]),
    ("publishing", ["report", "explore", "audit", "text"]),  # text: the free-text section (freetext computes, plots.text draws)
    ("running", ["backends", "manifest", "executor", "runner"]),
    ("interface", ["cli"]),
]

#: Known upward imports, each with the reason and when it goes. Keep this short.
ALLOWED_UPWARD: set[tuple[str, str]] = set()  # none since issue #18 split text.py into freetext (compute) and text (publish)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str, path: Path, modules: dict[str, Path]) -> dict[str, list[int]]:
    """Own modules imported by ``name`` → line numbers (top level and inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    package = [p for p in package if p]
    found: dict[str, list[int]] = {}

    def add(target: str, line: int) -> None:
        if target in modules and target != name:
            found.setdefault(target, []).append(line)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    add(alias.name[len(PACKAGE) + 1:], node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                mod = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module and (node.module == PACKAGE or node.module.startswith(PACKAGE + ".")):
                mod = node.module[len(PACKAGE) + 1:]
            else:
                continue
            for alias in node.names:
                sub = f"{mod}.{alias.name}" if mod else alias.name
                if sub in modules:  # from . import survey / from .plots import text
                    add(sub, node.lineno)
                else:  # from .survey import x / from . import __version__
                    add(mod, node.lineno)
    return found


@functools.cache  # parsed once per session (was once per test: ~1 s CPU each); the tests only read it
def _graph() -> dict[str, dict[str, list[int]]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _layer_of(name: str) -> int | None:
    for i, (_, members) in enumerate(LAYERS):
        for m in members:
            if m == name or (m.endswith(".*") and (name == m[:-2] or name.startswith(m[:-1]))):
                return i
    return None


def _show(name: str) -> str:
    return f"{PACKAGE}.{name}" if name else PACKAGE


def test_every_module_has_a_layer():
    missing = [_show(n) for n in _modules() if _layer_of(n) is None]
    assert not missing, f"place these modules in LAYERS (and docs/architecture.md): {missing}"


def test_no_import_cycles():
    graph = _graph()
    try:
        tuple(graphlib.TopologicalSorter({a: set(b) for a, b in graph.items()}).static_order())
    except graphlib.CycleError as err:
        cycle = err.args[1]
        raise AssertionError("import cycle: " + " → ".join(_show(n) for n in cycle)) from None


def test_imports_go_down_the_layers():
    bad = []
    for a, targets in _graph().items():
        for b, lines in targets.items():
            if _layer_of(b) > _layer_of(a) and (a, b) not in ALLOWED_UPWARD:
                bad.append(f"{_show(a)} (line {lines[0]}, layer {LAYERS[_layer_of(a)][0]}) imports {_show(b)} (layer {LAYERS[_layer_of(b)][0]})")
    assert not bad, "\n".join(bad)


def test_allowed_upward_imports_still_exist():
    # when an exception is fixed, drop it from ALLOWED_UPWARD
    graph = _graph()
    stale = [pair for pair in ALLOWED_UPWARD if pair[1] not in graph.get(pair[0], {})]
    assert not stale, stale


def test_statistics_import_nothing_else_of_the_package():
    outside = {a: sorted(b) for a, targets in _graph().items() if a.startswith("stats")
               for b in [set(t for t in targets if not t.startswith("stats"))] if b}
    assert not outside, outside


def test_the_graph_sees_function_level_and_relative_imports():
    # guards the test itself: these edges exist only as imports inside functions / `from . import`
    graph = _graph()
    assert "audit" in graph["runner"]  # `from .audit import audit_report` inside audit_failed_rows
    assert "report" in graph["runner"]  # `from .report import write_index` inside _write_comparison
    assert "survey" in graph["segments"]  # `from . import survey as _survey`
    assert "plots.text" in graph["text"]  # `from .plots import text as ptext`
    assert "io_roadmap" in graph["io"]
    assert "kernel" in graph[""]
