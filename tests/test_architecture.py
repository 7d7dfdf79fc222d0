"""Structural rules: the core imports no channel at module level; migrations match the models."""

from __future__ import annotations

import ast
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from sipas.code_search import outside_models
from sipas.models import Base
from sipas.plugins import CHANNELS, load_all_models

ROOT = Path(__file__).resolve().parent.parent


def _module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_does_not_import_channels_at_module_level():
    offenders = {
        str(path.relative_to(ROOT)): sorted(_module_level_imports(path) & set(CHANNELS))
        for path in (ROOT / "sipas").rglob("*.py")
        if "migrations" not in path.parts
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_stats_module_is_pure():
    stats = ROOT / "aggregator" / "stats.py"
    if stats.exists():
        allowed = {"__future__", "dataclasses", "decimal", "collections", "math", "typing", "fractions", "sipas",
                   "enum", "itertools", "functools", "datetime"}
        assert _module_level_imports(stats) <= allowed


def test_migrations_produce_exactly_the_models(database_url):
    load_all_models()
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = [d for d in compare_metadata(context, Base.metadata)
                if "apscheduler_jobs" not in repr(d) and not outside_models(d)]
    engine.dispose()
    assert diff == []


FIRST_PARTY = ("sipas", "kiosk", "sms_gateway", "aggregator")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Every import of a first-party module by another, at module level or inside a function alike
    (a lazy import still closes a circle: it only moves the failure to the first call)."""
    modules = {_module_name(p): p for package in FIRST_PARTY for p in (ROOT / package).rglob("*.py")
               if "migrations" not in p.parts}

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(filter(None, (known(alias.name) for alias in node.names)))
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.update(filter(None, (known(f"{node.module}.{alias.name}") or known(node.module)
                                             for alias in node.names)))
        # A module may use its own package's __init__ (that is how Python loads it anyway).
        graph[name] = {t for t in targets if t != name and not name.startswith(f"{t}.")}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
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
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circles():
    """The app factory imports the blueprints, the CLI imports its command modules: neither may be imported
    back (per-request accessors live in sipas.context, the CLI's context in sipas.cli_context)."""
    assert _circles(_import_graph()) == []


def test_the_circle_finder_finds_circles():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []
