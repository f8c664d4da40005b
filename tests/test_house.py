"""The house keeps its shape: no import circle between the analytics' modules, every `.sql`
file under queries/ is reached by some code path (an output, a reader, a build step), and every
shared SQL macro (queries/macros/) is created by the build and called from two files or more."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import PROJECT

QUERIES = PROJECT / "queries"


def module_name(path: Path) -> str:
    """`queries/forecast/methods.py` -> `queries.forecast.methods` (a package's `__init__.py` -> the package)."""
    parts = path.relative_to(PROJECT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = PROJECT / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports(path: Path) -> set[str]:
    """The queries modules a module imports, at any level (a function-level import still ties them)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("queries"):
            # `from queries.forecast import methods` imports a module; `from queries.kpis import X`, a name in one.
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found |= {name if is_module(name) else node.module for name in names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("queries.")}
    return found - {"queries"}


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
    # The runner (queries/__init__.py) is the hub every output module imports; the loops that matter are between outputs.
    graph = {module_name(path): imports(path) for path in QUERIES.rglob("*.py") if path != QUERIES / "__init__.py"}
    assert "queries.health.win_model" in graph["queries.health.health_score"]
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
    names = set(queries.sql_files())
    reached = {name for name in names if f'"{name}"' in text}
    for output in queries.outputs().values():
        reached |= {output.stored, output.stored_days, output.stored_when} - {None}
    return reached


def test_every_sql_file_under_queries_is_reached_by_some_code_path():
    import queries

    names = set(queries.sql_files())
    assert sorted(names - reached_sql()) == []
    assert {"health_stored_days", "pipeline_changes_stored_dates"} <= reached_sql()  # only through a Stored: declaration


def test_every_shared_sql_macro_is_created_by_the_build_and_called_from_another_file():
    """A fragment several outputs share is one macro (queries/macros/), not a copy kept in step."""
    import queries

    files = {path.stem: path.read_text(encoding="utf-8") for path in queries.MACROS_DIR.glob("*.sql")}
    assert set(files) == set(queries.MACROS)
    sql_files = [*QUERIES.rglob("*.sql"), *(PROJECT / "loaders").rglob("*.sql")]  # the outputs and the build's rollups
    callers = {path: path.read_text(encoding="utf-8") for path in sql_files}
    for name in queries.MACROS:
        assert f"create or replace macro {name}(" in files[name]
        used_in = [path.stem for path, text in callers.items() if path.stem != name and f"{name}(" in text]
        assert len(used_in) >= 2, f"{name} is called from {used_in}: a macro is for what two or more files share"


def scope_macros() -> set[str]:
    """partner_in_scope and the shared macros that call it (trust_by_quarter): calling one applies the one partner-scope rule."""
    import queries

    bodies = {path.stem: path.read_text(encoding="utf-8") for path in queries.MACROS_DIR.glob("*.sql")}
    calling = {name for name, text in bodies.items() if "partner_in_scope(" in queries.strip_comments_and_strings(text)}
    return {"partner_in_scope"} | calling


def writes_its_own_scope_rule(sql: str, scoped: set[str]) -> bool:
    """Whether a query that takes $managers filters partners its own way without saying why: it writes
    `list_contains($managers, ...)` inline, or calls none of the scope macros, and has no `-- Scope rule: <why>` line."""
    import queries

    if "managers" not in queries.body_params(sql) or re.search(r"^\s*-- Scope rule: \S", sql, re.MULTILINE):
        return False
    body = queries.strip_comments_and_strings(sql)
    inline = re.search(r"list_contains\(\s*\$managers\b", body)
    calls = any(re.search(rf"\b{name}\(", body) for name in scoped)
    return bool(inline) or not calls


def test_every_query_that_takes_managers_applies_the_one_partner_scope_rule():
    """Issue 21: a partner lead's view (and every sidebar filter) keeps the same partners on every page."""
    scoped = scope_macros()
    assert scoped >= {"partner_in_scope", "trust_by_quarter"}
    texts = {str(path.relative_to(QUERIES)): path.read_text(encoding="utf-8") for path in QUERIES.rglob("*.sql")}
    assert len([name for name, sql in texts.items() if "$managers" in sql]) >= 20
    own = [name for name, sql in texts.items() if writes_its_own_scope_rule(sql, scoped)]
    assert own == [], "call partner_in_scope(...), or say why the rule differs in a '-- Scope rule:' line"


def test_the_scope_check_catches_an_inline_manager_filter():
    scoped = {"partner_in_scope"}
    inline = "select * from partners where ($managers is null or list_contains($managers, partner_manager))\n"
    macro = "select * from partners where partner_in_scope(null, null, null, partner_manager, null, null, null, $managers)\n"
    assert writes_its_own_scope_rule(inline, scoped)
    assert not writes_its_own_scope_rule(macro, scoped)
    # The macro for one filter and an inline copy for another use is still an inline rule.
    assert writes_its_own_scope_rule(macro + inline, scoped)
    # A macro named only in a comment or a string is not called.
    assert writes_its_own_scope_rule("-- not partner_in_scope(\nselect 'partner_in_scope(' where $managers is null\n", scoped)
    # A rule that differs on purpose says why; a query without $managers has no partner scope to keep.
    assert not writes_its_own_scope_rule("-- Scope rule: the activity's owner, not the partner's manager\n" + inline, scoped)
    assert writes_its_own_scope_rule("-- Scope rule:\n" + inline, scoped)
    assert not writes_its_own_scope_rule("select * from partners where list_contains($regions, region)\n", scoped)


DOMAINS = {"program", "partner", "engagement", "attribution", "disagreements", "forecast", "health", "data"}


def test_queries_are_filed_by_domain_with_engine_inputs_and_stored_readers_in_their_own_folders():
    """queries/<domain>/ holds the outputs pages call; <domain>/inputs/ what only an engine reads;
    <domain>/stored/ the readers of what the build stored. Nothing but the runner's own modules at the top."""
    import queries

    for name, path in queries.sql_files().items():
        folders = path.relative_to(QUERIES).parts[:-1]
        assert folders[0] in DOMAINS and folders[1:] in ((), ("inputs",), ("stored",)), f"{name}: {path}"
    readers = set()
    for output in queries.outputs().values():
        readers |= {output.stored, output.stored_days, output.stored_when} - {None}
    for reader in readers - set(queries.PYTHON_OUTPUTS):
        assert queries.sql_files()[reader].parent.name == "stored", f"{reader} reads stored rows: file it under stored/"
    # A name says its role too: a reader of stored rows has "stored" in its name, and only such a reader.
    stored = {name for name, path in queries.sql_files().items() if path.parent.name == "stored"}
    assert stored == {name for name in queries.sql_files() if "stored" in name}
    assert not list(QUERIES.glob("*.sql")), "an output at the top of queries/: file it under its domain"


def test_an_output_name_is_unique_across_the_domain_folders(tmp_path, monkeypatch):
    import queries

    for folder in ("program", "partner"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same_name.sql").write_text("-- x\nselect 1\n", encoding="utf-8")
    monkeypatch.setattr(queries, "QUERIES_DIR", tmp_path)
    monkeypatch.setattr(queries, "MACROS_DIR", tmp_path / "macros")
    queries.sql_files.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="two queries named 'same_name'"):
            queries.sql_files()
    finally:
        monkeypatch.undo()
        queries.sql_files.cache_clear()


def calls(path: Path, owner: str, name: str) -> list[ast.Call]:
    """Every call of `<owner>.<name>(...)` in a module (`st.tabs`, `ui.expander`)."""
    return [
        node
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == name
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == owner
    ]


PAGES = sorted((PROJECT / "pages").glob("*.py"))
# What the pages draw, pages and the module that draws a section of one (Partner 360's outreach log).
DRAWN = [*PAGES, PROJECT / "outreach.py"]


def test_pages_open_tabs_through_ui_tabs_so_a_closed_tab_is_not_sent():
    # st.tabs runs and sends every tab's content; ui.tabs runs only the open one.
    direct = {path.name: [call.lineno for call in calls(path, "st", "tabs")] for path in DRAWN}
    assert {name: lines for name, lines in direct.items() if lines} == {}


def test_the_tab_check_finds_a_direct_call(tmp_path: Path):
    page = tmp_path / "page.py"
    page.write_text("import streamlit as st\na, b = st.tabs(['A', 'B'])\n")
    assert [call.lineno for call in calls(page, "st", "tabs")] == [2]


def test_every_lazy_tab_and_expander_is_listed_for_the_leak_checks():
    # tests/test_roles_pages.py opens the containers state.LAZY_TABS and LAZY_EXPANDERS name; one
    # missing from them would hide its content from the checks that a partner lead sees no money.
    import state

    def keys(name: str) -> set[str]:
        found = set()
        for path in DRAWN:
            for call in calls(path, "ui", name):
                key = call.args[1]
                assert isinstance(key, ast.Attribute) and isinstance(key.value, ast.Name) and key.value.id == "state", (
                    f"{path.name}:{call.lineno}: name the key in state.py"
                )
                found.add(getattr(state, key.attr))
        return found

    assert keys("tabs") == set(state.LAZY_TABS)
    assert keys("expander") == set(state.LAZY_EXPANDERS)
