"""Which SQL an analyst may run on the readers' snapshot: one query, reading the warehouse and nothing else.

The snapshot connection enforces this by itself (`event_store.reader_config`: external access off,
extension autoloading off, configuration locked). This check runs first, on the parsed statement, so
that a refused statement never reaches the engine and the analyst is told which rule refused it. Every
statement that is not a query is refused whatever its type; the type and the first keywords only choose
the rule named, so a misread keyword can change the rule in the message, never the decision.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines.core.errors import EXIT_BAD_INPUT, PipelineError

# Table functions that read the attached snapshot's catalog or generate values: nothing outside it.
READING_TABLE_FUNCTIONS = frozenset(
    {
        "range", "generate_series", "unnest", "repeat", "repeat_row", "json_each", "json_tree",
        "pg_timezone_names", "icu_calendar_names",
        "duckdb_columns", "duckdb_constraints", "duckdb_databases", "duckdb_dependencies",
        "duckdb_functions", "duckdb_indexes", "duckdb_keywords", "duckdb_schemas", "duckdb_sequences",
        "duckdb_settings", "duckdb_tables", "duckdb_types", "duckdb_views",
        "pragma_table_info", "pragma_storage_info", "pragma_database_size", "pragma_version",
        "pragma_platform", "pragma_show", "pragma_collations", "pragma_metadata_info",
    }
)  # fmt: skip
# Table functions that run SQL given as text, which this check cannot see.
DYNAMIC_SQL_FUNCTIONS = frozenset({"query", "query_table", "json_execute_serialized_sql"})
SETTING_FUNCTIONS = frozenset(
    {"enable_logging", "disable_logging", "enable_profiling", "disable_profiling", "truncate_duckdb_logs"}
)
WRITING_FUNCTIONS = frozenset({"checkpoint", "force_checkpoint", "nextval", "setval", "write_log"})
FILE_FUNCTIONS = frozenset({"glob", "sniff_csv", "read_duckdb", "which_secret"})
ENVIRONMENT_FUNCTIONS = frozenset({"getenv"})
QUERY_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"})

WHY = {
    "file-access": "reads or writes a file; elections sql reads the warehouse snapshot only",
    "write": "would change stored data or the catalog; the warehouse snapshot is read-only and the log "
    "changes only through elections commands",
    "attach": "would reach another database; elections sql reads the warehouse snapshot only",
    "extension": "would install or load an extension; the snapshot connection has every extension it needs",
    "settings": "would change a setting; the configuration of the snapshot connection is locked",
    "secret": "would create or drop a secret; elections sql needs no credentials",
    "call": "runs a procedure; query a table function with SELECT * FROM name(...) instead",
    "transaction": "is a transaction statement; a query needs none",
    "prepared-statement": "is a prepared-statement command; elections sql runs one query as given",
    "dynamic-sql": "runs SQL given as text, which cannot be checked before it runs",
    "environment": "reads the environment of the process, not the warehouse",
    "table-function": "is not a table function that reads the warehouse",
    "statement-type": "is not a query",
    "one-statement": "elections sql runs one query at a time",
}

_RULE_BY_TYPE = {
    "INSERT": "write", "UPDATE": "write", "DELETE": "write", "CREATE": "write", "DROP": "write",
    "ALTER": "write", "MERGE_INTO": "write", "VACUUM": "write", "CREATE_FUNC": "write", "ANALYZE": "write",
    "COPY": "file-access", "EXPORT": "file-access", "COPY_DATABASE": "file-access",
    "ATTACH": "attach", "DETACH": "attach",
    "LOAD": "extension", "EXTENSION": "extension",
    "SET": "settings", "VARIABLE_SET": "settings", "PRAGMA": "settings",
    "CALL": "call", "TRANSACTION": "transaction", "PREPARE": "prepared-statement",
    "EXECUTE": "prepared-statement",
}  # fmt: skip
# The first keywords of a statement refine the rule its type gives (USE is a SET, CHECKPOINT a CALL).
_RULE_BY_KEYWORDS = (
    (("USE",), "attach"),
    (("CHECKPOINT",), "write"),
    (("FORCE", "CHECKPOINT"), "write"),
    (("IMPORT",), "file-access"),
    (("COPY",), "file-access"),
    (("DEALLOCATE",), "prepared-statement"),
    (("UPDATE", "EXTENSIONS"), "extension"),
    (("INSTALL",), "extension"),
    (("FORCE", "INSTALL"), "extension"),
)
_SECRET_STATEMENT = re.compile(r"^(CREATE|DROP)\b.*\bSECRET\b")
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_PATH_LIKE = re.compile(r"[/\\:.*?~]")


class SqlRefused(PipelineError):
    """A statement `elections sql` does not run: `rule` names why, `subject` is what was refused."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, rule: str, subject: str) -> None:
        self.rule = rule
        self.subject = subject
        super().__init__(f"refused [rule: {rule}]: {subject} {WHY[rule]}")


