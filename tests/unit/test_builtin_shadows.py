"""A macro stored in a warehouse under a built-in's name, in any letter case, is found: DuckDB looks
function names up without regard to case, so a stored "LENGTH" is what `length(...)` calls."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.store.event_store import stored_builtin_shadows


@pytest.mark.parametrize(
    ("definition", "name"),
    [
        ("CREATE MACRO length(x) AS 0", "length"),
        ('CREATE MACRO "LENGTH"(x) AS 0', "LENGTH"),
        ('CREATE MACRO "Sha256"(x) AS 0', "Sha256"),
        ('CREATE MACRO "Range"(n) AS TABLE SELECT 1 AS range', "Range"),
        ('CREATE SCHEMA other; CREATE MACRO other."Concat"(x) AS 0', "Concat"),
    ],
)
def test_a_stored_macro_named_like_a_builtin_in_any_case_is_found(
    tmp_path: Path, definition: str, name: str
) -> None:
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute(definition)
        conn.execute("CREATE MACRO mine(x) AS x")  # a name of its own shadows nothing
    with duckdb.connect(str(database)) as conn:
        assert stored_builtin_shadows(conn) == [name]
        assert stored_builtin_shadows(conn, "warehouse") == [name]


def test_a_differently_cased_macro_is_what_a_fresh_connection_calls(tmp_path: Path) -> None:
    """Why case is ignored: DuckDB's own lookup ignores it."""
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute('CREATE MACRO "LENGTH"(x) AS 0')
    with duckdb.connect(str(database)) as conn:
        assert conn.execute("SELECT length('abc')").fetchall() == [(0,)]
