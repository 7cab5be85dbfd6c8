"""Versioned schema migrations, one SQL schema for every store.

A migration is `migrations/NNNN_name.sql`: statements separated by `;` at the end of a line.
A line `-- @include NAME` is replaced by `migrations/_NAME.sql`, so the context columns that
every fact table shares are written once. Applied versions are recorded in
`vitalsight_schema_migrations`; a migration is applied at most once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

from vitalsight.exporters.store import Store

logger = logging.getLogger(__name__)

MIGRATIONS_TABLE = "vitalsight_schema_migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_INCLUDE = re.compile(r"^-- @include ([a-z_]+)\s*$", re.MULTILINE)
_STATEMENT_END = re.compile(r";\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def load_migrations() -> list[Migration]:
    """All shipped migrations, in version order."""
    folder = resources.files("vitalsight.exporters") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            sql = _expand_includes(entry.read_text(encoding="utf-8"))
            found.append(Migration(int(match[1]), match[2], split_statements(sql)))
    return sorted(found, key=lambda m: m.version)


def _expand_includes(sql: str) -> str:
    folder = resources.files("vitalsight.exporters") / "migrations"

    def include(match: re.Match[str]) -> str:
        return (folder / f"_{match[1]}.sql").read_text(encoding="utf-8").rstrip("\n")

    return _INCLUDE.sub(include, sql)


def split_statements(sql: str) -> tuple[str, ...]:
    """Split a migration into statements, dropping comment-only chunks."""
    chunks = _STATEMENT_END.split(sql)
    statements = []
    for chunk in chunks:
        code = "\n".join(
            line for line in chunk.splitlines() if not line.lstrip().startswith("--")
        ).strip()
        if code:
            statements.append(code)
    return tuple(statements)


def migrate(store: Store) -> list[Migration]:
    """Apply the migrations the store has not seen yet; return the ones applied."""
    store.command(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
        "(version UInt32, name String, applied_at DateTime DEFAULT now()) "
        "ENGINE = MergeTree ORDER BY version"
    )
    applied = {int(row[0]) for row in store.rows(f"SELECT version FROM {MIGRATIONS_TABLE}")}
    done = []
    for migration in load_migrations():
        if migration.version in applied:
            continue
        logger.info("applying migration %04d_%s", migration.version, migration.name)
        for statement in migration.statements:
            store.command(statement)
        store.command(
            f"INSERT INTO {MIGRATIONS_TABLE} (version, name) "
            f"VALUES ({migration.version}, '{migration.name}')"
        )
        done.append(migration)
    return done
