"""Structural rules: the core imports no channel at module level; migrations match the models."""

from __future__ import annotations

import ast
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

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
        diff = [d for d in compare_metadata(context, Base.metadata) if "apscheduler_jobs" not in repr(d)]
    engine.dispose()
    assert diff == []
