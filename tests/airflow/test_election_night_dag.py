"""The election-night DAG end to end under real Airflow (`dag.test()`), real DuckDB and real GX."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.core.paths import WarehousePaths
from pipelines.orchestration.local_airflow import LocalAirflow
from pipelines.rules.rule_profiles import load_profile
from pipelines.rules.seat_allocation import ListVotes, allocate
from tests.airflow.support import run_dag_test
from tests.support.small_election import (
    LISTS,
    expected_totals,
    precinct_ids,
    protocol,
    write_declaration,
    write_protocols,
)


def test_election_night_publishes_the_seat_table_of_the_files_in_the_inbox(
    airflow_home: LocalAirflow, tmp_path: Path
) -> None:
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    rows = [protocol(pid, (500 - 7 * i, 90 + 5 * i, 70, 30 + i)) for i, pid in enumerate(precinct_ids())]
    write_declaration(inbox)
    write_protocols(inbox, "north-batch.csv", rows[:5])
    write_protocols(inbox, "south-batch.csv", rows[5:])
    (inbox / "_READY").touch()

    result = run_dag_test(airflow_home, "election_night", inbox=inbox, warehouse=warehouse)

    assert result.state == "success", result.output[-3000:]
    assert result.tasks == {"scan_inbox": "success", "ingest_and_publish": "success"}
    # The oracle: the engine applied straight to the sums of the files' rows.
    votes = expected_totals(rows)
    expected = allocate(
        [ListVotes(lid, lid.title(), votes[lid], ballot_order=i) for i, lid in enumerate(LISTS, 1)],
        load_profile("kz-mazhilis-2021"),
    )
    with duckdb.connect(str(WarehousePaths(warehouse).snapshot), read_only=True) as conn:
        published = dict(conn.execute("SELECT list_id, seats FROM proj_seat_table").fetchall())
        published_votes = dict(conn.execute("SELECT list_id, votes FROM proj_seat_table").fetchall())
        publications = [r[0] for r in conn.execute("SELECT publication_id FROM proj_publications").fetchall()]
    assert published == {r.list_id: r.seats for r in expected.rows}
    # The run published, so it told the forensic_screening DAG; it screened nothing itself.
    assert len(publications) == 1
    assert result.asset_events == [("election_publications", {"publications": publications})]
    forensics = WarehousePaths(warehouse).forensics
    assert not forensics.exists()
    assert published_votes == votes
    assert sum(published.values()) == 98
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
        "north-batch.csv",
        "south-batch.csv",
        "test-mazhilis.election.json",
    ]

    # Nothing new: the next run ends at the scan, without opening the warehouse.
    again = run_dag_test(airflow_home, "election_night", inbox=inbox, warehouse=warehouse)
    assert again.state == "success"
    assert again.tasks == {"scan_inbox": "success", "ingest_and_publish": "skipped"}
    assert again.asset_events == []

    # What the event starts: the screen of the newest publication, its report beside the folders.
    screened = run_dag_test(airflow_home, "forensic_screening", inbox=inbox, warehouse=warehouse)
    assert screened.state == "success", screened.output[-3000:]
    assert screened.tasks == {"screen_newest": "success"}
    assert sorted(p.name for p in forensics.iterdir()) == publications
    assert "Screening, not proof" in (forensics / publications[0] / "forensics.html").read_text(
        encoding="utf-8"
    )
