"""The analyst views on a loaded election, read from the read-only snapshot as analysts do."""

from __future__ import annotations

import re
from collections.abc import Iterator

import duckdb
import pytest

from pipelines.core.paths import REPO_ROOT, WarehousePaths
from tests.support.election_night import (
    AMENDED_PRECINCT,
    ANNULLED_PRECINCT,
    PENDING_PRECINCTS,
    ElectionNight,
    amendment,
    election_night,
    first_batch,
)
from tests.support.small_election import ELECTION_ID, LISTS, expected_totals, precinct_ids

DOC = REPO_ROOT / "docs" / "warehouse.md"
DOC_ELECTION = "demo-mazhilis-2021"


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> ElectionNight:
    return election_night(tmp_path_factory.mktemp("night"))


@pytest.fixture
def conn(night: ElectionNight) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(WarehousePaths(night.warehouse).snapshot), read_only=True) as connection:
        yield connection


def doc_sections() -> dict[str, str]:
    """Markdown sections headed `### \\`name\\`` -> their text."""
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^### `([a-z_]+)`\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def doc_examples() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def relations(conn: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    rows = conn.execute(
        "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal AND NOT temporary "
        "UNION ALL SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal AND NOT temporary"
    ).fetchall()
    return {str(name): comment for name, comment in rows}


def test_every_view_has_a_one_line_comment(conn: duckdb.DuckDBPyConnection) -> None:
    views = conn.execute(
        "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal AND NOT temporary"
    ).fetchall()
    marts = {
        "precinct_results", "precinct_list_votes", "region_totals", "region_list_votes", "national_totals",
        "national_list_votes", "reporting_progress", "seat_table", "publications", "published_seats",
        "anomalies", "quarantine", "events_log",
    }  # fmt: skip
    assert marts <= {name for name, _ in views}
    for name, comment in views:
        assert comment and "\n" not in comment, name
    macros = dict(
        conn.execute(
            "SELECT function_name, comment FROM duckdb_functions() "
            "WHERE function_name IN ('precinct_results_as_of', 'precinct_list_votes_as_of', 'pct')"
        ).fetchall()
    )
    assert set(macros) == {"precinct_results_as_of", "precinct_list_votes_as_of", "pct"}
    assert all(macros.values())


def test_every_table_view_and_column_is_documented(conn: duckdb.DuckDBPyConnection) -> None:
    sections = doc_sections()
    for name in relations(conn):
        assert name in sections, f"docs/warehouse.md has no section for {name}"
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [name]
            ).fetchall()
        ]
        for column in columns:
            assert f"| `{column}` |" in sections[name], f"{name}.{column} is not documented"


def test_every_documented_example_runs_on_the_snapshot(conn: duckdb.DuckDBPyConnection) -> None:
    examples = doc_examples()
    assert len(examples) >= 15
    empty = []
    for sql in examples:
        rows = conn.execute(sql.replace(DOC_ELECTION, ELECTION_ID)).fetchall()
        if not rows:
            empty.append(sql)
    # This night has no anomaly flag and no quarantined row; every other example finds something.
    assert all("FROM anomalies" in sql or "FROM quarantine" in sql for sql in empty), empty


def test_national_votes_equal_the_protocols_in_force(
    conn: duckdb.DuckDBPyConnection, night: ElectionNight
) -> None:
    votes = dict(
        conn.execute(
            "SELECT list_id, votes FROM national_list_votes WHERE election_id = ?", [ELECTION_ID]
        ).fetchall()
    )
    assert votes == expected_totals(night.rows_in_force())
    regional = dict(
        conn.execute(
            "SELECT list_id, sum(votes) FROM region_list_votes WHERE election_id = ? GROUP BY list_id",
            [ELECTION_ID],
        ).fetchall()
    )
    assert regional == votes
    cast = conn.execute("SELECT ballots_cast FROM national_totals").fetchall()[0][0]
    assert cast == sum(int(str(r["ballots_cast"])) for r in night.rows_in_force())