@dataclass(frozen=True)
class _Found:
    rule: str
    subject: str


def checked_query(conn: duckdb.DuckDBPyConnection, text: str) -> duckdb.Statement:
    """The one query in `text`, checked; raises SqlRefused for anything else, duckdb.Error if unparsable.

    The statement returned is the one checked: the caller executes it, not the text again.
    """
    statements = conn.extract_statements(text)
    if not statements:
        raise SqlRefused("statement-type", "an empty statement")
    found = [_check_statement(conn, s) for s in statements]
    for refusal in found:
        if refusal is not None:
            raise SqlRefused(refusal.rule, refusal.subject)
    if len(statements) > 1:
        raise SqlRefused("one-statement", f"{len(statements)} statements were given:")
    return statements[0]


def engine_refusal(error: duckdb.Error) -> str | None:
    """The refusal line for an error of the locked connection itself, if a statement got that far."""
    message = str(error).splitlines()[0] if str(error) else ""
    if "the configuration has been locked" in message:
        rule = "settings"
    elif "extensions is disabled" in message:
        rule = "extension"
    elif isinstance(error, duckdb.PermissionException):
        rule = "file-access"
    elif "read-only mode" in message:
        rule = "write"
    else:
        return None
    return f"refused [rule: {rule}]: {message}"


