"""The statement check of `elections sql` on its own: which rule refuses what, and what passes.

An in-memory DuckDB parses the statements (the check needs its parser, no warehouse); the drill
`tests/drills/test_readonly_sql_drill.py` runs the same rules through the CLI on a real warehouse.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from pipelines.store.event_store import reader_config
from pipelines.store.read_only_sql import SqlRefused, checked_query, engine_refusal


@pytest.fixture(scope="module")
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(":memory:", config=reader_config()) as connection:
        yield connection


ALLOWED = (
    "SELECT 1",
    "FROM events",
    "(SELECT 1) UNION ALL (SELECT 2)",
    "VALUES (1, 'a')",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT * FROM n",
    "SELECT 'read_csv(''/etc/passwd'')' AS only_text",
    "SELECT 'x.csv' AS looks_like_a_file",
    "SELECT list_transform([1, 2], x -> x + 1) AS l",
    "SELECT * FROM range(3)",
    "SELECT * FROM duckdb_tables()",
    "SELECT current_setting('threads') AS t",
    "DESCRIBE events",
    "SUMMARIZE SELECT 1 AS a",
    "SHOW TABLES",
    "EXPLAIN SELECT 1",
    "EXPLAIN ANALYZE (FORMAT json) SELECT 1",
    "PIVOT (SELECT 1 AS a, 'x' AS b) ON b USING sum(a)",
    "SELECT 1; ",
    "/* a comment */ SELECT 1 -- and another",
)

REFUSED = (
    ("SELECT * FROM read_csv('/etc/passwd')", "file-access"),
    ("SELECT * FROM READ_CSV_AUTO('/etc/passwd')", "file-access"),
    ("SELECT * FROM \"read_text\"('/etc/passwd')", "file-access"),
    ("SELECT * FROM system.main.read_blob('/etc/passwd')", "file-access"),
    ("SELECT * FROM sqlite_scan('x.db', 't')", "file-access"),
    ("SELECT * FROM read_xlsx('x.xlsx')", "file-access"),
    ('SELECT * FROM "x.csv"', "file-access"),
    ("FROM 's3://bucket/x.parquet'", "file-access"),
    ("SELECT * FROM '~/x.csv'", "file-access"),
    ("SUMMARIZE SELECT * FROM read_csv('x')", "file-access"),
    ("DESCRIBE SELECT * FROM 'x.csv'", "file-access"),
    ("SELECT list_transform([1], x -> (SELECT count(*) FROM read_text('x'))) AS l", "file-access"),
    ("EXPLAIN /* x */ ANALYZE COPY t TO 'x.csv'", "file-access"),
    ("EXPLAIN (FORMAT json) COPY t TO 'x.csv'", "file-access"),
    ("PIVOT 'x.csv' ON a USING sum(b)", "file-access"),
    ("PIVOT (SELECT * FROM glob('/*')) ON file USING count(*)", "file-access"),
    ("COPY FROM DATABASE elections TO other", "file-access"),
    ("SELECT 1; COPY t TO 'x'", "file-access"),
    ("CREATE VIEW v AS SELECT 1", "write"),
    ("CREATE OR REPLACE TEMP MACRO m(x) AS x", "write"),
    ("MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", "write"),
    ("WITH u AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM u", "write"),
    ("WITH i AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM i", "write"),
    ("FORCE CHECKPOINT", "write"),
    ("ANALYZE", "write"),
    ("SELECT setval('s', 1)", "write"),
    ("DETACH DATABASE IF EXISTS x", "attach"),
    ("USE memory", "attach"),
    ("INSTALL 'httpfs'", "extension"),
    ("set Threads = 1", "settings"),
    ("RESET GLOBAL memory_limit", "settings"),
    ("PRAGMA table_info('events')", "settings"),
    ("SELECT * FROM disable_profiling()", "settings"),
    ("DROP PERSISTENT SECRET IF EXISTS s", "secret"),
    ("COMMIT", "transaction"),
    ("EXECUTE p", "prepared-statement"),
    ("DEALLOCATE p", "prepared-statement"),
    ("SELECT * FROM query_table('events')", "dynamic-sql"),
    ("SELECT getenv('PATH')", "environment"),
    ("SELECT * FROM duckdb_secrets()", "table-function"),
    ("SELECT 1; SELECT 2", "one-statement"),
    ("EXPLAIN SELECT 1; SELECT 2", "one-statement"),
    ("", "statement-type"),
    ("-- only a comment", "statement-type"),
)


@pytest.mark.parametrize("sql", ALLOWED)
def test_queries_pass(conn: duckdb.DuckDBPyConnection, sql: str) -> None:
    statement = checked_query(conn, sql)
    assert statement.query.strip()


@pytest.mark.parametrize(("sql", "rule"), REFUSED)
def test_everything_else_is_refused_by_its_rule(conn: duckdb.DuckDBPyConnection, sql: str, rule: str) -> None:
    with pytest.raises(SqlRefused) as refused:
        checked_query(conn, sql)
    assert refused.value.rule == rule
    assert str(refused.value).startswith(f"refused [rule: {rule}]: ")
    assert "\n" not in str(refused.value)


def test_a_syntax_error_is_an_error_not_a_refusal(conn: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.ParserException):
        checked_query(conn, "SELEC 1")


def test_the_locked_connection_names_its_own_refusals(conn: duckdb.DuckDBPyConnection) -> None:
    for sql, rule in (
        ("SET threads = 1", "settings"),
        ("SELECT * FROM read_csv('/etc/passwd')", "file-access"),
        ("LOAD httpfs", "extension"),
    ):
        with pytest.raises(duckdb.Error) as raised:
            conn.execute(sql)
        line = engine_refusal(raised.value)
        assert line is not None and line.startswith(f"refused [rule: {rule}]: "), (sql, line)
    with pytest.raises(duckdb.Error) as raised:
        conn.execute("SELECT * FROM no_such_table")
    assert engine_refusal(raised.value) is None
