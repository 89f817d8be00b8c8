"""The shape of the code: no import cycles, and the core never imports an area.

The graph holds every import statement in `bot`, `handlers` and `models` (at module level, inside
functions and under TYPE_CHECKING alike), resolved the way Python resolves them.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "models")
AREAS = (
    "members",
    "groups",
    "polls",
    "meetings",
    "solidarity",
    "consensus",
    "audit",
    "operations",
)


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the three packages (not migrations)."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules one module imports (`from a import b` counts `a.b` if a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in known else base)
    return {t for t in targets if t in known and t != name}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_the_graph_sees_the_areas() -> None:
    edges = graph()
    assert "bot.core.app" in edges["bot.wiring"]
    assert "bot.polls.service" in edges["handlers.polls.create.launch"]


def test_core_and_engine_never_import_an_area() -> None:
    area_prefixes = tuple(f"{root}.{area}" for root in ("bot", "handlers") for area in AREAS)
    for name, targets in graph().items():
        if name.startswith(("bot.core", "bot.delivery", "models")):
            wrong = sorted(t for t in targets if t.startswith(area_prefixes))
            assert not wrong, f"{name} imports {wrong}"


def test_models_never_import_the_bot() -> None:
    for name, targets in graph().items():
        if name.startswith("models"):
            assert not [t for t in targets if not t.startswith("models")], name


def test_pillow_is_not_imported_at_start_up() -> None:
    """Charts import Pillow when a report is drawn, not when the bot starts (every area's
    routers, renderers and jobs imported)."""
    import subprocess
    import sys

    script = (
        "import sys, bot.__main__, bot.wiring\n"
        "[setup for setup in bot.wiring.areas()]\n"
        "import bot.consensus.jobs, bot.polls.jobs\n"
        "print(sorted(m for m in ('PIL', 'bot.polls.export') if m in sys.modules))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