def _check_statement(conn: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> _Found | None:
    try:
        kind = statement.type.name
    except ValueError:  # a statement type the Python client has no name for (UPDATE EXTENSIONS)
        kind = "UNKNOWN"
    if kind == "SELECT":
        return _check_select(conn, statement.query)
    if kind == "EXPLAIN":
        return _check_explained(conn, statement.query)
    if kind == "MULTI" and _keywords(statement.query)[:1] == ["PIVOT"]:
        return _check_pivot(statement.query)
    rule = _rule_of_keywords(statement.query) or _RULE_BY_TYPE.get(kind, "statement-type")
    return _Found(rule, _subject_of(statement.query))


def _check_explained(conn: duckdb.DuckDBPyConnection, text: str) -> _Found | None:
    """EXPLAIN [ANALYZE] [(options)] plans or runs the statement after it: allowed when that one is."""
    spans = _token_spans(text)
    rest = 1  # the EXPLAIN keyword
    if rest < len(spans) and spans[rest][2].upper() in ("ANALYZE", "ANALYSE"):
        rest += 1
    if rest < len(spans) and spans[rest][2] == "(":
        depth = 0
        while rest < len(spans):
            depth += {"(": 1, ")": -1}.get(spans[rest][2], 0)
            rest += 1
            if depth == 0:
                break
    try:
        inner = conn.extract_statements(text[spans[rest][0] :]) if rest < len(spans) else []
    except duckdb.Error:
        return _Found("statement-type", _subject_of(text))
    if len(inner) != 1:
        return _Found("one-statement", f"EXPLAIN of {len(inner)} statements:")
    return _check_statement(conn, inner[0])


def _token_spans(text: str) -> list[tuple[int, Any, str]]:
    """DuckDB's tokens of `text` without its comments: (start, token type, the token's text)."""
    tokens = duckdb.tokenize(text)
    ends = [start for start, _ in tokens[1:]] + [len(text)]
    return [
        (start, kind, text[start:end].strip())
        for (start, kind), end in zip(tokens, ends, strict=True)
        if kind != duckdb.token_type.comment
    ]


def _check_select(conn: duckdb.DuckDBPyConnection, text: str) -> _Found | None:
    row = conn.execute("SELECT json_serialize_sql(?)", [text]).fetchone()
    tree = json.loads(row[0]) if row else {"error": True}
    if tree.get("error"):
        return _Found("statement-type", _subject_of(text) + " (a query this check cannot read)")
    known: list[set[str]] = []

    def table_macros() -> set[str]:
        """The snapshot's table macros, looked up once and only when a query calls an unlisted name."""
        if not known:
            known.append({r[0] for r in conn.execute(_TABLE_MACROS).fetchall()})
        return known[0]

    for node in _nodes(tree["statements"]):
        found = _check_node(node, table_macros)
        if found is not None:
            return found
    return None


_TABLE_MACROS = "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'table_macro'"


def _check_node(node: dict[str, Any], table_macros: Callable[[], set[str]]) -> _Found | None:
    kind = node.get("type")
    if kind == "TABLE_FUNCTION":
        return _check_table_function(str(node["function"]["function_name"]).lower(), table_macros)
    if node.get("class") == "FUNCTION":
        return _check_named_function(str(node.get("function_name", "")).lower())
    if kind in ("BASE_TABLE", "SHOW_REF"):
        name = str(node.get("table_name", ""))
        if _PATH_LIKE.search(name.strip('"')):
            return _Found("file-access", f"{name!r} (a file read as a table)")
        return None
    if isinstance(kind, str) and kind.endswith("_NODE") and kind not in QUERY_NODES:
        verb = kind.removesuffix("_NODE").removesuffix("_QUERY").replace("_", " ")
        writes = any(w in kind for w in ("INSERT", "UPDATE", "DELETE", "MERGE"))
        return _Found("write" if writes else "statement-type", f"{verb} inside a query")
    return None


def _check_pivot(text: str) -> _Found | None:
    """A PIVOT without IN (...) looks up its columns first, so it has no serialized form: its tokens are
    checked instead, every name called as a function and every text read as a table."""
    spans = _token_spans(text)
    for i, (_, kind, word) in enumerate(spans):
        after = spans[i + 1][2] if i + 1 < len(spans) else ""
        before = spans[i - 1][2].upper() if i else ""
        if kind in (duckdb.token_type.identifier, duckdb.token_type.keyword) and after.startswith("("):
            found = _check_named_function(word.strip('"').lower())
            if found is not None:
                return found
        read_as_table = before in ("FROM", "JOIN", "PIVOT", ",")
        if kind == duckdb.token_type.string_const and read_as_table and _PATH_LIKE.search(word.strip("'")):
            return _Found("file-access", f"{word} (a file read as a table)")
    return None


def _check_table_function(name: str, table_macros: Callable[[], set[str]]) -> _Found | None:
    if name in READING_TABLE_FUNCTIONS:
        return None
    found = _check_named_function(name)
    if found is not None or name in table_macros():
        return found
    return _Found("table-function", f"{name}()")


def _check_named_function(name: str) -> _Found | None:
    """The rule a function of this name breaks, if it is one of those known to reach outside a query."""
    subject = f"{name}()"
    if name in ENVIRONMENT_FUNCTIONS:
        return _Found("environment", subject)
    if name in FILE_FUNCTIONS or name.startswith(("read_", "parquet_")) or name.endswith("_scan"):
        return _Found("file-access", subject)
    if name in DYNAMIC_SQL_FUNCTIONS:
        return _Found("dynamic-sql", subject)
    if name in SETTING_FUNCTIONS:
        return _Found("settings", subject)
    if name in WRITING_FUNCTIONS or "external_resource" in name:
        return _Found("write", subject)
    return None


def _nodes(tree: object) -> Iterator[dict[str, Any]]:
    """Every object of a serialized statement, depth first."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _keywords(text: str) -> list[str]:
    return re.findall(r"[A-Za-z_]+", _COMMENT.sub(" ", text).upper())[:6]


def _rule_of_keywords(text: str) -> str | None:
    words = _keywords(text)
    if _SECRET_STATEMENT.match(" ".join(words)):
        return "secret"
    for prefix, rule in _RULE_BY_KEYWORDS:
        if tuple(words[: len(prefix)]) == prefix:
            return rule
    return None


def _subject_of(text: str) -> str:
    """What kind of statement was refused, in its own keywords (`COPY`, `CREATE SECRET`), not echoed."""
    words = _keywords(text)
    if not words:
        return "the statement"
    if tuple(words[:2]) == ("UPDATE", "EXTENSIONS"):
        return "UPDATE EXTENSIONS"
    if words[0] in _OBJECT_VERBS:
        rest = [w for w in words[1:] if w not in _OBJECT_FILLERS]
        return " ".join(words[:1] + rest[:1])
    return words[0]


# Statements whose second keyword says what they act on (CREATE TABLE, DROP VIEW, SET VARIABLE).
_OBJECT_VERBS = frozenset({"CREATE", "DROP", "ALTER", "EXPORT", "IMPORT", "FORCE", "SET", "COMMENT"})
_OBJECT_FILLERS = frozenset(
    {"OR", "REPLACE", "TEMP", "TEMPORARY", "PERSISTENT", "IF", "NOT", "EXISTS", "UNIQUE"}
)