def test_reporting_progress_counts_reported_annulled_and_pending(conn: duckdb.DuckDBPyConnection) -> None:
    row = conn.execute(
        "SELECT precincts_expected, precincts_reported, precincts_annulled, precincts_pending, reported_pct, "
        "registered_voters, registered_voters_counted, registered_covered_pct "
        "FROM reporting_progress WHERE level = 'national'"
    ).fetchall()[0]
    expected = len(precinct_ids())
    reported = expected - len(PENDING_PRECINCTS)  # the annulled precinct had reported
    counted = reported - 1
    assert row[:4] == (expected, reported, 1, len(PENDING_PRECINCTS))
    assert str(row[4]) == f"{100 * reported / expected:.2f}"
    assert row[5:7] == (1000 * expected, 1000 * counted)  # 1000 registered voters each
    assert str(row[7]) == f"{100 * counted / expected:.2f}"
    regions = conn.execute(
        "SELECT sum(precincts_expected), sum(precincts_reported), sum(precincts_pending) "
        "FROM reporting_progress WHERE level = 'region'"
    ).fetchall()[0]
    assert regions == (expected, reported, len(PENDING_PRECINCTS))


def test_current_and_as_of_precinct_results(conn: duckdb.DuckDBPyConnection) -> None:
    current = conn.execute(
        "SELECT protocol_version, reported, annulled, counted FROM precinct_results WHERE precinct_id = ?",
        [AMENDED_PRECINCT],
    ).fetchall()
    assert current == [(2, True, False, True)]
    annulled = conn.execute(
        "SELECT reported, annulled, counted FROM precinct_results WHERE precinct_id = ?", [ANNULLED_PRECINCT]
    ).fetchall()
    assert annulled == [(True, True, False)]
    amended_at = conn.execute(
        "SELECT position FROM events_log WHERE event_type = 'ProtocolAmended' AND precinct_id = ?",
        [AMENDED_PRECINCT],
    ).fetchall()[0][0]
    before = dict(
        conn.execute(
            "SELECT list_id, votes FROM precinct_list_votes_as_of(?, ?) WHERE precinct_id = ?",
            [ELECTION_ID, amended_at - 1, AMENDED_PRECINCT],
        ).fetchall()
    )
    after = dict(
        conn.execute(
            "SELECT list_id, votes FROM precinct_list_votes_as_of(?, ?) WHERE precinct_id = ?",
            [ELECTION_ID, amended_at, AMENDED_PRECINCT],
        ).fetchall()
    )
    original = next(r for r in first_batch() if r["precinct_id"] == AMENDED_PRECINCT)
    assert before == {lid: int(str(original[lid])) for lid in LISTS}
    assert after == {lid: int(str(amendment()[lid])) for lid in LISTS}


def test_seat_table_is_the_latest_publication(conn: duckdb.DuckDBPyConnection, night: ElectionNight) -> None:
    pubs = conn.execute(
        "SELECT publication_id, is_latest, total_seats FROM publications ORDER BY position"
    ).fetchall()
    assert [p[0] for p in pubs] == night.publications
    assert [p[1] for p in pubs] == [False, False, False, True]
    assert {p[2] for p in pubs} == {98}
    seats = conn.execute(
        "SELECT publication_id, status, list_id, seats FROM seat_table ORDER BY ballot_order"
    ).fetchall()
    published = conn.execute(
        "SELECT publication_id, status, list_id, seats FROM published_seats WHERE publication_id = ? "
        "ORDER BY ballot_order",
        [night.publications[-1]],
    ).fetchall()
    assert seats == published


def test_events_log_tells_a_precincts_story(conn: duckdb.DuckDBPyConnection) -> None:
    story = conn.execute(
        "SELECT event_type, file_name FROM events_log WHERE precinct_id = ? ORDER BY position",
        [AMENDED_PRECINCT],
    ).fetchall()
    assert story == [("ProtocolReported", "first.csv"), ("ProtocolAmended", "amend.csv")]


def test_the_snapshot_refuses_writes_through_views(conn: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error, match="read-only"):
        conn.execute("CREATE OR REPLACE VIEW seat_table AS SELECT 1")
