"""Rules of the code's shape that no single module can check: no import cycles in service/,
and SQL only in service/storage/. Both read the source with ast, so they see every import
(at module level, inside functions, under TYPE_CHECKING) and every string literal."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

SERVICE = Path(__file__).resolve().parent.parent / "service"
# A statement, not a word: SELECT needs its FROM, UPDATE its SET, and so on; in capitals, as
# all our SQL is written, so that prose ("select the words from ...") is not taken for it.
# SQL in small letters is still caught when it runs: by the call (RUNS_SQL) outside storage.
SQL = re.compile(
    r"\bSELECT\b[\s\S]+?\bFROM\b|\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b|\b(?:CREATE|DROP)\s+(?:TEMP\s+|VIRTUAL\s+|UNIQUE\s+)?"
    r"(?:TABLE|INDEX|VIEW|TRIGGER)\b|\bPRAGMA\s+\w+|\bBEGIN\s+(?:IMMEDIATE|EXCLUSIVE)\b")
RUNS_SQL = {"execute", "executemany", "executescript", "query"}


def module_files(root: Path = SERVICE) -> dict[str, Path]:
    files = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """The service modules `name` imports, with the line of each import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target:
                    yield target, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:  # a submodule
                    yield f"{base}.{alias.name}", node.lineno
                elif base in modules:  # a name from a module
                    yield base, node.lineno


def import_graph(root: Path = SERVICE) -> dict[str, dict[str, int]]:
    modules = module_files(root)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges = graph.setdefault(name, {})
        for target, line in imports_of(name, path, modules):
            if target != name:
                edges.setdefault(target, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each as one
    cycle through it that a reader can follow."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(_a_cycle(graph, set(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _a_cycle(graph: dict[str, dict[str, int]], component: set[str]) -> list[str]:
    """A path from the first module of the component back to itself, inside it."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node]):
            if target == start:
                return [*paths[node], start]
            if target in component and target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def _described(graph: dict[str, dict[str, int]], cycle: list[str]) -> str:
    return " -> ".join(f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)
                       ) + f" -> {cycle[-1]}"


def test_no_import_cycles_in_service() -> None:
    graph = import_graph()
    assert len(graph) > 50 and "service.storage.db" in graph["service.entries"]
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(_described(graph, c) for c in found)


def test_the_cycle_finder_finds_cycles_of_every_kind(tmp_path: Path) -> None:
    """On a package made to hold them: at module level, inside a function, relative."""
    package = tmp_path / "pkg"
    (package / "inner").mkdir(parents=True)
    for name, source in {
        "__init__.py": "",
        "a.py": "from pkg import b\n",
        "b.py": "def later():\n    from pkg.inner import c\n",
        "inner/__init__.py": "",
        "inner/c.py": "from .. import a\nimport pkg.d\n",
        "d.py": "from pkg.e import thing\n",
        "e.py": "thing = 1\n",
    }.items():
        (package / name).write_text(source)
    graph = import_graph(package)
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.inner.c", "pkg.a"]]
    (package / "e.py").write_text("import pkg.d\nthing = 1\n")
    assert sorted(map(tuple, cycles(import_graph(package)))) == [
        ("pkg.a", "pkg.b", "pkg.inner.c", "pkg.a"), ("pkg.d", "pkg.e", "pkg.d")]


def sql_in(paths: list[Path]) -> list[str]:
    """Every string literal holding an SQL statement, and every call that runs SQL."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = SQL.search(node.value)
                if match:
                    found.append(f"{path.name}:{node.lineno}: {match.group(0)[:60]!r}")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in RUNS_SQL):
                found.append(f"{path.name}:{node.lineno}: .{node.func.attr}(...)")
    return sorted(found)


def split_by_storage(root: Path = SERVICE) -> tuple[list[Path], list[Path]]:
    """The modules outside service/storage/, and those inside it."""
    paths = sorted(root.rglob("*.py"))
    inside = [p for p in paths if p.relative_to(root).parts[0] == "storage"]
    return [p for p in paths if p not in inside], inside


def test_sql_only_in_storage() -> None:
    outside, inside = split_by_storage()
    assert sql_in(outside) == []
    assert len(sql_in(inside)) > 100  # the same reading finds the SQL where it belongs


def test_the_sql_finder_finds_statements_and_calls(tmp_path: Path) -> None:
    root = tmp_path / "service"
    (root / "storage").mkdir(parents=True)
    (root / "storage" / "rows.py").write_text('Q = "SELECT * FROM facts"\n')
    (root / "review.py").write_text(
        '"""Select the words from the note; update the set of facts; delete from view."""\n'
        'def reanchor(db, entry):\n'
        '    return db.query(f"SELECT * FROM facts WHERE entry_id = {entry}")\n'
        'TEAM = ("INSERT INTO teams (name)"\n        " VALUES (?)")\n'
        'def move(conn):\n'
        '    conn.execute("update facts set revision = 2")\n')
    outside, inside = split_by_storage(root)
    assert [p.name for p in inside] == ["rows.py"]
    assert sql_in(outside) == [
        "review.py:3: 'SELECT * FROM'", "review.py:3: .query(...)",
        "review.py:4: 'INSERT INTO'", "review.py:7: .execute(...)"]
