"""Rows projected set-based from event payloads (batches, anomaly flags, quarantined rows and files)
hold exactly what the payloads say, awkward text and missing fields included."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pipelines.core.paths import WarehousePaths
from pipelines.domain.events import BATCH_QUARANTINED, BATCH_RECEIVED, ROW_QUARANTINED, NewEvent, batch_stream
from pipelines.store.event_store import EventStore
from pipelines.store.projections import projection_checksums, rebuild_projections, update_projections
from tests.support.election_night import ElectionNight, copy_of, election_night
from tests.support.small_election import ELECTION_ID

AWKWARD = 'Ünïcödé "quoted" \\ back\\slash\nnew line, =SUM(A1) \u2028 ✓'
BATCH = "f" * 64
RECEIVED_AT = datetime(2021, 1, 10, 22, 15, 30, 123456)

ANOMALIES: list[dict[str, Any]] = [
    {"kind": "turnout_high", "precinct_id": "P001", "row": 2, "detail": AWKWARD},
    {"kind": "file_level", "detail": "no precinct, no row"},  # both absent: NULL
    {"kind": "zero_votes", "precinct_id": None, "row": None, "detail": ""},
    *({"kind": "many", "precinct_id": f"P{i:03d}", "row": i + 1, "detail": f"flag {i}"} for i in range(300)),
]

RECEIPT: dict[str, Any] = {
    "file_name": f"{AWKWARD}.csv",
    "file_format": "protocol_csv",
    "size_bytes": 12_345_678_901,
    "election_id": ELECTION_ID,
    "rows_total": 310,
    "rows_applied": 300,
    "rows_duplicate": 3,
    "rows_quarantined": 7,
    "quarantined_whole": False,
    "anomalies": ANOMALIES,
}
ROW_PROBLEM: dict[str, Any] = {
    "file_name": "second.csv",
    "row": 17,
    "column": "ballots_cast",
    "rule": "ballots_add_up",
    "value": AWKWARD,
    "message": f"does not add up: {AWKWARD}",
    "precinct_id": "P004",
}
ROW_PROBLEM_NO_VALUE: dict[str, Any] = {**ROW_PROBLEM, "row": 18, "value": None, "column": None}
FILE_REFUSAL: dict[str, Any] = {"file_name": "refused.csv", "rule": "header", "message": AWKWARD}


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> ElectionNight:
    return election_night(tmp_path_factory.mktemp("night"))


def event(event_type: str, payload: dict[str, Any]) -> NewEvent:
    return NewEvent(batch_stream(BATCH), event_type, ELECTION_ID, payload, RECEIVED_AT, batch_id=BATCH)


def test_payload_rows_are_projected_as_the_payloads_say(night: ElectionNight, tmp_path: Path) -> None:
    paths = WarehousePaths(copy_of(night, tmp_path / "wh"))
    with EventStore.open_writer(paths) as store:
        with store.transaction():
            received, row_a, row_b, refused = store.append_serialized(
                [
                    event(BATCH_RECEIVED, RECEIPT),
                    event(ROW_QUARANTINED, ROW_PROBLEM),
                    event(ROW_QUARANTINED, ROW_PROBLEM_NO_VALUE),
                    event(BATCH_QUARANTINED, FILE_REFUSAL),
                ]
            )
            update_projections(store.conn)
        conn = store.conn
        batch = conn.execute("SELECT * FROM proj_batches WHERE position = ?", [received]).fetchall()
        assert batch == [
            (
                BATCH,
                ELECTION_ID,
                received,
                RECEIPT["file_name"],
                "protocol_csv",
                12_345_678_901,
                RECEIVED_AT,
                310,
                300,
                3,
                7,
                False,
            )
        ]
        flags = conn.execute(
            "SELECT election_id, batch_id, position, kind, precinct_id, file_name, row_number, detail "
            "FROM proj_anomalies WHERE position = ?",
            [received],
        ).fetchall()
        expected_flags = [
            (
                ELECTION_ID,
                BATCH,
                received,
                a["kind"],
                a.get("precinct_id"),
                RECEIPT["file_name"],
                a.get("row"),
                a["detail"],
            )
            for a in ANOMALIES
        ]
        assert sorted(flags, key=repr) == sorted(expected_flags, key=repr)
        quarantine = conn.execute(
            "SELECT position, election_id, batch_id, file_name, row_number, column_name, rule, value, "
            "message, precinct_id FROM proj_quarantine WHERE position IN (?, ?, ?) ORDER BY position",
            [row_a, row_b, refused],
        ).fetchall()
        assert quarantine == [
            (
                pos,
                ELECTION_ID,
                BATCH,
                p["file_name"],
                p.get("row"),
                p.get("column"),
                p["rule"],
                p.get("value"),
                p["message"],
                p.get("precinct_id"),
            )
            for pos, p in ((row_a, ROW_PROBLEM), (row_b, ROW_PROBLEM_NO_VALUE), (refused, FILE_REFUSAL))
        ]
        # The payload as stored is what was appended: the projection did not read anything else.
        stored = conn.execute("SELECT payload FROM events WHERE position = ?", [received]).fetchall()[0][0]
        assert json.loads(stored)["anomalies"] == ANOMALIES
        incremental = projection_checksums(conn)
        with store.transaction():
            rebuild_projections(conn)
        assert projection_checksums(conn) == incremental
