"""The house keeps its shape: no import circle between the analytics' modules, every `.sql`
file under queries/ is reached by some code path (an output, a reader, a build step), and every
shared SQL macro (queries/macros/) is created by the build and called from two files or more."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import PROJECT

QUERIES = PROJECT / "queries"


def imports(path: Path) -> set[str]:
    """The queries modules a module imports, at any level (a function-level import still ties them)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("queries"):
            names = [f"queries.{alias.name}" for alias in node.names] if node.module == "queries" else [node.module]
            found |= {name for name in names if (QUERIES / f"{name.removeprefix('queries.')}.py").exists()}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("queries.")}
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of two or more modules that import one another, directly or round a loop (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_two_analytics_modules_import_each_other_round_a_loop():
    graph = {f"queries.{path.stem}": imports(path) for path in QUERIES.glob("*.py") if path.stem != "__init__"}
    assert "queries.win_model" in graph["queries.health_score"]
    assert circles(graph) == []


def test_the_circle_finder_finds_a_loop_of_three():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def reached_sql() -> set[str]:
    """SQL outputs some code path runs: named as a string in the app's code (pages, queries, loaders,
    charts, the frame), or declared as the reader of a stored view or the days it holds."""
    import queries

    code = [PROJECT / name for name in ("app.py", "ui.py")]
    for folder in ("queries", "loaders", "pages", "charts"):
        code += sorted((PROJECT / folder).rglob("*.py"))
    text = "\n".join(path.read_text(encoding="utf-8") for path in code)
    names = {path.stem for path in QUERIES.glob("*.sql")}
    reached = {name for name in names if f'"{name}"' in text}
    for output in queries.outputs().values():
        reached |= {output.stored, output.stored_days, output.stored_when} - {None}
    return reached


def test_every_sql_file_under_queries_is_reached_by_some_code_path():
    names = {path.stem for path in QUERIES.glob("*.sql")}
    assert sorted(names - reached_sql()) == []
    assert {"health_stored_days", "pipeline_changes_stored_dates"} <= reached_sql()  # only through a Stored: declaration


def test_every_shared_sql_macro_is_created_by_the_build_and_called_from_another_file():
    """A fragment several outputs share is one macro (queries/macros/), not a copy kept in step."""
    import queries

    files = {path.stem: path.read_text(encoding="utf-8") for path in queries.MACROS_DIR.glob("*.sql")}
    assert set(files) == set(queries.MACROS)
    callers = {path: path.read_text(encoding="utf-8") for path in QUERIES.rglob("*.sql")}
    for name in queries.MACROS:
        assert f"create or replace macro {name}(" in files[name]
        used_in = [path.stem for path, text in callers.items() if path.stem != name and f"{name}(" in text]
        assert len(used_in) >= 2, f"{name} is called from {used_in}: a macro is for what two or more files share"
