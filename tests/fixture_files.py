"""Finding fixtures: fixtures/<target dialect>/<situation>.{before,after,unchanged}.py."""

from __future__ import annotations

import ast
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def pairs(target: str | None = None) -> list[Path]:
    return sorted(FIXTURES.glob(f"{target or '*'}/*.before.py"))


def unchanged(target: str | None = None) -> list[Path]:
    return sorted(FIXTURES.glob(f"{target or '*'}/*.unchanged.py"))


def after_of(before: Path) -> Path:
    return before.with_name(before.name.replace(".before.py", ".after.py"))


def target_of(path: Path) -> str:
    return path.parent.name


def fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.split('.')[0]}"


def input_shapes(source: str) -> list[tuple[int, ...]]:
    """INPUT_SHAPES read without executing the fixture."""
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "INPUT_SHAPES" for t in statement.targets
        ):
            return [tuple(s) for s in ast.literal_eval(statement.value)]
    raise AssertionError("fixture has no INPUT_SHAPES")
