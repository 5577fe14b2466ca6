"""The historical_reload DAG under real Airflow (`dag.test()`): a replay of a small election's raw
archive into the reload warehouse; reloading again gives the same projections."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import ingest_paths
from pipelines.orchestration.historical_reload import parse_request, reload_election
from pipelines.orchestration.local_airflow import LocalAirflow
from pipelines.rules.rule_profiles import load_profile
from pipelines.rules.seat_allocation import ListVotes, allocate
from pipelines.store.projections import projection_checksums
from tests.airflow.support import run_dag_test
from tests.support.small_election import (
    ELECTION_ID,
    LISTS,
    expected_totals,
    precinct_ids,
    protocol,
    write_declaration,
    write_protocols,
)


def checksums(database: Path) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return projection_checksums(conn)


def test_reload_replays_the_archive_into_its_own_warehouse_and_repeats_exactly(
    airflow_home: LocalAirflow, tmp_path: Path
) -> None:
    inbox, warehouse, drops = tmp_path / "inbox", tmp_path / "warehouse", tmp_path / "drops"
    rows = [protocol(pid, (480 - 9 * i, 110 + 6 * i, 65, 25 + 2 * i)) for i, pid in enumerate(precinct_ids())]
    write_declaration(drops)
    first = write_protocols(drops, "first.csv", rows[:7])
    ingest_paths([drops / f"{ELECTION_ID}.election.json", first], warehouse=warehouse)
    ingest_paths([write_protocols(drops, "second.csv", rows[7:])], warehouse=warehouse)
    main = WarehousePaths(warehouse)
    main_sums = checksums(main.database)
    conf = {"election_id": ELECTION_ID, "source": "archive", "as_of": None}

    result = run_dag_test(airflow_home, "historical_reload", inbox=inbox, warehouse=warehouse, conf=conf)

    assert result.state == "success", result.output[-3000:]
    assert result.tasks == {"check_request": "success", "rebuild_and_publish": "success"}
    reload = WarehousePaths(warehouse / "data" / "reloads" / ELECTION_ID)
    votes = expected_totals(rows)
    expected = allocate(
        [ListVotes(lid, lid.title(), votes[lid], ballot_order=i) for i, lid in enumerate(LISTS, 1)],
        load_profile("kz-mazhilis-2021"),
    )
    with duckdb.connect(str(reload.snapshot), read_only=True) as conn:
        published = dict(conn.execute("SELECT list_id, seats FROM proj_seat_table").fetchall())
        statuses = conn.execute("SELECT status FROM proj_publications ORDER BY position").fetchall()
    assert published == {r.list_id: r.seats for r in expected.rows}
    assert statuses == [("provisional",), ("provisional",)]  # published where the original runs did
    first_sums = checksums(reload.database)
    # The replay holds exactly what the main warehouse holds, publication times included.
    assert first_sums == main_sums
    assert checksums(main.database) == main_sums  # the main warehouse was only read

    # The same reload again (in this process: the DAG's task is a thin call of the same function).
    again = reload_election(warehouse, parse_request(ELECTION_ID, "archive"))

    assert again.folder == reload.root
    assert checksums(reload.database) == first_sums
    # The second reload replaced the first whole: no half-built or parked folder is left beside it.
    assert [p.name for p in reload.root.parent.iterdir()] == [ELECTION_ID]
