"""A file of protocols decided and appended as one table operation: each row's fate, and events that
are exactly what the documented hash content and canonical payloads say."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.core.paths import WarehousePaths
from pipelines.domain.events import canonical_json
from pipelines.ingestion.ingest import FileOutcome, ingest_paths
from pipelines.store.event_store import verify_connection
from tests.support.small_election import (
    ELECTION_ID,
    LISTS,
    protocol,
    write_annulment,
    write_declaration,
    write_protocols,
)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    ingest_paths([write_declaration(tmp_path / "in")], warehouse=tmp_path / "wh")
    return tmp_path / "wh"


def _ingest(warehouse: Path, path: Path) -> FileOutcome:
    return ingest_paths([path], warehouse=warehouse).files[0]


def _lp(value: object) -> str:
    text = "" if value is None else value if isinstance(value, str) else str(value)
    return f"{len(text)}:{text}"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def test_every_row_of_one_file_is_decided_on_its_own(tmp_path: Path, warehouse: Path) -> None:
    first = [protocol("P001"), protocol("P002"), protocol("P003"), protocol("P004", version=1)]
    _ingest(warehouse, write_protocols(tmp_path / "in", "first.csv", first))
    _ingest(
        warehouse, write_protocols(tmp_path / "in", "p004v2.csv", [protocol("P004", version=2, reason="r")])
    )
    _ingest(warehouse, write_annulment(tmp_path / "in", "annul.csv", "P005"))
    mixed = [
        protocol("P001"),  # the same protocol again: a duplicate
        protocol("P002", votes=(401, 99, 60, 20)),  # version 1 again, other votes: a conflict
        protocol("P003", votes=(390, 110, 60, 20), version=2, reason="recount"),  # an amendment
        protocol("P004", votes=(300, 100, 60, 20)),  # version 1 again, other votes, 2 in force: a conflict
        protocol("P005"),  # annulled
        protocol("P006"),  # a first report
    ]
    outcome = _ingest(warehouse, write_protocols(tmp_path / "in", "mixed.csv", mixed))
    assert (outcome.rows_applied, outcome.rows_duplicate, outcome.rows_quarantined) == (2, 1, 3)
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        rules = {
            precinct: (rule, message)
            for precinct, rule, message in conn.execute(
                "SELECT precinct_id, rule, message FROM proj_quarantine WHERE file_name = 'mixed.csv'"
            ).fetchall()
        }
        applied = conn.execute(
            "SELECT stream_id, stream_version, event_type, payload FROM events "
            "WHERE event_type LIKE 'Protocol%' AND payload->>'$.file_name' = 'mixed.csv' ORDER BY position"
        ).fetchall()
    assert {p: rule for p, (rule, _) in rules.items()} == {
        "P002": "conflict",
        "P004": "conflict",
        "P005": "precinct_annulled",
    }
    # A correction must go above the version in force, whichever version it clashed with.
    assert "amendment with version 2" in rules["P002"][1]
    assert "amendment with version 3" in rules["P004"][1]
    assert applied == [
        (
            f"precinct:{ELECTION_ID}/P003",
            2,
            "ProtocolAmended",
            canonical_json(
                {"file_name": "mixed.csv", "reason": "recount", "row": 4, "supersedes_version": 1}
            ),
        ),
        (
            f"precinct:{ELECTION_ID}/P006",
            1,
            "ProtocolReported",
            canonical_json({"file_name": "mixed.csv", "row": 7}),
        ),
    ]


def test_payload_texts_are_escaped_as_canonical_json(tmp_path: Path, warehouse: Path) -> None:
    _ingest(warehouse, write_protocols(tmp_path / "in", "a.csv", [protocol("P001")]))
    reason = 'recount of "station 5" \\ by the comissão; =SUM(A1)'
    name = "ответ 'late' \"file\".csv"
    amended = [protocol("P001", votes=(399, 101, 60, 20), version=2, reason=reason)]
    _ingest(warehouse, write_protocols(tmp_path / "in", name, amended))
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        payload = conn.execute("SELECT payload FROM events WHERE event_type = 'ProtocolAmended'").fetchall()
    assert payload == [
        (canonical_json({"file_name": name, "reason": reason, "row": 2, "supersedes_version": 1}),)
    ]


def test_a_protocol_events_hash_is_the_documented_content_chained(tmp_path: Path, warehouse: Path) -> None:
    """Recomputed here in Python from the stored row, facts and votes: the set-based append spells the
    content exactly as docs/event-model.md and verification do."""
    _ingest(warehouse, write_protocols(tmp_path / "in", "a.csv", [protocol("P007"), protocol("P008")]))
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        event = conn.execute(
            "SELECT position, stream_id, stream_version, event_type, election_id, occurred_at, recorded_at, "
            "batch_id, payload, prev_hash, event_hash FROM events WHERE stream_id LIKE '%/P008'"
        ).fetchall()[0]
        facts = conn.execute(
            "SELECT election_id, precinct_id, region_id, protocol_version, registered_voters, "
            "ballots_issued, ballots_cast, invalid_ballots, against_all "
            "FROM protocol_facts WHERE position = ?",
            [event[0]],
        ).fetchall()[0]
        votes = dict(
            conn.execute(
                "SELECT list_id, votes FROM protocol_votes WHERE position = ?", [event[0]]
            ).fetchall()
        )
    assert set(votes) == set(LISTS)
    votes_text = "".join(_lp(list_id) + _lp(votes[list_id]) for list_id in sorted(votes))
    facts_text = "".join(_lp(v) for v in facts) + _lp(votes_text)
    position, stream, version, kind, election, occurred, recorded, batch, payload, prev, stored = event
    content = "".join(
        _lp(v) for v in (position, stream, version, kind, election, _stamp(occurred), _stamp(recorded), batch)
    )
    content += _lp(payload) + _lp(facts_text) + _lp(None)  # no declared precincts in this event
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
    assert stored == hashlib.sha256((prev + digest).encode("ascii")).hexdigest()


def test_list_ids_that_are_not_sql_names_are_stored_and_verified(tmp_path: Path) -> None:
    """List ids name columns of the protocol file and of the SQL that appends it: any text must do."""
    ids = ["it's", 'say "no"', "a; DROP TABLE events; --", "ünï cödé"]
    folder = tmp_path / "in"
    folder.mkdir()
    declaration = {
        "election_id": "odd-lists",
        "name": "Odd list ids",
        "date": "2021-01-10",
        "rule_profile": "kz-mazhilis-2021",
        "lists": [{"list_id": i, "name": f"List {n}", "ballot_order": n} for n, i in enumerate(ids, 1)],
        "regions": [{"region_id": "north", "name": "North"}],
        "precincts": [{"precinct_id": "P1", "region_id": "north", "registered_voters": 1000}],
    }
    (folder / "odd-lists.election.json").write_text(json.dumps(declaration), encoding="utf-8")
    votes = [400, 100, 60, 20]
    row = {
        "election_id": "odd-lists",
        "precinct_id": "P1",
        "region": "north",
        "registered_voters": 1000,
        "ballots_cast": sum(votes) + 20,
        "invalid_ballots": 20,
        **dict(zip(ids, votes, strict=True)),
    }
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    (folder / "odd.csv").write_text(buffer.getvalue(), encoding="utf-8")
    summary = ingest_paths([folder], warehouse=tmp_path / "wh")
    assert [f.rows_applied for f in summary.files] == [0, 1]
    paths = WarehousePaths(tmp_path / "wh")
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        stored = dict(conn.execute("SELECT list_id, votes FROM protocol_votes").fetchall())
        assert verify_connection(conn, paths).intact
        assert conn.execute("SELECT count(*) FROM events").fetchall()[0][0] > 0
    assert stored == dict(zip(ids, votes, strict=True))


def test_a_file_whose_every_row_is_refused_appends_no_protocol(tmp_path: Path, warehouse: Path) -> None:
    bad = [protocol("P001", invalid=-5), protocol("P999")]  # a negative count; an undeclared precinct
    outcome = _ingest(warehouse, write_protocols(tmp_path / "in", "bad.csv", bad))
    assert (outcome.status, outcome.rows_applied, outcome.rows_quarantined) == ("quarantined", 0, 2)
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        kinds = conn.execute("SELECT DISTINCT event_type FROM events WHERE batch_id = ?", [outcome.batch_id])
        assert {k for (k,) in kinds.fetchall()} == {"BatchReceived", "RowQuarantined"}
