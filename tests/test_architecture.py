"""The domain stays free of frameworks: Prefect, httpx, Jinja2 and web frameworks live at the edge."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "activation"
# The edge (the web application and the CLI included) imports the domain, never the other way round.
FORBIDDEN = (
    "prefect",
    "httpx",
    "jinja2",
    "fastapi",
    "starlette",
    "typer",
    "flows",
    "tasks",
    "forms",
    "web",
    "cli",
    "senders",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


DOMAIN_FILES = sorted(p for p in DOMAIN.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_imports_no_framework(path: Path) -> None:
    assert _imports(path).isdisjoint(FORBIDDEN), f"{path.relative_to(ROOT)} imports {_imports(path) & set(FORBIDDEN)}"


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.py"
    leaky.write_text("from prefect import flow\nimport httpx\n")
    assert {"prefect", "httpx"} <= _imports(leaky)


def test_the_domain_core_does_not_touch_the_database_driver_either() -> None:
    # Use cases reach storage only through ports; SQLAlchemy stays in adapters/ and runtime wiring.
    core = [p for p in DOMAIN_FILES if "adapters" not in p.parts and p.name != "runtime.py"]
    assert core, "no domain modules found"
    for path in core:
        assert "sqlalchemy" not in _imports(path), path.name


def test_the_domain_never_reads_the_wall_clock() -> None:
    # Time comes from an injected clock; only the SystemClock adapter in ports.py may ask the OS.
    for path in DOMAIN_FILES:
        if path.name in ("ports.py",):
            continue
        text = path.read_text(encoding="utf-8")
        assert "datetime.now(" not in text and "utcnow(" not in text, path.name


def test_the_migrations_create_exactly_the_tables_the_code_uses(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from activation.adapters.db import make_engine, migrate
    from activation.adapters.tables import metadata

    engine = make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == [], "tables.py and the Alembic migrations differ: add a migration"
