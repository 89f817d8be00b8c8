"""Handlers stay thin: a conversation is small step handlers, none over about 60 lines."""

from __future__ import annotations

import ast
from pathlib import Path

HANDLERS = Path(__file__).resolve().parent.parent / "handlers"
LIMIT = 60


def long_functions(root: Path, limit: int) -> list[str]:
    """Functions (with their body, decorators excluded) longer than `limit` lines."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name}")
    return found


def test_the_check_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "long.py").write_text(f"def long() -> None:\n{body}\n")
    assert long_functions(tmp_path, LIMIT) == [f"{tmp_path.name}/long.py:1 long"]


def test_no_handler_function_is_long() -> None:
    assert long_functions(HANDLERS, LIMIT) == []
