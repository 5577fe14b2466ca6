"""The certify_results DAG under real Airflow (`dag.test()`): refused while precincts are missing,
certified with an operator's override, which is recorded as an event before the publication; and the
election_night DAG after certification, which quarantines what arrives instead of failing."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import ELECTION_CERTIFIED, ingest_paths
from pipelines.orchestration.local_airflow import LocalAirflow
from pipelines.publishing.publication import certify
from pipelines.store.event_store import EventStore
from tests.airflow.support import run_dag_test
from tests.support.small_election import (
    ELECTION_ID,
    precinct_ids,
    protocol,
    write_declaration,
    write_protocols,
)

MISSING = precinct_ids()[10:]


def test_certify_is_refused_while_precincts_are_missing_then_certified_with_an_override(
    airflow_home: LocalAirflow, tmp_path: Path
) -> None:
    inbox, warehouse, drops = tmp_path / "inbox", tmp_path / "warehouse", tmp_path / "drops"
    write_declaration(drops)
    rows = [protocol(pid, (420, 130 + 4 * i, 75, 35)) for i, pid in enumerate(precinct_ids()[:10])]
    write_protocols(drops, "batch.csv", rows)
    ingest_paths([drops], warehouse=warehouse)
    snapshot = WarehousePaths(warehouse).snapshot

    refused = run_dag_test(
        airflow_home, "certify_results", inbox=inbox, warehouse=warehouse, conf={"election_id": ELECTION_ID}
    )

    assert refused.state == "failed"
    assert refused.tasks == {"certify": "failed"}  # failed at once: a refusal is not retried
    assert refused.asset_events == []  # nothing published: nothing for forensic_screening
    assert "2 declared precinct(s) have neither reported nor been annulled (P011, P012)" in refused.output
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        assert conn.execute("SELECT DISTINCT status FROM proj_publications").fetchall() == [("provisional",)]

    reason = "P011 and P012 flooded; the commission certifies without them"
    accepted = run_dag_test(
        airflow_home,
        "certify_results",
        inbox=inbox,
        warehouse=warehouse,
        conf={"election_id": ELECTION_ID, "override_reason": reason, "operator": "chair Abenova"},
    )

    assert accepted.state == "success", accepted.output[-3000:]
    assert accepted.asset_events == [("election_publications", {})]  # forensic_screening screens it
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        certified = conn.execute(
            "SELECT publication_id, position FROM proj_publications WHERE status = 'certified'"
        ).fetchall()
        overrides = conn.execute(
            "SELECT position, payload FROM events WHERE event_type = 'CertificationOverridden'"
        ).fetchall()
        seats = conn.execute(
            "SELECT sum(s.seats) FROM proj_published_seats s JOIN proj_publications p USING (publication_id) "
            "WHERE p.status = 'certified'"
        ).fetchall()
    assert len(certified) == 1 and certified[0][0].startswith(f"{ELECTION_ID}--certified--")
    assert len(overrides) == 1
    override = json.loads(overrides[0][1])
    assert (override["reason"], override["operator"]) == (reason, "chair Abenova")
    assert override["missing_sample"] == MISSING
    assert overrides[0][0] < certified[0][1]  # the override is on the log before the publication
    assert seats == [(98,)]


def test_election_night_into_a_certified_election_quarantines_and_does_not_fail(
    airflow_home: LocalAirflow, tmp_path: Path
) -> None:
    inbox, warehouse, drops = tmp_path / "inbox", tmp_path / "warehouse", tmp_path / "drops"
    write_declaration(drops)
    write_protocols(
        drops, "all.csv", [protocol(pid, (420, 130 + 4 * i, 75, 35)) for i, pid in enumerate(precinct_ids())]
    )
    ingest_paths([drops], warehouse=warehouse)
    paths = WarehousePaths(warehouse)
    with EventStore.open_writer(paths) as store:
        certified = certify(store, ELECTION_ID)
    folder = paths.publications / certified.publication_id
    published = {f.name: f.read_bytes() for f in folder.iterdir()}
    amended = protocol("P003", (300, 260, 75, 35), version=2, reason="recount after certification")
    write_protocols(inbox, "late-amendment.csv", [amended])
    (inbox / "_READY").touch()

    result = run_dag_test(airflow_home, "election_night", inbox=inbox, warehouse=warehouse)

    assert result.state == "success", result.output[-3000:]
    assert result.tasks == {"scan_inbox": "success", "ingest_and_publish": "success"}
    assert result.asset_events == []  # it published nothing: nothing for forensic_screening
    assert "election certified" in result.output  # the refusal is in the task log
    assert [p.name for p in (inbox / "processed").iterdir()] == ["late-amendment.csv"]
    with duckdb.connect(str(paths.snapshot), read_only=True) as conn:
        rules = conn.execute("SELECT DISTINCT rule FROM proj_quarantine").fetchall()
        amendments = conn.execute(
            "SELECT count(*) FROM events WHERE event_type = 'ProtocolAmended'"
        ).fetchall()
        publications = conn.execute(
            "SELECT publication_id FROM proj_publications ORDER BY position"
        ).fetchall()
    assert rules == [(ELECTION_CERTIFIED,)]
    assert amendments == [(0,)]
    assert publications[-1] == (certified.publication_id,)  # nothing published after the certification
    assert {f.name: f.read_bytes() for f in folder.iterdir()} == published
